"""Hostile and broken input: every case ends in a CL001 finding (path + reason) or a one-line
error, never a traceback, and the rest of the scan goes on: each tree also holds a real CL101
leak in another file, which must still be reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import write_tree

LEAK_VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60)
def dashboard(request):
    return None
"""
LEAK = ("app/leak.py", 6, "CL101")
BASE = {"manage.py": "", "app/__init__.py": "", "app/leak.py": LEAK_VIEWS}


def invoke(*args: str):
    runner = CliRunner(env={"NO_COLOR": "1", "FORCE_COLOR": None})
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def scan(root: Path, *paths: str) -> tuple[int, list[dict], list[str], str]:
    """Run ``cachelint check --format json`` (the working directory is already ``root``): exit code, findings, errors, stderr."""
    result = invoke("check", "--format", "json", "--select", "ALL", *(paths or (".",)))
    data = json.loads(result.stdout)
    return result.exit_code, data["findings"], data["errors"], result.stderr


def triples(findings: list[dict]) -> list[tuple[str, int, str]]:
    return sorted((f["location"]["path"], f["location"]["line"], f["code"]) for f in findings)


def cl001(findings: list[dict], path: str) -> dict:
    matches = [f for f in findings if f["code"] == "CL001" and f["location"]["path"] == path]
    assert len(matches) == 1, f"expected one CL001 for {path}, got {triples(findings)}"
    assert matches[0]["message"].strip()
    return matches[0]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, str | bytes]) -> Path:
        write_tree(tmp_path, {**BASE, **files})
        return tmp_path

    return make


# --- unparsable Python ----------------------------------------------------------------------


def test_syntax_error_in_views(tree):
    root = tree({"app/views.py": "from django.views.decorators.cache import cache_page\n\n@cache_page(60\ndef f(request):\n    pass\n"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/views.py", 4, "CL001")])
    finding = cl001(findings, "app/views.py")
    assert finding["message"].startswith("syntax error")
    assert finding["location"]["column"] == 5


def test_python2_print_statement(tree):
    root = tree({"app/py2.py": 'from django.views.decorators.cache import cache_page\nprint "x"\n'})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/py2.py", 2, "CL001")])
    assert cl001(findings, "app/py2.py")["message"].startswith("syntax error")


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xfe\x00cache_page", "NUL bytes"),  # UTF-16 BOM and a NUL
        (b"\xff\xfecache_page = 1\n", "cannot decode"),  # not UTF-8, no coding cookie
        (b'x = "\xe9t\xe9"  # cache_page\n', "cannot decode"),  # latin-1 without a cookie
        (b"# -*- coding: no-such-codec -*-\ncache_page = 1\n", "cannot decode"),
    ],
    ids=["bom-nul", "bom", "latin1", "bad-cookie"],
)
def test_undecodable_python(tree, data, reason):
    root = tree({"app/views.py": data})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/views.py", 1, "CL001")])
    assert reason in cl001(findings, "app/views.py")["message"]


def test_latin1_with_coding_cookie_is_parsed(tree):
    source = "# -*- coding: latin-1 -*-\n" + LEAK_VIEWS.replace("return None", "return 'caf\xe9'")
    root = tree({"app/views.py": source.encode("latin-1")})
    code, findings, errors, _ = scan(root)
    assert triples(findings) == sorted([LEAK, ("app/views.py", 7, "CL101")])


def test_binary_file_named_py(tree):
    root = tree({"app/x.py": b"\x7fELF\x02\x01\x01\x00\x00\x00cache_page\x00\x00\xff\xfe\x00"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/x.py", 1, "CL001")])
    assert "NUL" in cl001(findings, "app/x.py")["message"]


def test_undecodable_template(tree):
    root = tree({"app/templates/app/page.html": b"{% load cache %}\n\xff\xfe {{ user }}\n"})
    code, findings, errors, _ = scan(root)
    assert triples(findings) == sorted([LEAK, ("app/templates/app/page.html", 1, "CL001")])
    assert "cannot decode template" in cl001(findings, "app/templates/app/page.html")["message"]


def test_empty_python_files_are_fine(tree):
    root = tree({"app/empty.py": "", "app/settings.py": "", "app/__init__.py": ""})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == [LEAK]


# --- broken templates -------------------------------------------------------------------------


def test_unclosed_cache_tag(tree):
    root = tree({"app/templates/app/side.html": "{% load cache %}\n{% cache 50 x_v1 %}\n<ul></ul>\n"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/templates/app/side.html", 2, "CL001")])
    finding = cl001(findings, "app/templates/app/side.html")
    assert finding["message"] == "`{% cache %}` is never closed (no `{% endcache %}`)"
    assert (finding["location"]["column"], finding["location"]["end_column"]) == (1, 20)


def test_endblock_with_nothing_open(tree):
    root = tree({"app/templates/app/page.html": "<p>hi</p>\n{% endblock %}\n"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/templates/app/page.html", 2, "CL001")])
    assert "does not close anything" in cl001(findings, "app/templates/app/page.html")["message"]


def test_unclosed_tag_with_unknown_third_party_tags(tree):
    root = tree({"templates/x.html": "{% load foo %}{% weird a b %}{% block a %}{% cache 1 z_v1 %}{% endblock %}\n"})
    code, findings, errors, _ = scan(root)
    assert errors == []
    assert ("templates/x.html", 1, "CL001") in triples(findings)
    assert LEAK in triples(findings)


# --- paths and the file system ----------------------------------------------------------------


def test_nonexistent_path_is_a_one_line_error_and_scan_goes_on(tree):
    root = tree({})
    code, findings, errors, stderr = scan(root, "does/not/exist.py", "app")
    assert code == 2
    assert triples(findings) == [LEAK]
    assert errors == ["does/not/exist.py: no such file or directory"]
    assert stderr == "cachelint: error: does/not/exist.py: no such file or directory\n"


def test_nonexistent_path_text_format_still_prints_findings(tree):
    tree({})
    result = invoke("check", "app", "nope")
    assert result.exit_code == 2
    assert "app/leak.py:6:2: CL101 " in result.stdout
    assert "nope: no such file or directory" in result.output


def test_nonexistent_path_text_format_error_on_stderr(tree):
    tree({})
    result = invoke("check", "app", "nope")
    assert result.stderr == "cachelint: error: nope: no such file or directory\n"


def test_directory_named_like_a_python_file(tree):
    root = tree({"app/x.py/inner.py": LEAK_VIEWS})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    # Walked into as a directory; what it holds is checked; no CL001 for the directory itself.
    assert triples(findings) == sorted([LEAK, ("app/x.py/inner.py", 6, "CL101")])
    code, findings, errors, _ = scan(root, "app/x.py", "app/leak.py")
    assert errors == []
    assert triples(findings) == sorted([LEAK, ("app/x.py/inner.py", 6, "CL101")])


def test_symlink_named_like_python_file_pointing_to_a_directory(tree):
    root = tree({"app/real/placeholder.txt": "x"})
    os.symlink(root / "app" / "real", root / "app" / "link.py")
    code, findings, errors, _ = scan(root)
    assert errors == []
    # A symlink to a directory is not followed, whatever its name says.
    assert triples(findings) == [LEAK]


def test_symlink_pointing_outside_the_project_is_not_followed(tree, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "leak.py").write_text(LEAK_VIEWS, encoding="utf-8")
    root = tree({})
    os.symlink(outside / "leak.py", root / "app" / "borrowed.py")
    code, findings, errors, _ = scan(root)
    assert errors == [] and triples(findings) == [LEAK]


def test_symlink_loop_terminates(tmp_path):
    write_tree(tmp_path, BASE)
    os.symlink(tmp_path / "app", tmp_path / "app" / "loop")  # app/loop -> app
    os.symlink("..", tmp_path / "app" / "up")  # app/up -> the root
    os.symlink("self.py", tmp_path / "app" / "self.py")  # a link to itself
    env = {**os.environ, "NO_COLOR": "1"}
    for args in (["."], ["app/loop/loop/loop"], ["."]):
        proc = subprocess.run(
            [sys.executable, "-m", "cachelint", "check", "--format", "json", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
        )
        assert "Traceback" not in proc.stderr
        data = json.loads(proc.stdout)
        found = triples(data["findings"])
        if args == ["."]:
            assert proc.returncode == 1
            assert found == sorted([LEAK, ("app/self.py", 1, "CL001")])
            assert "cannot read file" in cl001(data["findings"], "app/self.py")["message"]
        else:
            # A symlinked folder is checked as the real folder it points to.
            assert LEAK in found


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tree):
    root = tree({"app/views.py": "from django.views.decorators.cache import cache_page\n"})
    (root / "app" / "views.py").chmod(0)
    try:
        code, findings, errors, _ = scan(root)
    finally:
        (root / "app" / "views.py").chmod(0o644)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/views.py", 1, "CL001")])
    assert "cannot read file" in cl001(findings, "app/views.py")["message"]


# --- size limit -------------------------------------------------------------------------------

# A CL101 leak small enough to pass a tight max-file-size (125 bytes).
COMPACT_LEAK = (
    "import django.contrib.auth.decorators as a, django.views.decorators.cache as c\n"
    "@a.login_required\n@c.cache_page(1)\ndef v(r): 0\n"
)


def test_file_larger_than_max_file_size_is_skipped(tree):
    big_settings = "DEBUG = False\n" + "# padding\n" * 100
    root = tree({
        "pyproject.toml": "[tool.cachelint]\nmax-file-size = 200\n",
        "app/leak.py": COMPACT_LEAK,
        "proj/settings.py": big_settings,
    })
    assert len(COMPACT_LEAK.encode()) < 200 < len(big_settings.encode())
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == [("app/leak.py", 3, "CL101"), ("proj/settings.py", 1, "CL001")]
    assert cl001(findings, "proj/settings.py")["message"] == "skipped: file is larger than 200 bytes"


def test_max_file_size_100(tree):
    root = tree({"pyproject.toml": "[tool.cachelint]\nmax-file-size = 100\n", "proj/settings.py": "DEBUG = False\n" * 20})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert cl001(findings, "proj/settings.py")["message"] == "skipped: file is larger than 100 bytes"
    # The leak file is bigger than 100 bytes too: skipped, not silently dropped.
    assert cl001(findings, "app/leak.py")["message"] == "skipped: file is larger than 100 bytes"


# --- modern syntax must parse ----------------------------------------------------------------


def test_python_312_syntax_parses_and_leak_is_reported(tree):
    views = """\
from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


def first[T](items: list[T]) -> T:
    return items[0]


class Box[T]:
    item: T


type Pair = tuple[int, int]


@login_required
@cache_page(60)
def dashboard(request):
    songs = [{"name": "a"}]
    title = f"{songs[0]["name"]} by {f"{"nested"}"}"
    return f"{'\\n'.join([title])}"
"""
    root = tree({"app/views.py": views})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/views.py", 17, "CL101")])


def test_deeply_nested_brackets_do_not_crash_the_process(tmp_path):
    # Run out of process: the crash would take pytest down with it.
    write_tree(tmp_path, {**BASE, "app/deep.py": "from django.views.decorators.cache import cache_page\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "cachelint", "check", "--format", "json", "."],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-500:])
    findings = json.loads(proc.stdout)["findings"]
    assert triples(findings) == sorted([LEAK, ("app/deep.py", 1, "CL001")])


def test_moderately_nested_brackets_parse(tree):
    root = tree({"app/deep.py": "from django.views.decorators.cache import cache_page\nx = " + "(" * 150 + "1" + ")" * 150 + "\n"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == [LEAK]


# --- cachelint's own bugs -----------------------------------------------------------------------


def test_dict_with_tuple_keys_is_evaluated_without_error(tree):
    root = tree({
        "app/choices.py": (
            "from django.core.cache import cache\n\n\n"
            "class Colors:\n"
            '    LABELS = {("red", 1): "Red", (("nested",), 2): "Nested"}\n'
        )
    })
    code, findings, errors, _ = scan(root)
    assert errors == [] and triples(findings) == [LEAK]


def test_internal_error_in_one_file_is_a_finding_and_the_scan_goes_on(tree, monkeypatch):
    from cachelint.facts import collector

    original = collector.collect

    def broken(source, path, *args):
        if path == "app/broken.py":
            raise ValueError("boom")
        return original(source, path, *args)

    monkeypatch.setattr(collector, "collect", broken)
    root = tree({"app/broken.py": "from django.core.cache import cache\n"})
    code, findings, errors, _ = scan(root)
    assert code == 1 and errors == []
    assert triples(findings) == sorted([LEAK, ("app/broken.py", 1, "CL001")])
    assert cl001(findings, "app/broken.py")["message"] == (
        "internal error while analysing this file (please report it): ValueError: boom"
    )


# --- unreadable directories, deep baselines, the warnings filter ------------------------------


def test_unreadable_directory_is_an_error_naming_it(tree, monkeypatch):
    """Tests run as root, who can read any directory: scandir's refusal is simulated."""
    root = tree({"app/secret/views.py": LEAK_VIEWS})
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(path) == "secret":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, findings, errors, _ = scan(root)
    assert code == 2
    assert errors == ["app/secret: cannot read directory: Permission denied"]
    assert triples(findings) == [LEAK]


def test_baseline_nested_100000_deep_is_not_a_baseline(tree):
    root = tree({"baseline.json": "[" * 100_000 + "]" * 100_000})
    result = invoke("check", "--baseline", "baseline.json", ".")
    assert result.exit_code == 2
    assert "internal error" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"cachelint: error: {root / 'baseline.json'}: not a cachelint baseline: nested too deeply"
    )


def test_parsing_does_not_depend_on_the_warnings_filter(tree):
    """An invalid escape warns when libcst evaluates the string; ``PYTHONWARNINGS=error`` must
    not turn that into a CL001 that hides the file's findings."""
    views = LEAK_VIEWS.replace("@cache_page(60)", '@cache_page(60, key_prefix="\\d")')
    root = tree({"app/leak.py": views})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, findings, errors, _ = scan(root)
    assert (code, errors) == (1, [])
    assert triples(findings) == [LEAK]
