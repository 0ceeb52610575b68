"""Cross-file analysis on tests/fixtures/crossfile_project: URLconf wrappers, template chains,
context processors, one-hop helpers, and shapes seen in public projects (an app named `test`,
`cache_page` rebound under `if settings.DEBUG:`, `cache_page(...)(super().dispatch)`,
`cache_page(timeout=..., key_prefix=...)` around `as_view()`, third-party cache tags)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples

ROOT = Path(__file__).parent / "fixtures" / "crossfile_project"
DEFAULT_ON = sorted(code for code, rule in all_rules().items() if rule.default_enabled)


@pytest.fixture(scope="module")
def result():
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return run(ROOT, DEFAULT_ON, config=Config(cache=False))


def finding(result, path, line):
    return next(f for f in result.findings if (f.location.path, f.location.line) == (path, line))


def related(f):
    return [(e.location.path, e.location.line, e.label) for e in f.related]


def test_exactly_the_marked_findings(result):
    files = {
        p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in ROOT.rglob("*") if p.is_file()
    }
    assert result.errors == []
    assert triples(result) == expected_markers(files)


def test_urlconf_as_view_with_context_processor_evidence(result):
    f = finding(result, "mysite/urls.py", 11)
    assert related(f) == [
        ("mysite/urls.py", 11, "renders `news/about.html`"),
        ("news/templates/news/about.html", 1, "extends `base.html`"),
        ("templates/base.html", 2, "template prints `cart_count` here"),
        ("mysite/context_processors.py", 2, "context processor `cart` reads `request.session` here"),
    ]


def test_template_that_overrides_the_personal_block_is_public(result):
    assert not [f for f in result.findings if f.location.path == "mysite/urls.py" and f.location.line == 13]


def test_one_hop_helper_reading_the_session(result):
    f = finding(result, "news/views.py", 16)
    assert related(f) == [
        ("news/views.py", 18, "passes the request to `get_cart` here"),
        ("news/helpers.py", 2, "`get_cart` reads `request.session` here"),
    ]


def test_helper_that_does_not_read_the_user_is_not_evidence(result):
    assert not [f for f in result.findings if f.location.path == "news/views.py" and f.location.line == 21]


def test_csrf_through_include_names_the_token(result):
    f = finding(result, "news/templates/news/contact.html", 7)
    assert ("news/templates/news/form.html", 1, "CSRF token here") in related(f)
