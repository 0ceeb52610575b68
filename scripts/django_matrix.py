"""Check that cachelint works with every supported Django and never changes the user's Django.

For each Django series (default: 3.2, 4.2, 5.2, 6.0) this creates a fresh virtualenv, installs
that Django first (as a project pinned to it would have), then installs cachelint from this
checkout the ordinary way (``pip install .``), and checks:

* the Django version is the same before and after installing cachelint;
* Django's template lexer, as cachelint drives it, yields the expected template facts;
* ``cachelint check`` on a copy of tests/django_project reports its known leak (CL101);
* ``manage.py check`` with the ``cachelint.django`` app reports it as ``cachelint.CL101``;
* the installed size of cachelint and its dependencies, Django and Django's own dependencies
  excepted (from the installed files' RECORD).

Usage::

    python scripts/django_matrix.py                    # all four series, a table
    python scripts/django_matrix.py --versions 3.2 --json

It needs the package index (pip downloads Django and cachelint's dependencies). A Django whose
``Requires-Python`` excludes this interpreter (Django 6.0 wants 3.12+) is installed with
``--ignore-requires-python``, and the report says so. Exit status 0 when every series passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests" / "django_project"
SERIES = ("3.2", "4.2", "5.2", "6.0")
# The oldest Python each series declares (Requires-Python).
MIN_PYTHON = {"3.2": (3, 6), "4.2": (3, 8), "5.2": (3, 10), "6.0": (3, 12)}
TIMEOUT = 600

# Run inside the new virtualenv: what cachelint makes of one template with Django's lexer.
LEXER_PROBE = textwrap.dedent(
    """
    import json
    import django
    from cachelint.facts.templates import parse_template

    text = (
        "{% extends 'base.html' %}\\n"
        "{% load cache static %}\\n"
        "{% block content %}\\n"
        "{% cache 600 sidebar %}\\n"
        "  <form method=post>{% csrf_token %}</form>\\n"
        "  {{ user.username }}\\n"
        "{% endcache %}\\n"
        "{% verbatim %}{{ not_a_variable }}{% endverbatim %}\\n"
        "{# a comment #}<img src=\\"/static/logo.png\\">\\n"
        "{% endblock %}\\n"
    )
    facts = parse_template(text, "t.html")
    [cache] = facts.caches
    print(json.dumps({
        "django": django.get_version(),
        "problems": [list(p[0:1]) for p in facts.problems],
        "extends": facts.extends[0] if facts.extends else None,
        "cache_line": cache.span.line,
        "blocks": sorted(b.name for b in facts.blocks),
        "uses": sorted({u.expression for u in facts.uses}),
        "literal_urls": [u for u, _ in facts.literal_urls],
    }))
    """
)
EXPECTED_LEXER = {
    "problems": [],
    "extends": "base.html",
    "cache_line": 4,
    "blocks": ["content"],
    "literal_urls": ["/static/logo.png"],
}


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)  # type: ignore[call-overload]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("DJANGO_", "CACHELINT_"))
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1", **extra)
    return env


def installed_size(python: str) -> dict[str, int]:
    """Bytes on disk of each installed distribution cachelint pulls in, Django's excepted."""
    script = textwrap.dedent(
        """
        import json, os, re
        from importlib import metadata

        def name(text):
            return re.split(r"[ ;<>=!~\\[(]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")

        def closure(root):
            seen, todo = set(), [root]
            while todo:
                dist_name = todo.pop()
                if dist_name in seen:
                    continue
                try:
                    dist = metadata.distribution(dist_name)
                except metadata.PackageNotFoundError:
                    continue
                seen.add(dist_name)
                for requirement in dist.requires or []:
                    if "extra ==" in requirement:
                        continue
                    todo.append(name(requirement))
            return seen

        wanted = closure("django-cachelint") - closure("django")
        sizes = {}
        for dist_name in sorted(wanted):
            dist = metadata.distribution(dist_name)
            total = 0
            for file in dist.files or []:
                path = file.locate()
                if os.path.isfile(path):
                    total += os.path.getsize(path)
            sizes[dist_name] = total
        print(json.dumps(sizes))
        """
    )
    done = run([python, "-c", script], env=clean_env())
    done.check_returncode()
    return json.loads(done.stdout)


def check_series(series: str, workdir: Path) -> dict[str, object]:
    started = time.monotonic()
    report: dict[str, object] = {"series": series, "ok": False, "notes": []}
    notes: list[str] = report["notes"]  # type: ignore[assignment]
    venv = workdir / f"venv-{series}"
    run([sys.executable, "-m", "venv", str(venv)]).check_returncode()
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet"]
    if sys.version_info[:2] < MIN_PYTHON[series]:
        pip.append("--ignore-requires-python")
        notes.append(
            f"Django {series} declares Python >= {'.'.join(map(str, MIN_PYTHON[series]))}; "
            f"installed on {sys.version_info.major}.{sys.version_info.minor} with --ignore-requires-python"
        )
    done = run([*pip, f"Django~={series}.0"], env=clean_env())
    if done.returncode:
        notes.append(f"cannot install Django {series}: {done.stderr.strip()[-500:]}")
        return report

    def django_version() -> str:
        return run([python, "-c", "import django; print(django.get_version())"], env=clean_env()).stdout.strip()

    before = django_version()
    done = run([*pip, str(ROOT)], env=clean_env())
    if done.returncode:
        notes.append(f"cannot install cachelint: {done.stderr.strip()[-500:]}")
        return report
    after = django_version()
    report.update(django_before=before, django_after=after, django_unchanged=before == after)

    probe = run([python, "-c", LEXER_PROBE], env=clean_env())
    lexer = json.loads(probe.stdout) if probe.returncode == 0 else {"error": probe.stderr.strip()[-800:]}
    report["lexer"] = lexer
    report["lexer_ok"] = all(lexer.get(k) == v for k, v in EXPECTED_LEXER.items()) and "user.username" in lexer.get(
        "uses", []
    )

    project = workdir / f"project-{series}"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__", ".cachelint_cache", "*.sqlite3"))
    cachelint = str(venv / "bin" / "cachelint")
    done = run([cachelint, "check", "--no-cache", "--format", "concise", "."], cwd=project, env=clean_env())
    if done.returncode not in (0, 1) or "--format" in done.stderr:  # an older cachelint without concise
        done = run([cachelint, "check", "--no-cache", "."], cwd=project, env=clean_env())
    report["cli_exit"] = done.returncode
    report["cli_ok"] = done.returncode == 1 and "CL101" in done.stdout
    if not report["cli_ok"]:
        notes.append(f"cachelint check: {(done.stdout + done.stderr).strip()[-800:]}")

    done = run(
        [python, "manage.py", "check", "--tag", "cachelint"],
        cwd=project,
        env=clean_env(DJANGO_SETTINGS_MODULE="testproj.settings", DJANGO_COLORS="nocolor"),
    )
    output = done.stdout + done.stderr
    report["system_check_ok"] = "(cachelint.CL101)" in output and "Traceback" not in output
    if not report["system_check_ok"]:
        notes.append(f"manage.py check: {output.strip()[-800:]}")

    sizes = installed_size(python)
    report["installed_bytes"] = sizes
    report["installed_total"] = sum(sizes.values())
    report["seconds"] = round(time.monotonic() - started, 1)
    report["ok"] = bool(
        report["django_unchanged"] and report["lexer_ok"] and report["cli_ok"] and report["system_check_ok"]
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(SERIES), help="comma-separated Django series")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--keep", type=Path, help="build the virtualenvs in this directory and keep them")
    args = parser.parse_args(argv)
    wanted = [v.strip() for v in args.versions.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in MIN_PYTHON]
    if unknown:
        parser.error(f"unknown Django series: {', '.join(unknown)} (known: {', '.join(SERIES)})")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="cachelint-django-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        reports = [check_series(series, workdir) for series in wanted]
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        print(f"{'Django':<8} {'installed':<10} {'unchanged':<10} {'lexer':<6} {'cli':<5} {'checks':<7} {'size':>8}  time")
        for r in reports:
            mark = lambda key, r=r: "ok" if r.get(key) else "FAIL"  # noqa: E731
            size = f"{r.get('installed_total', 0) / 1e6:.1f} MB" if "installed_total" in r else "-"
            print(
                f"{r['series']:<8} {r.get('django_after', '-'):<10} {mark('django_unchanged'):<10} "
                f"{mark('lexer_ok'):<6} {mark('cli_ok'):<5} {mark('system_check_ok'):<7} {size:>8}  "
                f"{r.get('seconds', '-')} s"
            )
            for note in r["notes"]:  # type: ignore[union-attr]
                print(f"  note: {note}")
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
