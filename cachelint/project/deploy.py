"""Questions about the deployment files next to the code (nginx, Apache, Caddy, Varnish,
ingress annotations): which locations serve a URL with long-lived caching, and which response
caches in front of the app ignore what keeps users apart."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from cachelint.facts.deploy import CacheHeader, DeploymentFacts, ProxyCache, UrlLocation
from cachelint.facts.values import UNKNOWN, SettingRef
from cachelint.finding import Evidence, Location

# Files of a static URL that a browser fetches (a location that serves any of them serves assets).
_ASSETS = ("css/app.css", "js/app.js", "img/logo.png", "fonts/font.woff2")
# Paths of pages: a location that also matches these is the app, not the static files.
_PAGES = ("/", "/accounts/login/", "/accounts/profile/")
# Response headers whose loss mixes users in a shared cache.
SESSION_HEADERS = {"set-cookie": "Set-Cookie", "cache-control": "Cache-Control", "vary": "Vary"}
_VCL_RESPONSE_SUBS = frozenset({"vcl_backend_response", "vcl_fetch"})
# ``if`` conditions that make a VCL statement apply to some URLs or visitors only.
_VCL_SCOPING = ("url", "cookie", "authorization", "content-type")
# nginx variables a ``proxy_no_cache`` can name that carry no session (anything else may).
_NON_SESSION_VARIABLE = re.compile(
    r"^\$(?:arg_\w+|request_method|request_uri|uri|args|query_string|host|scheme)$"
)


@dataclass(frozen=True)
class StaticCaching:
    """A location of a deployment file that serves static assets with long-lived caching."""

    path: str
    location: UrlLocation
    header: CacheHeader


@dataclass(frozen=True)
class ProxyHazard:
    """A shared response cache in front of the app that lets one user's response reach others."""

    location: Location  # the directive that does it
    what: str  # short description: "`proxy_ignore_headers Set-Cookie`"
    effect: str  # what follows
    hint: str
    related: tuple[Evidence, ...] = ()
    # False when what is stored is served without the cookies it set (``proxy_hide_header
    # Set-Cookie``) and nothing else is ignored: no user's page or session reaches another, but
    # visitors miss their CSRF cookie and session.
    shares_pages: bool = True


def url_path(value: object, default: str) -> str:
    """The path part of a ``STATIC_URL``/``MEDIA_URL`` setting, with leading and trailing
    slashes (Django adds the leading one), else ``default``."""
    if not isinstance(value, str) or not value.strip():
        return default
    path = urlsplit(value.strip()).path or "/"
    path = path if path.startswith("/") else f"/{path}"
    return path if path.endswith("/") else f"{path}/"


def matches(location: UrlLocation, uri: str) -> bool:
    """Whether ``location`` matches the request path ``uri`` (as its server reads patterns)."""
    modifier, pattern = location.modifier, location.pattern
    if modifier in ("~", "~*", "apache-regex"):
        try:
            return re.search(pattern, uri, re.IGNORECASE if modifier == "~*" else 0) is not None
        except (re.error, RecursionError):
            return False
    if modifier == "=":
        return uri == pattern
    if modifier == "glob":
        return fnmatch.fnmatchcase(uri, pattern)
    return uri.startswith(pattern)


def nginx_select(locations: tuple[UrlLocation, ...], uri: str) -> UrlLocation | None:
    """The location nginx picks for ``uri``: an exact match; else the longest prefix, kept if
    it is ``^~``; else the first regular expression that matches, in order; else that prefix."""
    prefix: UrlLocation | None = None
    for location in locations:
        if location.modifier == "=" and location.pattern == uri:
            return location
        if location.modifier in ("", "^~") and uri.startswith(location.pattern):
            if prefix is None or len(location.pattern) > len(prefix.pattern):
                prefix = location
    if prefix is not None and prefix.modifier == "^~":
        return prefix
    for location in locations:
        if location.modifier in ("~", "~*") and matches(location, uri):
            return location
    return prefix


class DeployQueries:
    """What the deployment files say, against the project's settings."""

    def _setting(self, name: str) -> object:
        return self.setting_value(SettingRef(name))  # type: ignore[attr-defined]

    @cached_property
    def static_url_path(self) -> str:
        """The path static files are served under: the configured ``static-url``, else the
        path of production's ``STATIC_URL`` (a CDN's URL too: its origin serves that path),
        else ``/static/``."""
        configured = self.config.static_url  # type: ignore[attr-defined]
        return url_path(configured or self._setting("STATIC_URL"), "/static/")

    @cached_property
    def media_url_path(self) -> str:
        value = self._setting("MEDIA_URL")
        return url_path(value, "/media/") if isinstance(value, str) and value.strip("/") else "/media/"

    def static_long_caching(self) -> list[StaticCaching]:
        """The locations that serve files of ``STATIC_URL`` with a long max-age or
        ``immutable``: for nginx the location it picks for an asset request, elsewhere every
        section that matches one; a catch-all location (one that also matches pages) is not
        counted, it caches the app too and says nothing about static files."""
        static = self.static_url_path
        assets = [f"{static}{name}" for name in _ASSETS]
        found: dict[tuple[str, UrlLocation], StaticCaching] = {}
        for path, facts in sorted(self.deployment.items()):  # type: ignore[attr-defined]
            for server in facts.servers:
                for uri in assets:
                    if server.selection == "nginx":
                        picked = nginx_select(server.locations, uri)
                        candidates = [picked] if picked is not None else []
                    else:
                        candidates = [loc for loc in server.locations if matches(loc, uri)]
                    for location in candidates:
                        if location.cache is None or any(matches(location, page) for page in _PAGES):
                            continue
                        found.setdefault((path, location), StaticCaching(path, location, location.cache))
        return sorted(found.values(), key=lambda s: (s.path, s.header.span))

    # --- shared response caches in front of the app ----------------------------------------

    @cached_property
    def session_cookie_name(self) -> str | None:
        """``SESSION_COOKIE_NAME`` in production (None when cachelint cannot tell)."""
        value = self._setting("SESSION_COOKIE_NAME")
        if value is None:
            return "sessionid"
        return value if isinstance(value, str) and value is not UNKNOWN else None

    @cached_property
    def _nginx_variables(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for facts in self.deployment.values():  # type: ignore[attr-defined]
            for name, source in facts.variables:
                table[name] = f"{table.get(name, '')} {source}".strip()
        return table

    def _about_session(self, text: str) -> bool:
        """Whether an nginx or VCL expression reads the session cookie (or all cookies)."""
        lowered = text.lower()
        name = (self.session_cookie_name or "sessionid").lower()
        return (
            name in lowered
            or "$http_cookie" in lowered
            or "$http_authorization" in lowered
            or (self.session_cookie_name is None and "session" in lowered)
        )

    def _no_cache_protects(self, arguments: tuple[str, ...]) -> bool:
        """``proxy_no_cache`` arguments that keep logged-in responses out of the cache, or that
        cachelint cannot see through (a variable set in a file it did not read)."""
        for argument in arguments:
            if self._about_session(argument):
                return True
            for variable in re.findall(r"\$\{?(\w+)", argument):
                source = self._nginx_variables.get(f"${variable}")
                if source is None and not _NON_SESSION_VARIABLE.match(f"${variable}"):
                    if not variable.startswith(("http_", "cookie_")):
                        return True  # unknown: it may well be the session
                if source is not None and self._about_session(source):
                    return True
        return False

    def _is_static_location(self, location: UrlLocation) -> bool:
        """A location only for static or media files: a prefix below ``STATIC_URL`` or
        ``MEDIA_URL`` (or the conventional ``/static/``, ``/media/``), or a pattern that matches
        asset files but no page."""
        prefixes = {self.static_url_path, self.media_url_path, "/static/", "/media/"}
        if location.modifier in ("", "^~", "="):
            pattern = location.pattern if location.pattern.endswith("/") else f"{location.pattern}/"
            return any(pattern.startswith(p) for p in prefixes)
        if any(matches(location, page) for page in _PAGES):
            return False
        return any(matches(location, f"/x/{name}") for name in _ASSETS)

    def proxy_hazards(self) -> list[ProxyHazard]:
        """Response caches in front of the app that cache what Django marks per-user: nginx
        ``*_cache`` zones that ignore or hide ``Set-Cookie``/``Cache-Control``/``Vary`` on a
        location that passes to the app (not one for static or media files), unless
        ``proxy_no_cache`` keeps logged-in responses out; Varnish VCL that strips the cookie of
        every request or the ``Set-Cookie`` of every response, unless it passes requests that
        carry the session cookie or hashes on the cookie."""
        hazards: dict[Location, ProxyHazard] = {}
        for path, facts in sorted(self.deployment.items()):  # type: ignore[attr-defined]
            if facts.flavour == "varnish":
                for hazard in self._vcl_hazards(path, facts):
                    hazards.setdefault(hazard.location, hazard)
                continue
            for server in facts.servers:
                for location in server.locations:
                    proxy = location.proxy
                    if proxy is None or self._is_static_location(location):
                        continue
                    for hazard in self._nginx_hazards(path, location, proxy):
                        hazards.setdefault(hazard.location, hazard)
        return [hazards[key] for key in sorted(hazards)]

    def _nginx_hazards(self, path: str, location: UrlLocation, proxy: ProxyCache) -> Iterator[ProxyHazard]:
        if self._no_cache_protects(proxy.no_cache):
            return
        kind = proxy.kind
        where = f"`location {' '.join(p for p in (location.modifier, location.pattern) if p)}`"
        related = [Evidence(Location(path, proxy.cache), f"`{kind}_cache` caches {where} here")]
        if proxy.key is not None and not self._about_session(proxy.key[0]):
            related.append(Evidence(Location(path, proxy.key[1]), "the cache key has no session cookie"))
        bypass = self._no_cache_protects(proxy.bypass)
        hint = (
            f"`{kind}_cache_bypass` only skips reading the cache: add "
            f"`{kind}_no_cache $cookie_{self.session_cookie_name or 'sessionid'};` so responses for "
            "logged-in users are never stored"
            if bypass
            else f"keep `{kind}_cache` to static locations, or add "
            f"`{kind}_no_cache $cookie_{self.session_cookie_name or 'sessionid'};` and "
            f"`{kind}_cache_bypass $cookie_{self.session_cookie_name or 'sessionid'};`"
        )
        by_span: dict[object, list[str]] = {}
        for header, span in proxy.ignores:
            if header.lower() in SESSION_HEADERS:
                by_span.setdefault(span, []).append(SESSION_HEADERS[header.lower()])
        for span, headers in by_span.items():
            effects = []
            hidden = any(h.lower() == "set-cookie" for h, _ in proxy.hides)
            if "Set-Cookie" in headers:
                if hidden:
                    effects.append(
                        "responses that set a cookie (the CSRF cookie, a new session) are stored and "
                        "served to later visitors without that cookie (their forms fail the CSRF "
                        "check, their sessions never start)"
                    )
                else:
                    effects.append(
                        "responses that set a cookie are stored with their `Set-Cookie`, which "
                        "hands that session to the next visitors"
                    )
            if "Cache-Control" in headers:
                effects.append(
                    "pages Django marks `private` or `no-cache` (`never_cache`, login pages) are stored"
                )
            if "Vary" in headers:
                effects.append("`Vary: Cookie` is ignored, so one entry serves every user")
            yield ProxyHazard(
                Location(path, span),
                f"`{kind}_ignore_headers {' '.join(headers)}` on the cache of {where}",
                " and ".join(effects),
                hint,
                tuple(related),
                shares_pages=not (hidden and headers == ["Set-Cookie"]),
            )
        for header, span in proxy.hides:
            if header.lower() == "vary":
                yield ProxyHazard(
                    Location(path, span),
                    f"`{kind}_hide_header Vary` on the cache of {where}",
                    "browsers and caches in front of nginx no longer learn that pages vary by cookie",
                    hint,
                    tuple(related),
                )

    def _vcl_hazards(self, path: str, facts: DeploymentFacts) -> Iterator[ProxyHazard]:
        actions = facts.vcl
        hashes_cookie = any(
            a.action == "hash_data" and "cookie" in a.target.lower() for a in actions if a.sub == "vcl_hash"
        )
        if hashes_cookie:
            return
        passes = [a for a in actions if a.sub == "vcl_recv" and a.action == "return" and _passes(a.target)]

        def session_pass(before: int | None) -> bool:
            return any(
                (before is None or a.span.line < before)
                and any(self._vcl_session_test(condition) for condition in a.conditions)
                for a in passes
            )

        for action in actions:
            if action.action != "unset" or any(
                word in condition.lower() for condition in action.conditions for word in _VCL_SCOPING
            ):
                continue
            target = action.target
            if action.sub == "vcl_recv" and target == "req.http.cookie":
                if session_pass(action.span.line):
                    continue
                effect = "every request reaches the cache without its cookies, logged-in ones too"
            elif action.sub in _VCL_RESPONSE_SUBS and target.startswith("beresp.http."):
                header = SESSION_HEADERS.get(target[len("beresp.http.") :])
                if header is None or session_pass(None):
                    continue
                effect = {
                    "Set-Cookie": "responses stop being marked uncacheable by their cookie and are stored for everyone",
                    "Cache-Control": "`private` and `no-cache` pages are no longer kept out of the cache",
                    "Vary": "`Vary: Cookie` is dropped, so one entry serves every user",
                }[header]
            else:
                continue
            yield ProxyHazard(
                Location(path, action.span),
                f"Varnish `unset {_shown(target)}` in `{action.sub}` for every URL",
                effect,
                f"in `vcl_recv`, `return (pass);` when `req.http.Cookie` holds "
                f"`{self.session_cookie_name or 'sessionid'}`, before stripping cookies",
            )

    def _vcl_session_test(self, condition: str) -> bool:
        lowered = condition.lower()
        if "req.http.cookie" not in lowered and "req.http.authorization" not in lowered:
            return False
        if self._about_session(lowered):
            return True
        # A bare presence test (``if (req.http.Cookie)``, ``req.http.Authorization || ...``).
        return re.search(r"req\.http\.(?:cookie|authorization)\s*(?:\)|\|\||&&|$)", lowered) is not None


def _passes(target: str) -> bool:
    return re.match(r"^\(?\s*(?:pass|pipe)\b", target) is not None


def _shown(target: str) -> str:
    """``beresp.http.set-cookie`` as VCL writes it: ``beresp.http.Set-Cookie``."""
    head, _, header = target.rpartition(".")
    return f"{head}.{'-'.join(part.capitalize() for part in header.split('-'))}" if head else target


AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


class PersonalPagesQueries:
    """Whether the app has pages that differ by visitor (what a shared cache must not mix)."""

    def personal_pages(self) -> Evidence | None:
        """The first login-protected view, else the first view that reads the user or the
        session, else the production ``MIDDLEWARE`` that installs ``AuthenticationMiddleware``
        (logged-in pages exist: the admin's, at least)."""
        from cachelint.project.views import AUTH

        views = sorted(self.views, key=lambda v: v.location)  # type: ignore[attr-defined]
        for view in views:
            auth = view.wrappers(AUTH)
            if auth:
                return Evidence(auth[0].origin or auth[0].location, f"`{view.name}` requires a login here")
        for view in views:
            for kind, evidence in view.accesses:
                if kind in ("user", "session", "perms", "messages") and evidence:
                    return Evidence(evidence[0].location, f"`{view.name}` reads the visitor's {kind} here")
        modules = sorted(
            self.settings_modules,  # type: ignore[attr-defined]
            key=lambda m: (not m.production, m.module),
        )
        for module in modules:
            for name in ("MIDDLEWARE", "MIDDLEWARE_CLASSES"):
                value = module.value(name)
                if isinstance(value, list | tuple) and AUTH_MIDDLEWARE in value:
                    location = module.location_of(name)
                    if location is not None:
                        return Evidence(location, "`AuthenticationMiddleware` gives pages a logged-in user")
        return None
