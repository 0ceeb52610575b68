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


# -- file-level pragmas, codeless regions, case-insensitive noqa ---------------------

OTHER_LEAK = """

@login_required
@cache_page(60)
def settings_page(request):
    return None
"""


def test_noqa_is_case_insensitive(tmp_path, monkeypatch):
    for comment in ("  # NOQA: CL101", "  # NoQa: cl101", "  # CACHELINT: IGNORE[CL101]"):
        result = scan(tmp_path, monkeypatch, {"app/views.py": LEAK.format(comment=comment)}, ("CL101",))
        assert triples(result) == [], comment
        assert result.suppressed == 1
    result = scan(tmp_path, monkeypatch, {"app/views.py": LEAK.format(comment="  # NOQA")}, ("CL101",))
    assert triples(result) == [("app/views.py", 6, "CL101")]  # bare, in any case, still not


def test_file_level_noqa_silences_every_code_in_the_file(tmp_path, monkeypatch):
    source = "# cachelint: noqa\n" + LEAK.format(comment="") + OTHER_LEAK
    files = {"app/views.py": source, "app/other.py": LEAK.format(comment="")}
    result = scan(tmp_path, monkeypatch, files, ("CL101", "CL002"))
    assert triples(result) == [("app/other.py", 6, "CL101")]  # only the file that says so
    assert result.suppressed == 2


def test_file_level_noqa_with_codes(tmp_path, monkeypatch):
    source = "# cachelint: noqa: CL102, CL101\n" + LEAK.format(comment="")
    result = scan(tmp_path, monkeypatch, {"app/views.py": source}, ("CL101", "CL002"))
    assert triples(result) == []
    source = "# cachelint: noqa: CL102\n" + LEAK.format(comment="")
    result = scan(tmp_path, monkeypatch, {"app/views.py": source}, ("CL101", "CL102", "CL002"))
    # CL101 is not named; CL102 is named but unused: CL002 says so at the pragma
    assert triples(result) == [("app/views.py", 1, "CL002"), ("app/views.py", 7, "CL101")]


def test_file_level_noqa_must_be_alone_on_its_line(tmp_path, monkeypatch):
    source = "x = 1  # cachelint: noqa\n" + LEAK.format(comment="")
    result = scan(tmp_path, monkeypatch, {"app/views.py": source}, ("CL101",))
    assert triples(result) == [("app/views.py", 7, "CL101")]
    source = '"""\n# cachelint: noqa\n"""\n' + LEAK.format(comment="")  # a docstring line counts too (textual, like ruff)
    result = scan(tmp_path, monkeypatch, {"app/views.py": source}, ("CL101",))
    assert triples(result) == []


def test_template_file_level_noqa(tmp_path, monkeypatch):
    template = "{% load cache %}\n{# cachelint: noqa #}\n{% cache 600 nav %}{% endcache %}\n"
    result = scan(tmp_path, monkeypatch, {"templates/base.html": template})
    assert triples(result) == []
    assert result.suppressed == 1


def test_codeless_template_region_silences_every_code(tmp_path, monkeypatch):
    template = """{% load cache %}
{% cache 600 before %}{% endcache %}
{# cachelint:off #}
{% cache 600 nav %}{{ user.username }}{% endcache %}
{# cachelint:on #}
{% cache 600 after %}{% endcache %}
{# CACHELINT:OFF #}
{% cache 600 tail %}{% endcache %}
"""
    result = scan(tmp_path, monkeypatch, {"templates/base.html": template})
    assert triples(result) == [("templates/base.html", 2, "CL201"), ("templates/base.html", 6, "CL201")]
    assert result.suppressed == 3  # CL201 and CL202 on line 4, CL201 on line 8 (never turned on)
