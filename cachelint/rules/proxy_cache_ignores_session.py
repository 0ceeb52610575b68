from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.finding import Evidence, Finding, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register


@register
class ProxyCacheIgnoresSession(Rule):
    code = "CL702"
    slug = "proxy-cache-ignores-session"
    severity = Severity.ERROR
    summary = "A proxy cache in front of the app ignores the headers that keep users apart"
    tags = ("security", "privacy")
    security_severity = 7.5
    cwe = (524,)
    what_it_does = """
Reads the nginx and Varnish files in the repository and flags a shared response cache in front
of the Django app that stores what Django marks per-user, when the app has login-protected or
personalised pages (a view behind a login, a view that reads the user or the session, or
`AuthenticationMiddleware` in the settings):

- nginx: a location that passes requests to the app (`proxy_pass`, `uwsgi_pass`, `fastcgi_pass`,
  `scgi_pass`) with a cache zone in effect (`proxy_cache`, `uwsgi_cache`, ..., inherited from
  the server or `http` level as nginx does) and `proxy_ignore_headers` naming `Set-Cookie`,
  `Cache-Control` or `Vary`, or `proxy_hide_header Vary`. The cache key is shown as evidence
  when it has no session cookie. With `proxy_hide_header Set-Cookie` in the same location (and
  only `Set-Cookie` ignored), the stored responses are served without the cookies they set: no
  session changes hands, but later visitors get no CSRF cookie or new session, and the finding
  says so.
- Varnish: `unset req.http.Cookie` in `vcl_recv`, or `unset beresp.http.Set-Cookie` (or
  `Cache-Control`, `Vary`) in `vcl_backend_response`/`vcl_fetch`, for every URL.

Not flagged: a cache only for `location /static/` or `/media/` (or below `STATIC_URL`/
`MEDIA_URL`, or a regular expression that matches asset files only); an nginx location whose
`proxy_no_cache` names the session cookie (`$cookie_sessionid`, or `SESSION_COOKIE_NAME`),
`$http_cookie`, or a variable cachelint cannot see through; a VCL statement inside an `if` on
the URL, the cookie or the content type; a VCL that `return (pass)`es requests carrying the
session cookie before it strips cookies, or that hashes on the cookie. `proxy_cache_bypass`
alone is not enough: it only skips reading the cache, and the response of a logged-in user is
still stored for the next visitor. An explicit `proxy_cache_key` without the cookie is not
flagged on its own: nginx keeps one entry per `Vary: Cookie` value, which Django's session
middleware adds to every page that reads the session.
"""
    why_is_this_bad = """
Django keeps logged-in pages out of shared caches with `Vary: Cookie`, `Cache-Control: private`
and by setting cookies only on such responses. A proxy that ignores or strips those headers
stores the first visitor's dashboard (and their `Set-Cookie: sessionid=...`) under the URL and
serves it to everyone who asks next: other users see, and may take over, that session.
"""
    bad_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
        "deploy/nginx.conf": """http {
    proxy_cache_path /var/cache/nginx keys_zone=pages:10m;
    server {
        listen 80;
        location / {
            proxy_pass http://app:8000;
            proxy_cache pages;
            proxy_cache_valid 200 10m;
            proxy_ignore_headers Set-Cookie Cache-Control;  # expect: CL702
        }
    }
}
""",
    }
    good_example = {
        "mysite/settings.py": """MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
        "deploy/nginx.conf": """http {
    proxy_cache_path /var/cache/nginx keys_zone=pages:10m;
    server {
        listen 80;
        location / {
            proxy_pass http://app:8000;
            proxy_cache pages;
            proxy_cache_valid 200 10m;
            proxy_ignore_headers Cache-Control;
            proxy_cache_bypass $cookie_sessionid;
            proxy_no_cache $cookie_sessionid;
        }
    }
}
""",
    }

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        # The login-protected views are parsed only when a risky proxy cache needs them.
        if not project.deployment or not project.proxy_hazards() or project.personal_pages() is not None:
            return set()
        return project.modules_importing(
            set(api.AUTH_DECORATORS) | api.AUTH_MIXINS | project.protecting_names()
        )

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        if not project.deployment:
            return
        hazards = project.proxy_hazards()
        if not hazards:
            return
        personal = project.personal_pages()
        if personal is None:
            return
        for hazard in hazards:
            consequence = (
                ", and the app has login-protected or personalised pages: the proxy can serve one "
                "user's page to another"
                if hazard.shares_pages
                else ""
            )
            yield self.finding(
                hazard.location,
                f"{hazard.what}: {hazard.effect}{consequence}",
                hint=hazard.hint,
                related=[*hazard.related, Evidence(personal.location, personal.label)],
            )
