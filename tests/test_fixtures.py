"""Golden tests on the realistic fixture projects in ``tests/fixtures/``.

``leaky_project`` puts every leak the implemented rules know next to its safe look-alike; each
expected finding is marked on its own line (``# expect: CL101`` in Python, ``{# expect: CL201 #}``
in templates), written from the SPEC (``RULES.md``), not from what the engine happens to do.
``clean_project`` caches correctly everywhere and must yield nothing at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.engine import Result
from cachelint.finding import Finding
from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples

FIXTURES = Path(__file__).parent / "fixtures"
LEAKY = FIXTURES / "leaky_project"
CLEAN = FIXTURES / "clean_project"
SOURCE_SUFFIXES = frozenset({".py", ".html", ".htm", ".txt", ".xml"})


def fixture_files(root: Path) -> dict[str, str]:
    """Every source file of a fixture project, by path relative to its root."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.is_file() and path.suffix in SOURCE_SUFFIXES:
            files[relative.as_posix()] = path.read_text(encoding="utf-8")
    return files


def line_of(root: Path, path: str, needle: str) -> int:
    """The 1-based number of the one line of ``root/path`` that contains ``needle``."""
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    numbers = [number for number, line in enumerate(lines, start=1) if needle in line]
    assert len(numbers) == 1, f"{path}: {needle!r} found on lines {numbers}, expected exactly one"
    return numbers[0]


DEFAULT_ON = sorted(code for code, rule in all_rules().items() if rule.default_enabled)


def scan_project(root: Path, select: list[str]) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # finding paths are relative to the working directory
        return run(root, select, config=Config(cache=False))


@pytest.fixture(scope="module")
def leaky() -> Result:
    """The default rule set, as a user gets it (opt-in rules would flag the leaks again)."""
    return scan_project(LEAKY, DEFAULT_ON)


@pytest.fixture(scope="module")
def clean() -> Result:
    """Every rule, opt-in ones included: the clean project is exemplary."""
    return scan_project(CLEAN, ["ALL"])


# --- golden tests ------------------------------------------------------------------------------


def test_leaky_project_has_markers_for_every_implemented_rule():
    expected = expected_markers(fixture_files(LEAKY))
    codes = {code for _, _, code in expected}
    assert {"CL001", "CL101", "CL102", "CL103", "CL104", "CL201", "CL301", "CL501"} <= codes
    assert codes <= set(DEFAULT_ON)


def test_leaky_project_yields_exactly_the_marked_findings(leaky):
    """Exact equality of (path, line, code) with the markers."""
    assert leaky.errors == []
    assert triples(leaky) == expected_markers(fixture_files(LEAKY))


def test_clean_project_yields_nothing(clean):
    assert clean.errors == []
    assert triples(clean) == []
    assert expected_markers(fixture_files(CLEAN)) == []


def test_clean_project_is_realistic():
    """The clean project exercises the same features as the leaky one, done right."""
    files = fixture_files(CLEAN)
    text = "\n".join(files.values())
    for feature in (
        "@cache_page(",
        "method_decorator(cache_page(",
        "{% cache ",
        "request.user.pk",
        "AllowAny",
        "SOCKET_TIMEOUT",
        "socket_timeout",
        "ManifestStaticFilesStorage",
        "from .base import *",
        "LoginRequiredMixin",
        "{% for user in ",
    ):
        assert feature in text, feature


# --- messages and evidence ---------------------------------------------------------------------


def _finding(result: Result, code: str, path: str, line: int) -> Finding:
    matches = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    assert len(matches) == 1, f"expected one {code} at {path}:{line}, got {matches}"
    return matches[0]


def _related(finding: Finding) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in finding.related]


LOGIN_FIRST = "`cache_page` on a login-protected view: the first user's response is stored and served to every later user"
CACHE_FIRST = (
    "`cache_page` on a login-protected view: the stored response is served before the login "
    "check, even to anonymous visitors"
)
PERSONALIZED = (
    "`cache_page` on a view whose output depends on the visitor: the response is cached under "
    "its URL alone and served to everyone"
)


def test_cl101_login_required_outside_cache_page(leaky):
    line = line_of(LEAKY, "shop/views.py", "def order_history(")
    finding = _finding(leaky, "CL101", "shop/views.py", line - 1)
    assert finding.message == LOGIN_FIRST
    assert _related(finding) == [("shop/views.py", line - 2, "`login_required` requires login here")]
    assert finding.hint and "vary_on_cookie" in finding.hint


def test_cl101_cache_page_outside_login_required(leaky):
    line = line_of(LEAKY, "shop/views.py", "def wishlist(")
    finding = _finding(leaky, "CL101", "shop/views.py", line - 2)
    assert finding.message == CACHE_FIRST
    assert _related(finding) == [("shop/views.py", line - 1, "`login_required` requires login here")]


def test_cl101_project_decorator_evidence_reaches_login_required(leaky):
    line = line_of(LEAKY, "accounts/views.py", "def rewards(")
    finding = _finding(leaky, "CL101", "accounts/views.py", line - 2)
    assert finding.message == CACHE_FIRST
    assert _related(finding) == [
        ("accounts/views.py", line - 1, "`customer_required` requires login here"),
        (
            "shop/decorators.py",
            line_of(LEAKY, "shop/decorators.py", "    @login_required"),
            "`customer_required` applies `login_required` here",
        ),
    ]


def test_cl101_project_mixin_evidence_is_the_mixin(leaky):
    line = line_of(LEAKY, "shop/views.py", "class AccountOverviewView(")
    finding = _finding(leaky, "CL101", "shop/views.py", line - 1)
    assert finding.message == CACHE_FIRST  # method_decorator on dispatch wraps the login check
    assert _related(finding) == [
        (
            "shop/mixins.py",
            line_of(LEAKY, "shop/mixins.py", "class CustomerRequiredMixin("),
            "`LoginRequiredMixin` requires login here",
        )
    ]


def test_cl101_drf_default_permission_evidence_is_the_settings(leaky):
    line = line_of(LEAKY, "shop/api.py", "class OrderListAPIView(")
    finding = _finding(leaky, "CL101", "shop/api.py", line + 3)
    assert finding.message == LOGIN_FIRST  # DRF checks permissions in dispatch, before get()
    assert _related(finding) == [
        (
            "mysite/settings/base.py",
            line_of(LEAKY, "mysite/settings/base.py", "REST_FRAMEWORK = {"),
            "DRF permission `IsAuthenticated` requires login here",
        )
    ]


def test_cl101_urlconf_wrapper(leaky):
    line = line_of(LEAKY, "shop/urls.py", "views.export_orders")
    finding = _finding(leaky, "CL101", "shop/urls.py", line)
    assert finding.message == CACHE_FIRST
    assert _related(finding) == [
        (
            "shop/views.py",
            line_of(LEAKY, "shop/views.py", "def export_orders(") - 1,
            "`login_required` requires login here",
        )
    ]


def test_cl102_evidence_chain_through_extends_to_user_username(leaky):
    line = line_of(LEAKY, "blog/views.py", "def post_list(")
    finding = _finding(leaky, "CL102", "blog/views.py", line - 1)
    assert finding.message == PERSONALIZED
    assert _related(finding) == [
        ("blog/views.py", line_of(LEAKY, "blog/views.py", '"blog/post_list.html"'), "renders `blog/post_list.html`"),
        ("blog/templates/blog/post_list.html", 1, "extends `base.html`"),
        ("templates/base.html", line_of(LEAKY, "templates/base.html", "{{ user.username }}"), "template prints `user.username` here"),
    ]


def test_cl102_evidence_chain_through_include(leaky):
    line = line_of(LEAKY, "shop/views.py", "def mini_cart(")
    finding = _finding(leaky, "CL102", "shop/views.py", line - 1)
    assert _related(finding) == [
        ("shop/views.py", line + 1, "renders `shop/mini_cart.html`"),
        ("shop/templates/shop/mini_cart.html", 2, "includes `shop/_cart_badge.html`"),
        ("shop/templates/shop/_cart_badge.html", 1, "template prints `request.session.cart_count` here"),
    ]


def test_cl102_evidence_from_view_code(leaky):
    line = line_of(LEAKY, "blog/views.py", "def post_detail(")
    finding = _finding(leaky, "CL102", "blog/views.py", line - 1)
    assert _related(finding) == [
        ("blog/views.py", line_of(LEAKY, "blog/views.py", "can_edit = request.user.is_staff"), "reads `request.user` here"),
    ]


def test_cl102_block_super_keeps_the_user_in_the_page(leaky):
    line = line_of(LEAKY, "blog/views.py", "def archive_year(")
    finding = _finding(leaky, "CL102", "blog/views.py", line - 1)
    assert _related(finding)[-1] == (
        "templates/base.html",
        line_of(LEAKY, "templates/base.html", "{{ user.username }}"),
        "template prints `user.username` here",
    )
