"""More hostile input: template cycles, BOM and old line endings, a 20 MB generated file."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from cachelint import baseline as baseline_module
from cachelint import engine, reading, reporters
from cachelint.registry import all_rules
from tests.helpers import run, triples, write_tree

LEAK = (
    "from django.contrib.auth.decorators import login_required\n"
    "from django.views.decorators.cache import cache_page\n"
    "\n"
    "\n"
    "@login_required\n"
    "@cache_page(60)\n"
    "def dashboard(request):\n"
    "    return None\n"
)


def scan(tmp_path, monkeypatch, files):
    write_tree(tmp_path, {"manage.py": "", **files})
    monkeypatch.chdir(tmp_path)
    return run(tmp_path, ["ALL"])


def test_extends_and_include_cycles_terminate(tmp_path, monkeypatch):
    views = (
        "from django.shortcuts import render\nfrom django.views.decorators.cache import cache_page\n\n\n"
        "@cache_page(60)\ndef home(request):\n    return render(request, 'a.html')\n"
    )
    files = {
        "app/views.py": views,
        "app/templates/a.html": '{% extends "b.html" %}{% block x %}{{ user.username }}{% endblock %}',
        "app/templates/b.html": '{% extends "a.html" %}{% block x %}{% endblock %}',
        "app/templates/c.html": '{% include "d.html" %}',
        "app/templates/d.html": '{% include "c.html" %}{{ request.user.email }}',
        "app/templates/e.html": '{% load cache %}{% cache 60 e_v1 %}{% include "c.html" %}{% endcache %}',
    }
    result = scan(tmp_path, monkeypatch, files)
    assert result.errors == []
    assert ("app/templates/e.html", 1, "CL202") in triples(result)


def test_bom_crlf_and_cr_python_files_are_analysed_at_the_right_lines(tmp_path, monkeypatch):
    files = {
        "app/bom.py": b"\xef\xbb\xbf" + LEAK.encode(),
        "app/crlf.py": LEAK.replace("\n", "\r\n").encode(),
        "app/cr.py": LEAK.replace("\n", "\r").encode(),
    }
    result = scan(tmp_path, monkeypatch, files)
    assert triples(result) == [("app/bom.py", 6, "CL101"), ("app/cr.py", 6, "CL101"), ("app/crlf.py", 6, "CL101")]
    assert {f.location.col for f in result.findings} == {2}


def test_a_20_mb_generated_file_is_skipped_with_a_finding(tmp_path, monkeypatch):
    generated = "# generated: cache_page\n" + "".join(f"V{i} = {i}\n" for i in range(1_600_000))
    assert len(generated) > 20_000_000
    result = scan(tmp_path, monkeypatch, {"app/generated.py": generated, "app/views.py": LEAK})
    assert triples(result) == [("app/generated.py", 1, "CL001"), ("app/views.py", 6, "CL101")]
    assert "skipped: file is larger than 2000000 bytes" in result.findings[0].message


# --- files that are not regular files ---------------------------------------------------------


def cli_run(root, *args, env=None, timeout=60):
    """``python -m cachelint check`` in ``root``, in a subprocess: a blocking read fails the test
    with a timeout instead of hanging the suite."""
    environment = {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(root.parent / "user-cache"), **(env or {})}
    environment.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--select", "ALL", "--format", "json", *args],
        cwd=root, capture_output=True, text=True, timeout=timeout, env=environment,
    )


def json_triples(stdout):
    return sorted((f["location"]["path"], f["location"]["line"], f["code"]) for f in json.loads(stdout)["findings"])


@pytest.mark.slow
def test_fifos_and_devices_are_refused_by_name_and_the_scan_goes_on(tmp_path):
    root = tmp_path / "project"
    write_tree(root, {"manage.py": "", "app/leak.py": LEAK, "app/templates/ok.html": "{{ x }}"})
    fifos = ["app/views.py", "app/templates/page.html", ".gitignore", "requirements.txt", "poetry.lock",
             "setup.cfg", "Pipfile.lock", ".cachelint_cache/facts-00.pickle"]
    for relative in fifos:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / relative)
    (root / "app/zero.py").symlink_to("/dev/zero")
    proc = cli_run(root, ".")
    assert proc.returncode == 2, proc.stderr
    assert json_triples(proc.stdout) == [
        ("app/leak.py", 6, "CL101"),
        ("app/templates/page.html", 1, "CL001"),
        ("app/views.py", 1, "CL001"),
    ]
    messages = {f["location"]["path"]: f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert messages["app/views.py"] == "cannot read file: not a regular file (a FIFO)"
    assert messages["app/templates/page.html"] == "cannot read file: not a regular file (a FIFO)"
    assert sorted(json.loads(proc.stdout)["errors"]) == sorted(
        f"{name}: cannot read: not a regular file (a FIFO)"
        for name in (".gitignore", "requirements.txt", "poetry.lock", "setup.cfg", "Pipfile.lock")
    )
    # The FIFO is never read (the run did not block) and the cache was still written.
    assert list((root / ".cachelint_cache").glob("facts-*.pickle"))
    # A link to /dev/zero given as an argument (the walk itself never follows links out).
    proc = cli_run(root, "app/zero.py", "app/leak.py")
    assert json_triples(proc.stdout) == [("app/leak.py", 6, "CL101"), ("app/zero.py", 1, "CL001")]
    assert json.loads(proc.stdout)["findings"][1]["message"] == (
        "cannot read file: not a regular file (a character device)"
    )


@pytest.mark.slow
def test_baseline_symlinked_to_dev_zero_is_a_clean_error(tmp_path):
    root = tmp_path / "project"
    write_tree(root, {"manage.py": "", "app/leak.py": LEAK, "pyproject.toml": '[tool.cachelint]\nbaseline = "b.json"\n'})
    (root / "b.json").symlink_to("/dev/zero")
    proc = cli_run(root, "--no-cache", ".")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["errors"] == [
        f"{root / 'b.json'}: cannot read baseline: not a regular file (a character device)"
    ]


def test_reader_refuses_what_is_not_a_regular_file_and_what_is_too_large(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"x" * 11)
    for path, message in [
        (tmp_path / "fifo", "not a regular file (a FIFO)"),
        ("/dev/null", "not a regular file (a character device)"),
        (tmp_path, "not a regular file (a directory)"),
        (tmp_path / "big", "file is larger than 10 bytes"),
    ]:
        with pytest.raises(reading.Refused) as refused:
            reading.read_bytes(path, 10)
        assert refused.value.strerror == message
    data, stat = reading.read_bytes(tmp_path / "big", 11)
    assert data == b"x" * 11 and stat.st_size == 11


def test_a_file_above_max_file_size_is_not_read_for_suppressions_or_quotes(tmp_path, monkeypatch):
    """Skipped means not read: not for its ``noqa`` comments, not for its baseline fingerprint,
    not to quote it. (A big file's own ``# noqa: CL001`` therefore no longer hides its CL001.)"""
    big = "# noqa: CL001 QUOTE-ME\n" + "# padding\n" * 300_000
    write_tree(tmp_path, {"manage.py": "", "app/big.py": big, "app/views.py": LEAK})
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []
    original = reading.read_bytes

    def spy(path, limit=reading.AUXILIARY_LIMIT):
        data, stat = original(path, limit)
        opened.append(os.path.basename(path))
        return data, stat

    monkeypatch.setattr(reading, "read_bytes", spy)
    for module in (engine, baseline_module, reporters):
        monkeypatch.setattr(module, "read_bytes", spy, raising=False)
    result = scan(tmp_path, monkeypatch, {})
    assert triples(result) == [("app/big.py", 1, "CL001"), ("app/views.py", 6, "CL101")]
    baseline_module.new_findings(result.findings, Counter(), tmp_path)
    stream = io.StringIO()
    reporters.write_report("text", result.findings, all_rules(), stream, color=False)
    assert "QUOTE-ME" not in stream.getvalue() and "| # padding" not in stream.getvalue()
    assert "big.py" not in opened and "views.py" in opened


# --- the result cache ---------------------------------------------------------------------------

SAFE = LEAK.replace("@login_required\n", "")  # no CL101 any more


def cached_run(root):
    from cachelint.config import Config

    return run(root, ["ALL"], Config(cache=True))


@pytest.fixture
def cache_tree(tmp_path, monkeypatch):
    root = tmp_path / "project"
    write_tree(root, {"manage.py": "", "app/views.py": LEAK})
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return root


def test_a_file_edited_while_it_is_parsed_is_parsed_again_next_run(cache_tree, monkeypatch):
    views = cache_tree / "app/views.py"
    original = engine._analyse

    def edit_meanwhile(task, data):
        facts = original(task, data)
        if task.source.path == views:
            views.write_text(SAFE)  # the edit lands after the read, before the cache entry is made
            os.utime(views, ns=(views.stat().st_mtime_ns + 10**9,) * 2)
        return facts

    monkeypatch.setattr(engine, "_analyse", edit_meanwhile)
    assert triples(cached_run(cache_tree)) == [("app/views.py", 6, "CL101")]  # what it read
    monkeypatch.setattr(engine, "_analyse", original)
    assert triples(cached_run(cache_tree)) == []  # the new text, not the old facts


def test_a_cache_directory_symlink_is_never_followed(cache_tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (cache_tree / ".cachelint_cache").symlink_to(outside)
    result = cached_run(cache_tree)
    assert triples(result) == [("app/views.py", 6, "CL101")] and result.errors == []
    assert result.warnings == [".cachelint_cache: is a symlink, not followed: no result cache"]
    assert list(outside.iterdir()) == []


def test_a_full_disk_leaves_no_partial_key_gitignore_or_cache(cache_tree, tmp_path, monkeypatch):
    from cachelint import cache

    def full(stream, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "_write", full)
    assert triples(cached_run(cache_tree)) == [("app/views.py", 6, "CL101")]
    key_dir = tmp_path / "user-cache" / "cachelint"
    assert list(key_dir.iterdir()) == []  # no empty key that would disable the cache for good
    monkeypatch.undo()
    monkeypatch.chdir(cache_tree)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    cached_run(cache_tree)  # space again: a key, then a cache
    assert len((key_dir / "key").read_bytes()) == 32
    monkeypatch.setattr(cache, "_write", full)
    (cache_tree / "app/views.py").write_text(SAFE)  # something new to save
    cached_run(cache_tree)
    directory = cache_tree / ".cachelint_cache"
    names = sorted(p.name for p in directory.iterdir())
    assert names[0] == ".gitignore" and names[1:] and all(re.fullmatch(r"facts-[0-9a-f]{2}\.pickle", n) for n in names[1:])


def test_an_empty_key_or_gitignore_left_by_a_full_disk_is_replaced(cache_tree, tmp_path):
    key = tmp_path / "user-cache" / "cachelint" / "key"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"")
    (cache_tree / ".cachelint_cache").mkdir()
    (cache_tree / ".cachelint_cache" / ".gitignore").write_bytes(b"")
    cached_run(cache_tree)
    assert len(key.read_bytes()) == 32
    assert (cache_tree / ".cachelint_cache" / ".gitignore").read_text() == "# Created by cachelint\n*\n"
    assert all(p.stat().st_size > 32 for p in (cache_tree / ".cachelint_cache").glob("facts-*.pickle"))
    assert list((cache_tree / ".cachelint_cache").glob("facts-*.pickle"))


# --- cost of deep templates -------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "fan_out"), [(20, 2), (16, 3)])
def test_include_chains_are_expanded_once_per_template(tmp_path, monkeypatch, depth, fan_out):
    """Every level includes the next one ``fan_out`` times: 2**20 paths, expanded per path before."""
    from cachelint.project import ProjectModel

    files = {
        f"app/templates/level{i}.html": "".join(f'{{% include "level{i + 1}.html" %}}' for _ in range(fan_out))
        for i in range(depth)
    }
    files[f"app/templates/level{depth}.html"] = "{{ user.username }}"
    files["app/templates/page.html"] = '{% load cache %}{% cache 60 nav_v1 %}{% include "level0.html" %}{% endcache %}'
    calls = []
    original = ProjectModel._rendered

    def counting(self, *args):
        calls.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(ProjectModel, "_rendered", counting)
    result = scan(tmp_path, monkeypatch, files)
    assert ("app/templates/page.html", 1, "CL202") in triples(result)
    assert calls.count("level0.html") == 1 and calls.count(f"level{depth}.html") == 1  # was fan_out**depth
    assert len(calls) <= depth + 1
    finding = next(f for f in result.findings if f.code == "CL202")
    # The evidence is the first path: level0 -> level1 -> ... -> the leaf's {{ user.username }}.
    assert [e.location.path for e in finding.related][-1] == f"app/templates/level{depth}.html"


@pytest.mark.slow
def test_40000_nested_for_with_and_cache_levels_are_linear(tmp_path):
    """Each tag used to look through every open region: 40,000 levels took a minute. A
    subprocess with a generous timeout, so that a regression fails instead of hanging."""
    levels = 40_002 // 3
    opening = "".join(
        f"{{% for x{i} in items %}}{{% with y{i}=user.username %}}{{% cache 1 f{i} y{i} %}}{{{{ y{i} }}}}"
        for i in range(levels)
    )
    text = "{% load cache %}" + opening + "{% endcache %}{% endwith %}{% endfor %}" * levels
    (tmp_path / "deep.html").write_text(text)
    script = (
        "import sys; from cachelint.facts.templates import parse_template\n"
        "facts = parse_template(open(sys.argv[1]).read(), 'deep.html')\n"
        "print(len(facts.uses), len(facts.caches), facts.problems, facts.caches[0].varies_by_user,"
        " sorted(facts.caches[0].tags_inside), sorted(facts.caches[-1].tags_inside))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "deep.html")], capture_output=True, text=True, timeout=150
    )
    assert proc.stdout.split(None, 3)[:3] == [str(3 * levels), str(levels), "()"], proc.stderr
    assert proc.stdout.strip().endswith("True ['cache', 'for', 'with'] []")


# --- user regular expressions ---------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"(a|ab)*c", r"(?:x{2,3})*$", r"(?=(\w+)+!)"])
def test_fragment_version_pattern_that_backtracks_exponentially_is_a_config_error(tmp_path, pattern):
    """``^(a+)+$`` took 50 s on one 30-character fragment name."""
    from cachelint.config import ConfigError, load_config

    (tmp_path / "pyproject.toml").write_text(f"[tool.cachelint]\nfragment-version-pattern = '{pattern}'\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert str(error.value).startswith(f"{tmp_path / 'pyproject.toml'}: `fragment-version-pattern` repeats a group")


@pytest.mark.parametrize("pattern", [r"(?:^|[^a-zA-Z0-9])v\d+(?:$|[^0-9])", r"_v\d+$", r"(?:ver|v)\d+", r"(?:ab)+"])
def test_ordinary_fragment_version_patterns_are_accepted(tmp_path, pattern):
    from cachelint.config import load_config

    (tmp_path / "pyproject.toml").write_text(f"[tool.cachelint]\nfragment-version-pattern = '{pattern}'\n")
    assert load_config(tmp_path).fragment_version_pattern == pattern


def test_fragment_version_pattern_error_from_the_command_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cachelint.cli import cli

    write_tree(tmp_path, {"manage.py": "", "pyproject.toml": "[tool.cachelint]\nfragment-version-pattern = '^(a+)+$'\n"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "."])
    assert result.exit_code == 2
    assert "`fragment-version-pattern` repeats a group" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
