"""Deployment files next to the code (CL701, CL702): discovery, the tolerant readers, the facts
and the two fixture projects with their safe look-alikes."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from cachelint.config import Config
from cachelint.discovery import deployment_kind
from cachelint.facts.deploy import (
    EXPIRES_MAX,
    DeployParseError,
    apache_seconds,
    max_age_of,
    nginx_seconds,
    parse_deployment,
)
from cachelint.finding import Finding
from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples, write_tree

FIXTURES = Path(__file__).parent / "fixtures"
STATIC = FIXTURES / "deploy_static_project"
PROXY = FIXTURES / "deploy_proxy_project"
DEFAULT_ON = sorted(code for code, rule in all_rules().items() if rule.default_enabled)


def files_of(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".cachelint")
    }


def scan(root: Path, monkeypatch: pytest.MonkeyPatch, select: list[str] | None = None, **config):
    monkeypatch.chdir(root)
    return run(root, select or DEFAULT_ON, config=Config(cache=config.pop("cache", False), **config))


def one(result, code: str, path: str, line: int) -> Finding:
    found = [f for f in result.findings if (f.code, f.location.path, f.location.line) == (code, path, line)]
    assert len(found) == 1, result.findings
    return found[0]


def related(finding: Finding) -> list[tuple[str, int, str]]:
    return [(e.location.path, e.location.line, e.label) for e in finding.related]


def copy(root: Path, tmp_path: Path) -> Path:
    target = tmp_path / root.name
    shutil.copytree(root, target, ignore=shutil.ignore_patterns("__pycache__", ".cachelint_cache"))
    return target


# --- the fixture projects -----------------------------------------------------------------------


def test_static_project_yields_exactly_the_marked_findings(monkeypatch):
    result = scan(STATIC, monkeypatch)
    assert result.errors == []
    assert triples(result) == expected_markers(files_of(STATIC))
    assert {code for _, _, code in triples(result)} == {"CL501", "CL701"}


def test_cl701_message_and_evidence(monkeypatch):
    result = scan(STATIC, monkeypatch)
    finding = one(result, "CL701", "deploy/nginx/site.conf.template", 8)
    assert finding.message == (
        "`expires max` caches static files under `/assets/` for 10 years while production's static "
        "files storage `StaticFilesStorage` does not hash file names: after a deploy, browsers keep "
        "the old assets"
    )
    assert related(finding) == [
        ("deploy/nginx/site.conf.template", 6, "`/assets/` serves the files of `STATIC_URL`"),
        (
            "mysite/settings/production.py",
            6,
            "production static storage `StaticFilesStorage` does not hash names",
        ),
    ]
    regex = one(result, "CL701", "deploy/nginx/site.conf.template", 13)
    assert regex.message.startswith(
        '`add_header Cache-Control "public, max-age=31536000, immutable"` caches static files under `/assets/` for 1 year'
    )
    assert related(regex)[0] == (
        "deploy/nginx/site.conf.template",
        12,
        "`~* \\.(png|jpe?g|gif|svg)$` serves the files of `STATIC_URL`",
    )
    apache = one(result, "CL701", "deploy/apache/site.conf", 11)
    assert apache.message.startswith(
        '`ExpiresByType text/css "access plus 1 month"` caches static files under `/assets/` for 30 days'
    )
    caddy = one(result, "CL701", "deploy/Caddyfile", 3)
    assert caddy.message.startswith(
        '`header @static Cache-Control "public, max-age=31536000, immutable"` caches static files'
    )
    ingress = one(result, "CL701", "k8s/ingress.yaml", 7)
    assert "for 7 days" in ingress.message


def test_cl701_is_silent_with_a_hashing_storage(tmp_path, monkeypatch):
    root = copy(STATIC, tmp_path)
    settings = root / "mysite/settings/production.py"
    settings.write_text(
        settings.read_text().replace("storage.StaticFilesStorage", "storage.ManifestStaticFilesStorage")
    )
    assert [t for t in triples(scan(root, monkeypatch)) if t[2] in ("CL501", "CL701")] == []


def test_cl701_follows_static_url_and_the_configured_one(tmp_path, monkeypatch):
    root = copy(STATIC, tmp_path)
    base = root / "mysite/settings/base.py"
    base.write_text(
        base.read_text().replace('STATIC_URL = "/assets/"', 'STATIC_URL = "https://cdn.example.com/s/"')
    )
    # Only the locations that match any file by extension still serve the assets, now under /s/.
    assert [t for t in triples(scan(root, monkeypatch)) if t[2] == "CL701"] == [
        ("deploy/nginx/old-assets.conf", 14, "CL701"),
        ("deploy/nginx/site.conf.template", 13, "CL701"),
    ]
    configured = [t for t in triples(scan(root, monkeypatch, static_url="/assets/")) if t[2] == "CL701"]
    assert len(configured) == 5


def test_proxy_project_yields_exactly_the_marked_findings(monkeypatch):
    result = scan(PROXY, monkeypatch)
    assert result.errors == []
    assert triples(result) == expected_markers(files_of(PROXY))
    assert {code for _, _, code in triples(result)} == {"CL001", "CL702"}


def test_cl702_messages_hints_and_evidence(monkeypatch):
    result = scan(PROXY, monkeypatch)
    site = "deploy/nginx/conf.d/site.conf"
    middleware = ("mysite/settings.py", 3, "`AuthenticationMiddleware` gives pages a logged-in user")
    root = one(result, "CL702", site, 20)
    assert root.message == (
        "`proxy_ignore_headers Cache-Control Vary` on the cache of `location /`: pages Django marks "
        "`private` or `no-cache` (`never_cache`, login pages) are stored and `Vary: Cookie` is ignored, "
        "so one entry serves every user, and the app has login-protected or personalised pages: "
        "the proxy can serve one user's page to another"
    )
    assert related(root) == [
        (site, 18, "`proxy_cache` caches `location /` here"),
        (site, 19, "the cache key has no session cookie"),
        middleware,
    ]
    assert root.hint == (
        "keep `proxy_cache` to static locations, or add `proxy_no_cache $cookie_appsession;` and "
        "`proxy_cache_bypass $cookie_appsession;`"
    )
    api = one(result, "CL702", site, 28)
    assert api.message.startswith(
        "`proxy_ignore_headers Set-Cookie` on the cache of `location /api/`: responses that set a "
        "cookie are stored with their `Set-Cookie`, which hands that session to the next visitors"
    )
    assert api.hint is not None and api.hint.startswith("`proxy_cache_bypass` only skips reading the cache")
    news = one(result, "CL702", site, 44)
    assert news.message.startswith("`uwsgi_hide_header Vary` on the cache of `location /news/`")
    recv = one(result, "CL702", "deploy/varnish/default.vcl", 14)
    assert recv.message.startswith("Varnish `unset req.http.Cookie` in `vcl_recv` for every URL")
    fetch = one(result, "CL702", "deploy/varnish/default.vcl", 22)
    assert fetch.message.startswith("Varnish `unset beresp.http.Set-Cookie` in `vcl_backend_response`")
    broken = one(result, "CL001", "deploy/nginx/broken.conf", 5)
    assert broken.message == "cannot parse: unbalanced braces: a block is not closed"


def test_cl702_hidden_set_cookie_says_visitors_lose_their_cookies(tmp_path, monkeypatch):
    """With `proxy_hide_header Set-Cookie` too, nginx stores the responses that set cookies but
    never replays the cookie: no session is handed over, visitors lose their CSRF cookie and
    session. Still a finding, with what really happens; another ignored header keeps the
    cross-user wording."""
    root = copy(PROXY, tmp_path)
    site = root / "deploy/nginx/conf.d/site.conf"
    text = site.read_text()
    api_block = "        proxy_ignore_headers Set-Cookie;  # expect: CL702\n"
    blog_block = "        proxy_ignore_headers Set-Cookie Cache-Control;\n        proxy_cache_bypass $logged_in;\n"
    assert api_block in text and blog_block in text
    text = text.replace(api_block, api_block + "        proxy_hide_header Set-Cookie;\n")
    site.write_text(text)
    result = scan(root, monkeypatch)
    api = one(result, "CL702", "deploy/nginx/conf.d/site.conf", 28)
    assert api.message == (
        "`proxy_ignore_headers Set-Cookie` on the cache of `location /api/`: responses that set a "
        "cookie (the CSRF cookie, a new session) are stored and served to later visitors without "
        "that cookie (their forms fail the CSRF check, their sessions never start)"
    )
    assert "one user's page" not in api.message
    # Look-alike: hiding Set-Cookie where Cache-Control is ignored too still shares pages.
    both = "        proxy_ignore_headers Set-Cookie Cache-Control;  # expect: CL702\n        proxy_hide_header Set-Cookie;\n"
    site.write_text(text.replace(api_block + "        proxy_hide_header Set-Cookie;\n", both))
    mixed = one(scan(root, monkeypatch), "CL702", "deploy/nginx/conf.d/site.conf", 28)
    assert mixed.message == (
        "`proxy_ignore_headers Set-Cookie Cache-Control` on the cache of `location /api/`: responses "
        "that set a cookie (the CSRF cookie, a new session) are stored and served to later visitors "
        "without that cookie (their forms fail the CSRF check, their sessions never start) and "
        "pages Django marks `private` or `no-cache` (`never_cache`, login pages) are stored, and the "
        "app has login-protected or personalised pages: the proxy can serve one user's page to another"
    )


def test_cl702_needs_personal_pages(tmp_path, monkeypatch):
    root = copy(PROXY, tmp_path)
    settings = root / "mysite/settings.py"
    text = settings.read_text()
    settings.write_text(text.replace('    "django.contrib.auth.middleware.AuthenticationMiddleware",\n', ""))
    (root / "accounts/views.py").unlink()
    assert [t for t in triples(scan(root, monkeypatch)) if t[2] == "CL702"] == []


def test_cl702_finds_a_login_view_the_prefilter_skipped(tmp_path, monkeypatch):
    """Without the middleware, the login-protected view is the evidence: its module mentions no
    cache token, so it is parsed on demand."""
    root = copy(PROXY, tmp_path)
    settings = root / "mysite/settings.py"
    settings.write_text(
        settings.read_text().replace('    "django.contrib.auth.middleware.AuthenticationMiddleware",\n', "")
    )
    result = scan(root, monkeypatch)
    finding = one(result, "CL702", "deploy/nginx/conf.d/site.conf", 20)
    assert related(finding)[-1] == ("accounts/views.py", 5, "`accounts.views.profile` requires a login here")


def test_deployment_files_honour_exclude_and_suppressions(tmp_path, monkeypatch):
    root = copy(PROXY, tmp_path)
    assert not [t for t in triples(scan(root, monkeypatch, extend_exclude=["deploy/"]))]
    vcl = root / "deploy/varnish/default.vcl"
    vcl.write_text(vcl.read_text().replace("# expect: CL702", "# cachelint: ignore[CL702]"))
    lines = [t[1] for t in triples(scan(root, monkeypatch)) if t[0] == "deploy/varnish/default.vcl"]
    assert lines == []


def test_deployment_facts_come_from_the_result_cache(tmp_path, monkeypatch):
    root = copy(STATIC, tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = triples(scan(root, monkeypatch, cache=True))
    assert list((root / ".cachelint_cache").glob("facts-*.pickle"))
    import cachelint.facts.deploy as deploy

    def refuse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(deploy, "parse_deployment", refuse)
    assert triples(scan(root, monkeypatch, cache=True)) == first


# --- discovery ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("nginx.conf", "conf"),
        ("deploy/nginx/site.conf.template", "conf"),
        ("docker/default.conf.j2", "conf"),
        ("etc/nginx/sites-available/mysite", "conf"),
        ("conf.d/default", "conf"),
        ("varnish/default.vcl", "varnish"),
        ("Caddyfile", "caddy"),
        ("deploy/Caddyfile.prod", "caddy"),
        ("public/.htaccess", "htaccess"),
        ("charts/web/templates/ingress.yaml", "yaml"),
        ("k8s/ingress.yml", "yaml"),
        ("helm/values.yaml", "yaml"),
        (".github/workflows/ci.yml", None),
        ("docker-compose.yml", None),
        ("nginx/README.md", None),
        ("docker/nginx/vhost.d/example.com", "conf"),
        ("tracker/nginx/Dockerfile", None),
        ("nginx/docker-compose.override.yml", None),
        ("mysite/settings.py", None),
        ("templates/base.html", None),
    ],
)
def test_deployment_kind(path, kind):
    assert deployment_kind(path) == kind


def test_conf_files_of_other_programs_yield_nothing(tmp_path, monkeypatch):
    write_tree(
        tmp_path,
        {
            "manage.py": "",
            "mysite/settings.py": 'MIDDLEWARE = ["django.contrib.auth.middleware.AuthenticationMiddleware"]\n',
            "deploy/supervisord.conf": "[program:web]\ncommand=gunicorn x  ; proxy_cache {\n",
            "deploy/php-fpm.conf": "[www]\nphp_value[session.cache_expire] = 180\n",
            "deploy/ssh.conf": "Host *\n  ServerAliveInterval 60 # expires\n",
            "deploy/latin1.conf": "location / { # caf\xe9\n".encode("latin-1") + b"\xff\xfe proxy_cache x;\n",
            "deploy/binary.conf": b"\x00\x01expires\x00{{{{\x00",
        },
    )
    result = scan(tmp_path, monkeypatch, select=["ALL"])
    assert result.errors == []
    assert [t for t in triples(result) if t[0].startswith("deploy/") and t[2] != "CL001"] == []


# --- the readers --------------------------------------------------------------------------------


def test_nginx_reader_quotes_variables_comments_and_templating():
    text = """server {
    listen {{ port }};
    location "/static/" {  # a comment with { and ;
        add_header 'Cache-Control' "max-age=31536000; immutable";
        return 200 "${HOST}\\"x";
    }
    {% if cdn %}
    location /a { expires 1y; }
    {% endif %}
}
"""
    facts = parse_deployment(text, "x.conf", "conf")
    assert facts.flavour == "nginx"
    locations = facts.servers[0].locations
    assert [
        (loc.pattern, loc.span.line, loc.cache.span.line if loc.cache else None) for loc in locations
    ] == [
        ("/static/", 3, 4),
        ("/a", 8, 8),
    ]
    assert locations[0].cache.immutable and locations[0].cache.max_age == 31536000


def test_nginx_inheritance_and_off():
    text = """http {
    proxy_cache pages;
    proxy_ignore_headers Set-Cookie;
    server {
        expires 30d;
        location / { proxy_pass http://a; }
        location /x/ { proxy_pass http://a; proxy_cache off; expires 1h; }
        location /y/ { proxy_pass http://a; proxy_ignore_headers Expires; add_header X-A b; }
    }
}
"""
    locations = parse_deployment(text, "n.conf", "conf").servers[0].locations
    root, off, own = locations
    assert root.proxy is not None and [h for h, _ in root.proxy.ignores] == ["Set-Cookie"]
    assert root.cache is not None and root.cache.max_age == 30 * 86400
    assert off.proxy is None and off.cache is None
    assert own.proxy is not None and [h for h, _ in own.proxy.ignores] == ["Expires"]
    assert own.cache is not None  # add_header does not replace an inherited expires


def test_broken_nginx_and_vcl_raise_but_other_text_does_not():
    with pytest.raises(DeployParseError):
        parse_deployment("server {\n  location / {\n    expires 1y;\n  }\n", "a.conf", "conf")
    with pytest.raises(DeployParseError):
        parse_deployment('server {\n  add_header X "unterminated;\n}\n', "a.conf", "conf")
    with pytest.raises(DeployParseError):
        parse_deployment(
            "sub vcl_recv {\n  if (req.url) {\n    unset req.http.Cookie;\n}\n", "a.vcl", "varnish"
        )
    assert parse_deployment("key = value\n[section]\n", "a.conf", "conf").flavour == ""
    assert parse_deployment("not: [valid yaml\n", "a.yaml", "yaml").flavour == ""


def test_durations():
    assert nginx_seconds("1y") == 365 * 86400
    assert nginx_seconds("1y 6M") == 365 * 86400 + 180 * 86400
    assert nginx_seconds("3600") == 3600
    assert nginx_seconds("epoch") is None
    assert apache_seconds('"access plus 1 year"') == 365 * 86400
    assert apache_seconds("modification plus 2 weeks 3 days") == 17 * 86400
    assert apache_seconds("A2592000") == 2592000
    assert apache_seconds("access 1 year") is None
    assert max_age_of("public, max-age=31536000, immutable") == (31536000, True)
    assert max_age_of("no-cache, max-age=31536000") == (None, False)
    assert EXPIRES_MAX == 10 * 365 * 86400


def test_deployment_facts_pickle(monkeypatch):
    for path in ("deploy/nginx/conf.d/site.conf", "deploy/varnish/default.vcl"):
        text = (PROXY / path).read_text()
        kind = "varnish" if path.endswith(".vcl") else "conf"
        facts = parse_deployment(text, path, kind)
        assert pickle.loads(pickle.dumps(facts)) == facts
