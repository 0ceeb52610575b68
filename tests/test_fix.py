"""--fix and --diff: the mechanical fixes, atomic writes, idempotence, refusal."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from tests.helpers import write_tree

VARY_OUTSIDE = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@vary_on_headers("Accept-Language")  # translated per language
@cache_page(60)
def home(request):
    return None
"""
VARY_FIXED = """from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_headers


@cache_page(60)
@vary_on_headers("Accept-Language")  # translated per language
def home(request):
    return None
"""
REDIS = """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    },
    "fragments": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "OPTIONS": {"db": 2}},
}
"""
REDIS_FIXED = """CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
    },
    "fragments": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "OPTIONS": {"db": 2, "socket_connect_timeout": 5, "socket_timeout": 5}},
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    write_tree(
        tmp_path,
        {"manage.py": "", "app/__init__.py": "", "app/views.py": VARY_OUTSIDE, "mysite/settings.py": REDIS},
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL103,CL301", *args])


def test_fix_rewrites_both_files_and_is_idempotent(project):
    first = invoke("--fix", ".")
    assert "fixed 3 findings in 2 files" in first.output
    assert first.exit_code == 0  # nothing of the selected rules is left
    assert (project / "app/views.py").read_text() == VARY_FIXED
    assert (project / "mysite/settings.py").read_text() == REDIS_FIXED
    second = invoke("--fix", ".")
    assert "fixed 0 findings in 0 files" in second.output
    assert (project / "app/views.py").read_text() == VARY_FIXED


def test_diff_changes_nothing_and_exits_1(project):
    result = invoke("--diff", ".")
    assert result.exit_code == 1
    assert "-@cache_page(60)\n" in result.output and "+@cache_page(60)\n" in result.output
    assert '+        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},\n' in result.output
    assert (project / "app/views.py").read_text() == VARY_OUTSIDE


def test_socket_timeout_is_configurable(project):
    (project / "pyproject.toml").write_text("[tool.cachelint]\nsocket-timeout = 2\n")
    invoke("--fix", ".")
    assert '"SOCKET_TIMEOUT": 2' in (project / "mysite/settings.py").read_text()


def test_fix_keeps_crlf_line_endings_and_file_mode(project):
    views = project / "app/views.py"
    views.write_bytes(VARY_OUTSIDE.replace("\n", "\r\n").encode())
    os.chmod(views, 0o640)
    invoke("--fix", ".")
    assert views.read_bytes() == VARY_FIXED.replace("\n", "\r\n").encode()
    assert os.stat(views).st_mode & 0o777 == 0o640
    assert not [p for p in (project / "app").iterdir() if p.name.endswith(".cachelint-fix")]


def test_options_that_are_not_a_literal_are_refused(project):
    (project / "mysite/settings.py").write_text(
        REDIS.replace('"OPTIONS": {"db": 2}', '"OPTIONS": dict(db=2)')
    )
    result = invoke("--fix", ".")
    assert "CL301 not fixed: OPTIONS is not a dict literal" in result.output
    assert "dict(db=2)" in (project / "mysite/settings.py").read_text()


def test_a_fix_whose_result_would_not_parse_is_refused(project, monkeypatch):
    from cachelint.registry import all_rules

    rule = type(all_rules()["CL103"])
    monkeypatch.setattr(rule, "fix", lambda self, text, findings, config: text + "\ndef broken(:\n")
    result = invoke("--fix", ".")
    assert "CL103 not fixed: the result would not parse" in result.output
    assert (project / "app/views.py").read_text() == VARY_OUTSIDE


LEGACY_SETTINGS = """import os

DEBUG = False

# Hashed names for long-lived caching.
STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
DEFAULT_FILE_STORAGE = os.environ.get("FILES", "storages.backends.s3.S3Storage")
"""
STORAGES_FIXED = """import os

DEBUG = False

# Hashed names for long-lived caching.
STORAGES = {
    "default": {"BACKEND": os.environ.get("FILES", "storages.backends.s3.S3Storage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
"""


def test_cl502_rewrites_legacy_storage_settings_into_storages(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "mysite/settings.py": LEGACY_SETTINGS})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL502", "--fix", "."])
    assert "fixed 2 findings in 1 file" in result.output
    assert (tmp_path / "mysite/settings.py").read_text() == STORAGES_FIXED
    assert result.exit_code == 0


def test_cl502_refuses_a_module_that_star_imports_other_settings(tmp_path, monkeypatch):
    prod = "from .base import *\n\nSTATICFILES_STORAGE = 'x.Storage'\n"
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "mysite/settings/base.py": "INSTALLED_APPS = []\n",
            "mysite/settings/prod.py": prod,
        },
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL502", "--fix", "."])
    assert "CL502 not fixed: the module star-imports other settings" in result.output
    assert (tmp_path / "mysite/settings/prod.py").read_text() == prod


def test_cl504_uses_the_static_tag_and_loads_it_after_extends(tmp_path, monkeypatch):
    page = (
        '{% extends "base.html" %}\n'
        "{% block head %}<link href=\"/static/css/app.css?v=2\"><script src='/static/js/app.js'></script>{% endblock %}\n"
    )
    write_tree(tmp_path, {"manage.py": "", "app/templates/page.html": page})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--fix", "."])
    assert "fixed 2 findings in 1 file" in result.output
    assert (tmp_path / "app/templates/page.html").read_text() == (
        '{% extends "base.html" %}\n{% load static %}\n'
        "{% block head %}<link href=\"{% static 'css/app.css' %}?v=2\">"
        "<script src='{% static \"js/app.js\" %}'></script>{% endblock %}\n"
    )
    again = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--fix", "."])
    assert "fixed 0 findings in 0 files" in again.output


# --- --fix never damages a file -----------------------------------------------------------------


def fix_templates(*args):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--fix", *args, "."])


IMG = b'<img src="/static/x.png">\n'
IMG_FIXED = b"<img src=\"{% static 'x.png' %}\">\n"


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_cl504_offsets_ignore_characters_that_splitlines_takes_for_line_ends(
    tmp_path, monkeypatch, separator
):
    # printf 'a\x0cb\n<img src="/static/x.png">\n' once became <img src{% static "x.png" %}ng">
    before = f"a{separator}b\n".encode()
    write_tree(tmp_path, {"manage.py": "", "app/templates/page.html": before + IMG})
    monkeypatch.chdir(tmp_path)
    result = fix_templates()
    assert "fixed 1 finding in 1 file" in result.output
    assert (tmp_path / "app/templates/page.html").read_bytes() == b"{% load static %}\n" + before + IMG_FIXED


def test_cl504_fix_keeps_the_bom_first_and_counts_columns_without_it(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "app/templates/page.html": b"\xef\xbb\xbf" + IMG})
    monkeypatch.chdir(tmp_path)
    assert "fixed 1 finding in 1 file" in fix_templates().output
    assert (tmp_path / "app/templates/page.html").read_bytes() == (
        b"\xef\xbb\xbf{% load static %}\n" + IMG_FIXED
    )


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_load_static_is_inserted_with_the_files_line_end(tmp_path, monkeypatch, newline):
    page = f'{{% extends "base.html" %}}{newline}{{% block b %}}<img src="/static/x.png">{{% endblock %}}{newline}'
    write_tree(
        tmp_path, {"manage.py": "", "app/templates/page.html": page.encode(), "app/templates/b.html": IMG}
    )
    monkeypatch.chdir(tmp_path)
    assert "fixed 2 findings in 2 files" in fix_templates().output
    assert (tmp_path / "app/templates/page.html").read_bytes() == (
        f'{{% extends "base.html" %}}{newline}{{% load static %}}{newline}'
        f"{{% block b %}}<img src=\"{{% static 'x.png' %}}\">{{% endblock %}}{newline}"
    ).encode()


def test_a_file_changed_between_scan_and_fix_is_refused(tmp_path, monkeypatch):
    import cachelint.engine

    write_tree(tmp_path, {"manage.py": "", "app/templates/page.html": IMG})
    monkeypatch.chdir(tmp_path)
    scan = cachelint.engine.check
    edited = b"<p>a line added at the top</p>\n" + IMG

    def scan_then_edit(*args, **kwargs):
        result = scan(*args, **kwargs)
        (tmp_path / "app/templates/page.html").write_bytes(edited)
        return result

    monkeypatch.setattr(cachelint.engine, "check", scan_then_edit)
    result = fix_templates()
    assert (
        "cachelint: app/templates/page.html: not fixed: the file changed since it was scanned: "
        "run cachelint again\n" in result.output
    )
    assert "fixed 0 findings in 0 files" in result.output
    assert (tmp_path / "app/templates/page.html").read_bytes() == edited


def test_cl504_refuses_to_replace_text_that_is_not_the_url_of_the_finding():
    from cachelint.finding import Finding, Location, Severity, Span
    from cachelint.fixing import FixRefused
    from cachelint.registry import all_rules

    rule = all_rules()["CL504"]
    message = '`/static/x.png` is written by hand instead of `{% static "x.png" %}`: ...'
    finding = Finding("CL504", Severity.WARNING, message, Location("p.html", Span(1, 11, 1, 24)))
    assert rule.fix(IMG.decode(), [finding], None) == "{% load static %}\n" + IMG_FIXED.decode()
    with pytest.raises(FixRefused, match=r"`/static/x.png` is not at line 1, column 11 any more"):
        rule.fix("<p></p>\n" + IMG.decode(), [finding], None)  # a line added: the span is stale


def test_concurrent_fix_runs_do_not_interleave(tmp_path):
    import subprocess
    import sys

    pages = {f"app/templates/p{i}.html": f"<h1>{i}</h1>\n".encode() + IMG * 3 for i in range(40)}
    write_tree(tmp_path, {"manage.py": "", **pages})
    command = [sys.executable, "-m", "cachelint", "check", "--no-cache", "--select", "CL504", "--fix", "."]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(b"internal error" not in err and b"Traceback" not in err for _, err in outputs)
    for name, before in pages.items():
        number = before.split(b"<h1>")[1].split(b"<")[0]
        assert (
            tmp_path / name
        ).read_bytes() == b"{% load static %}\n<h1>" + number + b"</h1>\n" + IMG_FIXED * 3
    assert not [p for p in (tmp_path / "app/templates").iterdir() if "cachelint-fix" in p.name]


def test_an_unwritable_directory_is_a_refusal_and_the_run_goes_on(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "a/templates/a.html": IMG, "b/templates/b.html": IMG})
    monkeypatch.chdir(tmp_path)
    locked = tmp_path / "a/templates"
    os.chmod(locked, 0o555)  # as root too: the policy reads the mode bits
    try:
        result = fix_templates()
    finally:
        os.chmod(locked, 0o755)
    assert (
        "cachelint: a/templates/a.html: not fixed: its directory is read-only (mode 0555): "
        "no room for the new file\n" in result.output
    )
    assert "fixed 1 finding in 1 file" in result.output
    assert "a/templates/a.html:1:11: CL504" in result.output  # the report of what is left
    assert result.exit_code == 1 and "internal error" not in result.output
    assert (tmp_path / "a/templates/a.html").read_bytes() == IMG
    assert (tmp_path / "b/templates/b.html").read_bytes() == b"{% load static %}\n" + IMG_FIXED


def test_a_write_that_fails_is_a_refusal_with_its_reason(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "a/templates/a.html": IMG})
    monkeypatch.chdir(tmp_path)

    def denied(*_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    result = fix_templates()
    assert "cachelint: a/templates/a.html: not fixed: Permission denied\n" in result.output
    assert "a/templates/a.html:1:11: CL504" in result.output and "internal error" not in result.output
    assert (tmp_path / "a/templates/a.html").read_bytes() == IMG
    assert not [p for p in (tmp_path / "a/templates").iterdir() if "cachelint-fix" in p.name]


def test_read_only_files_symlinks_and_hard_links_are_refused(tmp_path, monkeypatch):
    write_tree(
        tmp_path, {"manage.py": "", "t/templates/ro.html": IMG, "shared/real.html": IMG, "t/x.html": IMG}
    )
    templates = tmp_path / "t/templates"
    os.chmod(templates / "ro.html", 0o444)
    (templates / "link.html").symlink_to(tmp_path / "shared/real.html")
    os.link(tmp_path / "t/x.html", templates / "hard.html")
    monkeypatch.chdir(tmp_path)
    result = fix_templates()
    assert "t/templates/ro.html: not fixed: the file is read-only (mode 0444)\n" in result.output
    assert (
        "t/templates/link.html: not fixed: the file is a symbolic link: fix the file it points to "
        "(rewriting would replace the link)\n" in result.output
    )
    assert (
        "t/templates/hard.html: not fixed: the file has 2 hard links: rewriting it would separate them\n"
        in (result.output)
    )
    assert (templates / "ro.html").read_bytes() == IMG and (templates / "link.html").is_symlink()
    assert (tmp_path / "shared/real.html").read_bytes() == IMG
    assert os.stat(templates / "hard.html").st_nlink == 2 and (templates / "hard.html").read_bytes() == IMG


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_python_fixes_keep_the_bom_and_the_last_line_end(project, newline, bom):
    settings = project / "mysite/settings.py"
    settings.write_bytes(bom + REDIS.replace("\n", newline).encode())
    result = invoke("--fix", ".")
    assert "fixed 3 findings in 2 files" in result.output
    assert settings.read_bytes() == bom + REDIS_FIXED.replace("\n", newline).encode()


def test_a_rewrite_that_changes_nothing_is_not_reported_as_a_fix(project, monkeypatch):
    import libcst as cst

    from cachelint.registry import all_rules

    views = project / "app/views.py"
    views.write_bytes(VARY_OUTSIDE.replace("\n", "\r").encode())
    # libcst round-trips a lone-\r file without its last line end: that is no fix
    monkeypatch.setattr(
        type(all_rules()["CL103"]), "fix", lambda self, text, f, c: cst.parse_module(text).code
    )
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL103", "--fix", "."])
    assert "fixed 0 findings in 0 files" in result.output
    assert views.read_bytes() == VARY_OUTSIDE.replace("\n", "\r").encode()


def fix_settings(tmp_path, monkeypatch, source: str | bytes):
    write_tree(tmp_path, {"manage.py": "", "mysite/settings.py": source})
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL502", "--fix", "."])


def test_cl502_replaces_every_assignment_of_a_setting_assigned_twice(tmp_path, monkeypatch):
    source = (
        "import os\n"
        "\n"
        "# the default\n"
        'STATICFILES_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"  # plain\n'
        "BUCKET = os.environ['BUCKET']\n"
        "\n"
        "# hashed names in production\n"
        'STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"  # hashed\n'
        'DEFAULT_FILE_STORAGE = f"storages.backends.{BUCKET}"  # uploads\n'
        "DEBUG = False\n"
    )
    result = fix_settings(tmp_path, monkeypatch, source)
    assert "fixed 3 findings in 1 file" in result.output and result.exit_code == 0
    assert (tmp_path / "mysite/settings.py").read_text() == (
        "import os\n"
        "\n"
        "# the default\n"
        "BUCKET = os.environ['BUCKET']\n"
        "\n"
        "# hashed names in production\n"
        "STORAGES = {\n"
        '    "default": {"BACKEND": f"storages.backends.{BUCKET}"},  # uploads\n'
        '    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},  # plain # hashed\n'
        "}\n"
        "DEBUG = False\n"
    )


def test_cl502_keeps_crlf_and_a_last_comment(tmp_path, monkeypatch):
    source = b'A = 1\r\n\r\n# statics\r\nSTATICFILES_STORAGE = "x.Storage"  # hashed\r\n'
    assert "fixed 1 finding in 1 file" in fix_settings(tmp_path, monkeypatch, source).output
    assert (tmp_path / "mysite/settings.py").read_bytes() == (
        b'A = 1\r\n\r\n# statics\r\nSTORAGES = {\r\n    "default": {"BACKEND": '
        b'"django.core.files.storage.FileSystemStorage"},\r\n    "staticfiles": {"BACKEND": "x.Storage"},'
        b"  # hashed\r\n}\r\n"
    )


@pytest.mark.parametrize(
    "source, reason",
    [
        (
            'STATICFILES_STORAGE = "a.Storage"\nDEBUG = False\nif DEBUG:\n    STATICFILES_STORAGE = "b.Storage"\n',
            "`STATICFILES_STORAGE` is also assigned in a block (if, try, ...) or used otherwise: rewrite by hand",
        ),
        (
            'STATICFILES_STORAGE = "a.Storage"\nWHITENOISE = STATICFILES_STORAGE\n',
            "`STATICFILES_STORAGE` is also assigned in a block (if, try, ...) or used otherwise: rewrite by hand",
        ),
        (
            'NAME = "a"\nSTATICFILES_STORAGE = NAME\nNAME = "b"\nDEFAULT_FILE_STORAGE = "c.Storage"\n',
            "`NAME` changes between `STATICFILES_STORAGE` and its replacement",
        ),
    ],
)
def test_cl502_refuses_what_it_cannot_rewrite_safely(tmp_path, monkeypatch, source, reason):
    result = fix_settings(tmp_path, monkeypatch, source)
    assert f"cachelint: mysite/settings.py: CL502 not fixed: {reason}\n" in result.output
    assert (tmp_path / "mysite/settings.py").read_text() == source


METHOD_DECORATED = """from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie
from django.views.generic import TemplateView


@method_decorator(vary_on_cookie, name="dispatch")
@method_decorator(cache_page(60), name="dispatch")
class Page(TemplateView):
    template_name = "p.html"


class Other(TemplateView):
    @method_decorator(vary_on_cookie)  # per user
    @method_decorator(cache_page(60))
    def dispatch(self, *args, **kwargs):
        return super().dispatch(*args, **kwargs)
"""


def fix_views(tmp_path, monkeypatch, source: str):
    write_tree(tmp_path, {"manage.py": "", "app/__init__.py": "", "app/views.py": source})
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL103", "--fix", "."])


def test_cl103_moves_a_method_decorator_below_cache_page(tmp_path, monkeypatch):
    result = fix_views(tmp_path, monkeypatch, METHOD_DECORATED)
    assert "fixed 2 findings in 1 file" in result.output and result.exit_code == 0
    assert (tmp_path / "app/views.py").read_text() == METHOD_DECORATED.replace(
        '@method_decorator(vary_on_cookie, name="dispatch")\n@method_decorator(cache_page(60), name="dispatch")\n',
        '@method_decorator(cache_page(60), name="dispatch")\n@method_decorator(vary_on_cookie, name="dispatch")\n',
    ).replace(
        "    @method_decorator(vary_on_cookie)  # per user\n    @method_decorator(cache_page(60))\n",
        "    @method_decorator(cache_page(60))\n    @method_decorator(vary_on_cookie)  # per user\n",
    )


@pytest.mark.parametrize(
    "decorators, reason",
    [
        (
            '@method_decorator(vary_on_cookie, name="dispatch")\n'
            "class Page(TemplateView):\n    @method_decorator(cache_page(60))\n    def get(self, request):\n"
            "        return None\n",
            "`cache_page` is applied elsewhere (another method or the URLconf)",
        ),
        (
            '@method_decorator([vary_on_cookie, cache_page(60)], name="dispatch")\nclass Page(TemplateView):\n'
            "    pass\n",
            "the `vary_on_*` decorator is not one of a decorator list (or of one `method_decorator`)",
        ),
    ],
)
def test_cl103_says_why_it_does_not_fix(tmp_path, monkeypatch, decorators, reason):
    source = METHOD_DECORATED.split("\n\n\n")[0] + "\n\n\n" + decorators
    result = fix_views(tmp_path, monkeypatch, source)
    assert f"cachelint: app/views.py: CL103 not fixed: {reason}\n" in result.output
    assert (tmp_path / "app/views.py").read_text() == source


def test_diff_reads_through_a_symlink_that_fix_refuses(tmp_path, monkeypatch):
    write_tree(tmp_path, {"manage.py": "", "shared/real.html": IMG})
    (tmp_path / "app/templates").mkdir(parents=True)
    (tmp_path / "app/templates/link.html").symlink_to(tmp_path / "shared/real.html")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--diff", "."])
    assert "+<img src=\"{% static 'x.png' %}\">\n" in result.output and result.exit_code == 1


def test_a_python_file_libcst_cannot_write_back_unchanged_is_refused(tmp_path, monkeypatch):
    # found by the fuzzer: libcst drops one of two form-feed lines at the end of a module
    source = b'STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"\n\x0c\n\x0c\n'
    result = fix_settings(tmp_path, monkeypatch, source)
    assert (
        "cachelint: mysite/settings.py: not fixed: libcst does not write this file back byte for byte "
        "(form feed lines at its end?), so a fix would change other lines\n" in result.output
    )
    assert (tmp_path / "mysite/settings.py").read_bytes() == source


def test_diff_escapes_a_newline_in_the_file_name(tmp_path, monkeypatch):
    """A template named ``x\\n::error file=README.md::x.html`` must not put a workflow command
    at the start of a line of ``--diff`` output (the patch content itself stays as it is)."""
    name = "x\n::error file=README.md::x.html"
    write_tree(tmp_path, {"manage.py": "", f"app/templates/{name}": IMG})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--select", "CL504", "--diff", "."])
    assert result.exit_code == 1
    assert "--- a/app/templates/x\\n::error file=README.md::x.html\n" in result.output
    assert not any(line.startswith("::") for line in result.output.splitlines())
