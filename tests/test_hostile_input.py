"""More hostile input: template cycles, BOM and old line endings, a 20 MB generated file."""

from __future__ import annotations

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
