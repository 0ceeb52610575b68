"""Inline suppressions and CL002 unused-suppression."""

from __future__ import annotations

from tests.helpers import run, triples, write_tree

LEAK = """from django.contrib.auth.decorators import login_required
from django.views.decorators.cache import cache_page


@login_required
@cache_page(60){comment}
def dashboard(request):
    return None
"""


def scan(tmp_path, monkeypatch, files, select=("CL101", "CL201", "CL202", "CL002")):
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    return run(tmp_path, list(select))


def test_python_noqa_and_ignore_comments(tmp_path, monkeypatch):
    for comment in ("  # noqa: CL101", "  # cachelint: ignore[CL101]", "  # noqa: E501, CL101"):
        result = scan(tmp_path, monkeypatch, {"app/views.py": LEAK.format(comment=comment)})
        assert triples(result) == [], comment
        assert result.suppressed == 1


def test_bare_noqa_and_other_codes_do_not_silence(tmp_path, monkeypatch):
    for comment in ("  # noqa", "  # noqa: CL102"):
        result = scan(tmp_path, monkeypatch, {"app/views.py": LEAK.format(comment=comment)}, ("CL101",))
        assert triples(result) == [("app/views.py", 6, "CL101")], comment


def test_template_region_pragmas(tmp_path, monkeypatch):
    template = """{% load cache %}
{# cachelint:off CL201 #}
{% cache 600 nav %}{% endcache %}
{% cache 600 footer %}{% endcache %}
{# cachelint:on #}
{% cache 600 sidebar %}{% endcache %}
{% cache 600 header %}{% endcache %}{# noqa: CL201 #}
"""
    result = scan(tmp_path, monkeypatch, {"templates/base.html": template})
    assert triples(result) == [("templates/base.html", 6, "CL201")]
    assert result.suppressed == 3


def test_unused_suppression_is_reported_only_for_enabled_rules(tmp_path, monkeypatch):
    views = """from django.views.decorators.cache import cache_page


@cache_page(60)  # noqa: CL101
def about(request):
    return None


@cache_page(60)  # noqa: CL999, CL104
def contact(request):
    return None
"""
    result = scan(tmp_path, monkeypatch, {"app/views.py": views})
    assert triples(result) == [("app/views.py", 4, "CL002")]
    assert result.findings[0].message == "unused suppression: no CL101 finding on this line"


def test_used_suppression_is_not_reported_as_unused(tmp_path, monkeypatch):
    result = scan(tmp_path, monkeypatch, {"app/views.py": LEAK.format(comment="  # noqa: CL101")})
    assert triples(result) == []
