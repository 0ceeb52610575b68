"""Facts of deployment files: web-server, proxy and chart files read as data, never run.

One read of each file, by a small tolerant reader per format (nginx, Apache, Caddy, Varnish VCL,
and the nginx snippets of ingress-nginx annotations in Kubernetes/Helm YAML). What comes out is
what the CL7xx rules ask about, as plain frozen values (picklable, cached like other facts):

- the URL locations a server declares, each with the long-lived caching it applies
  (``expires 1y``, ``Cache-Control: max-age=...``, ``immutable``), resolved through nginx's
  inheritance, Apache's ``Alias``/``<Directory>`` and Caddy's path matchers;
- for nginx, the response cache in front of each location that passes requests upstream
  (``proxy_cache``/``uwsgi_cache``/...), with what it ignores, hides and keys on;
- for Varnish, where a VCL strips cookies or caching headers, and when it passes.

A file that is not what its name suggests (a ``*.conf`` of another program) yields no facts; a
file that is clearly a broken nginx or VCL file yields a problem (reported as CL001).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cachelint.finding import Span

# Cache lifetimes from this long on count as long-lived (a stale asset for a week or more).
LONG_MAX_AGE = 7 * 24 * 3600
YEAR = 365 * 24 * 3600
# nginx's ``expires max``: "Thu, 31 Dec 2037 23:55:55 GMT" and ``max-age=315360000`` (10 years).
EXPIRES_MAX = 10 * YEAR


class DeployParseError(Exception):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


@dataclass(frozen=True)
class CacheHeader:
    """Long-lived caching a location applies: where, what was written, for how long."""

    text: str  # the directive as written, shortened: ``expires 1y``
    span: Span
    max_age: int | None  # seconds, None when only ``immutable`` says it
    immutable: bool = False


@dataclass(frozen=True)
class ProxyCache:
    """nginx's response cache in effect for a location that passes requests upstream."""

    kind: str  # proxy | uwsgi | fastcgi | scgi
    cache: Span  # where ``proxy_cache ZONE`` is switched on (this location or an outer level)
    ignores: tuple[tuple[str, Span], ...] = ()  # headers ``proxy_ignore_headers`` ignores
    hides: tuple[tuple[str, Span], ...] = ()  # headers ``proxy_hide_header`` removes
    key: tuple[str, Span] | None = None  # an explicit ``proxy_cache_key``
    valid: Span | None = None  # ``proxy_cache_valid``: responses cached without the app asking
    no_cache: tuple[str, ...] = ()  # arguments of ``proxy_no_cache``
    bypass: tuple[str, ...] = ()  # arguments of ``proxy_cache_bypass``


@dataclass(frozen=True)
class UrlLocation:
    """A URL location of a server: nginx ``location``, Apache ``<Location>``/aliased
    ``<Directory>``, a Caddy path matcher, an ingress path."""

    modifier: str  # nginx's "", "=", "^~", "~", "~*"; "glob" (Caddy), "apache-regex"
    pattern: str
    span: Span
    cache: CacheHeader | None = None
    proxy: ProxyCache | None = None


@dataclass(frozen=True)
class Server:
    """One server (nginx ``server``, Apache ``<VirtualHost>``, a Caddy site, a snippet file)."""

    locations: tuple[UrlLocation, ...]
    # nginx picks one location per request (exact, longest prefix, first regex); Apache merges
    # every section that matches, Caddy the matchers: "nginx" or "any".
    selection: str = "nginx"


@dataclass(frozen=True)
class VclAction:
    """A statement of a VCL subroutine: ``unset``/``return``/``hash_data``."""

    sub: str  # the subroutine: vcl_recv, vcl_backend_response, ...
    action: str  # "unset" | "return" | "hash_data"
    target: str  # lower case: ``beresp.http.set-cookie``, ``pass``, ``req.http.cookie``
    span: Span
    conditions: tuple[str, ...] = ()  # the enclosing ``if`` conditions, outermost first


@dataclass(frozen=True)
class DeploymentFacts:
    path: str
    flavour: str  # nginx | apache | caddy | varnish | ingress | "" (not a config cachelint reads)
    servers: tuple[Server, ...] = ()
    vcl: tuple[VclAction, ...] = ()
    # nginx ``map``/``set`` targets with the text that defines them: ``proxy_no_cache $skip``
    # is about the session when ``$skip`` is derived from its cookie.
    variables: tuple[tuple[str, str], ...] = ()
    suppressions: tuple = ()
    digest: str = ""


# --- file kinds ---------------------------------------------------------------------------------

_APACHE_SECTION = re.compile(
    r"^\s*</?(VirtualHost|Directory|DirectoryMatch|Location|LocationMatch|IfModule|Files|FilesMatch)\b",
    re.IGNORECASE | re.MULTILINE,
)
_APACHE_DIRECTIVE = re.compile(
    r"^\s*(ExpiresActive|ExpiresByType|ExpiresDefault|WSGIScriptAlias|WSGIDaemonProcess|ServerName|"
    r"DocumentRoot)\s",
    re.MULTILINE,
)
_NGINX_HINT = re.compile(
    r"^\s*(?:(?:server|location|http|upstream|events|map|if|types)\b[^;{}\n]*\{|"
    r"(?:expires|add_header|more_set_headers|proxy_\w+|uwsgi_\w+|fastcgi_\w+|root|alias|listen|"
    r"server_name|include|gzip\w*|client_max_body_size)\s[^\n;]*;)",
    re.MULTILINE,
)
# Deployment-file bytes that can matter to a rule (the byte pre-filter, on lower-cased bytes).
TOKENS = (
    b"expires",
    b"cache-control",
    b"immutable",
    b"max-age",
    b"_cache",
    b"_ignore_headers",
    b"_hide_header",
    b"set-cookie",
    b"http.cookie",
    b"vary",
)


def may_matter(data: bytes) -> bool:
    lowered = data.lower()
    return any(token in lowered for token in TOKENS)


def parse_deployment(text: str, path: str, kind: str) -> DeploymentFacts:
    """Facts of one deployment file; ``kind`` is what discovery made of its name and place:
    ``conf`` (nginx or Apache, decided here by its content), ``caddy``, ``varnish``, ``yaml``.
    Raises DeployParseError for a file that is clearly a broken nginx or VCL file."""
    if kind == "varnish":
        return DeploymentFacts(path, "varnish", vcl=_read_vcl(text))
    if kind == "caddy":
        return DeploymentFacts(path, "caddy", servers=_read_caddy(text))
    if kind == "yaml":
        servers = _read_ingress(text)
        return DeploymentFacts(path, "ingress" if servers else "", servers=servers)
    if kind == "htaccess" or _APACHE_SECTION.search(text) or _APACHE_DIRECTIVE.search(text):
        return DeploymentFacts(path, "apache", servers=_read_apache(text))
    if _NGINX_HINT.search(_untemplated(text)):
        servers, variables = _read_nginx(_untemplated(text))
        return DeploymentFacts(path, "nginx", servers=servers, variables=variables)
    return DeploymentFacts(path, "")


# --- durations ----------------------------------------------------------------------------------

_NGINX_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "M": 30 * 86400,
    "y": YEAR,
}
_NGINX_TIME = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")


def nginx_seconds(value: str) -> int | None:
    """``1y``, ``30d``, ``1y 6M``, ``3600`` (seconds) as nginx reads a time; None if not one."""
    total = 0.0
    position = 0
    value = value.strip()
    if not value:
        return None
    for match in _NGINX_TIME.finditer(value):
        if value[position : match.start()].strip():
            return None
        total += int(match.group(1)) * _NGINX_UNITS[match.group(2) or "s"]
        position = match.end()
    if value[position:].strip():
        return None
    return int(total)


def max_age_of(value: str) -> tuple[int | None, bool]:
    """``max-age`` (or ``s-maxage``) seconds and ``immutable`` of a Cache-Control value."""
    lowered = value.lower()
    ages = [int(m.group(1)) for m in re.finditer(r"\b(?:max-age|s-maxage)\s*=\s*\"?(\d+)", lowered)]
    immutable = re.search(r"\bimmutable\b", lowered) is not None
    if re.search(r"\b(?:no-store|no-cache)\b", lowered):
        return None, False
    return (max(ages) if ages else None), immutable


def _long(max_age: int | None, immutable: bool) -> bool:
    return immutable or (max_age is not None and max_age >= LONG_MAX_AGE)


# --- nginx --------------------------------------------------------------------------------------


@dataclass
class _Directive:
    name: str
    args: list[str]
    line: int
    col: int
    block: list[_Directive] | None = None

    @property
    def span(self) -> Span:
        return Span(self.line, self.col, self.line, self.col + len(self.name))

    def text(self) -> str:
        return _shown([self.name, *self.args])


_TEMPLATING = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def _untemplated(text: str) -> str:
    """Jinja/Go-template/ERB tags replaced by placeholders of the same shape (lines and columns
    stay): an Ansible or Helm template of an nginx file is read like the file it renders to."""
    if "{{" not in text and "{%" not in text:
        return text

    def blank(match: re.Match[str]) -> str:
        tag = match.group()
        filler = "T" if tag.startswith("{{") else " "
        return "".join(c if c == "\n" else filler for c in tag)

    return _TEMPLATING.sub(blank, text)


def _nginx_tokens(text: str) -> list[tuple[str, int, int, bool]]:
    """(token, line, column, quoted) as nginx's lexer splits a file; raises DeployParseError on
    an unterminated quote."""
    tokens: list[tuple[str, int, int, bool]] = []
    i, n, line, col = 0, len(text), 1, 1
    while i < n:
        c = text[i]
        if c == "\n":
            i, line, col = i + 1, line + 1, 1
            continue
        if c in " \t\r\f":
            i, col = i + 1, col + 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "{};":
            tokens.append((c, line, col, False))
            i, col = i + 1, col + 1
            continue
        start_line, start_col = line, col
        if c in "\"'":
            quote, i, col = c, i + 1, col + 1
            chars = []
            while True:
                if i >= n:
                    raise DeployParseError("unterminated quoted string", start_line)
                c = text[i]
                if c == "\\" and i + 1 < n:
                    chars.append(text[i + 1] if text[i + 1] == quote else c + text[i + 1])
                    i, col = i + 2, col + 2
                    continue
                i, col = i + 1, col + 1
                if c == quote:
                    break
                if c == "\n":
                    line, col = line + 1, 1
                chars.append(c)
            tokens.append(("".join(chars), start_line, start_col, True))
            continue
        chars = []
        while i < n:
            c = text[i]
            if c == "{" and chars and chars[-1] == "$":  # ${variable}
                while i < n and text[i] != "}" and text[i] != "\n":
                    chars.append(text[i])
                    i, col = i + 1, col + 1
                if i < n and text[i] == "}":
                    chars.append("}")
                    i, col = i + 1, col + 1
                continue
            if c in " \t\r\n\f;{}":
                break
            if c == "\\" and i + 1 < n:
                chars.append(text[i : i + 2])
                i, col = i + 2, col + 2
                continue
            chars.append(c)
            i, col = i + 1, col + 1
        tokens.append(("".join(chars), start_line, start_col, False))
    return tokens


def _nginx_tree(text: str) -> list[_Directive]:
    tokens = _nginx_tokens(text)
    root: list[_Directive] = []
    stack: list[list[_Directive]] = [root]
    current: _Directive | None = None
    for token, line, col, quoted in tokens:
        if not quoted and token == ";":
            current = None
            continue
        if not quoted and token == "{":
            if current is None:
                current = _Directive("", [], line, col)
                stack[-1].append(current)
            current.block = []
            stack.append(current.block)
            current = None
            continue
        if not quoted and token == "}":
            if len(stack) == 1:
                raise DeployParseError("unexpected `}`", line)
            stack.pop()
            current = None
            continue
        if current is None:
            current = _Directive(token, [], line, col)
            stack[-1].append(current)
        else:
            current.args.append(token)
    if len(stack) > 1:
        raise DeployParseError("unbalanced braces: a block is not closed", tokens[-1][1] if tokens else 1)
    return root


_PASSES = ("proxy", "uwsgi", "fastcgi", "scgi")
# Directives that nginx inherits from outer levels unless the inner level writes its own.
_INHERITED = ("expires", "add_header", "more_set_headers") + tuple(
    f"{kind}_{name}"
    for kind in _PASSES
    for name in (
        "cache",
        "ignore_headers",
        "hide_header",
        "cache_key",
        "cache_valid",
        "no_cache",
        "cache_bypass",
    )
)


def _read_nginx(text: str) -> tuple[tuple[Server, ...], tuple[tuple[str, str], ...]]:
    tree = _nginx_tree(text)
    variables: list[tuple[str, str]] = []
    _collect_variables(tree, (), variables)
    servers: list[Server] = []

    def walk(directives: list[_Directive], inherited: dict[str, list[_Directive]]) -> None:
        for directive in directives:
            if directive.block is None:
                continue
            if directive.name == "server" and not directive.args:
                servers.append(_nginx_server(directive.block, _inherit(inherited, directive.block)))
            elif directive.name in ("http", ""):
                walk(directive.block, _inherit(inherited, directive.block))

    top = _inherit({}, tree)
    walk(tree, top)
    # A snippet file of locations (``include``d into a server elsewhere) is a server of its own.
    if any(d.name == "location" and d.block is not None for d in tree):
        servers.append(_nginx_server(tree, top))
    return tuple(servers), tuple(variables)


def _collect_variables(
    directives: list[_Directive], conditions: tuple[str, ...], out: list[tuple[str, str]]
) -> None:
    for directive in directives:
        if directive.name == "map" and len(directive.args) >= 2:
            body = " ".join(" ".join([d.name, *d.args]) for d in directive.block or ())
            out.append((directive.args[1], f"{directive.args[0]} {body}"))
        elif directive.name == "set" and len(directive.args) >= 2:
            out.append((directive.args[0], " ".join([*conditions, directive.args[1]])))
        if directive.block is not None and directive.name != "map":
            inner = (*conditions, " ".join(directive.args)) if directive.name == "if" else conditions
            _collect_variables(directive.block, inner, out)


def _inherit(outer: dict[str, list[_Directive]], block: list[_Directive]) -> dict[str, list[_Directive]]:
    """The inherited directives in effect inside ``block``: its own replace the outer ones."""
    merged = dict(outer)
    own: dict[str, list[_Directive]] = {}
    for directive in block:
        if directive.name in _INHERITED and directive.block is None:
            own.setdefault(directive.name, []).append(directive)
    # ``add_header`` and ``more_set_headers`` are separate modules: each replaces its own kind.
    merged.update(own)
    return merged


def _nginx_server(block: list[_Directive], effective: dict[str, list[_Directive]]) -> Server:
    locations: list[UrlLocation] = []

    def visit(directives: list[_Directive], outer: dict[str, list[_Directive]]) -> None:
        for directive in directives:
            if directive.name != "location" or directive.block is None or not directive.args:
                continue
            modifier, pattern = ("", directive.args[0])
            if len(directive.args) >= 2 and directive.args[0] in ("=", "~", "~*", "^~"):
                modifier, pattern = directive.args[0], directive.args[1]
            elif directive.args[0].startswith(("=", "~*", "~", "^~")) and len(directive.args) == 1:
                for mod in ("^~", "~*", "~", "="):
                    if directive.args[0].startswith(mod):
                        modifier, pattern = mod, directive.args[0][len(mod) :]
                        break
            inner = _inherit(outer, directive.block)
            locations.append(
                UrlLocation(
                    modifier,
                    pattern,
                    directive.span,
                    cache=_nginx_cache_header(inner),
                    proxy=_nginx_proxy(directive.block, inner),
                )
            )
            visit(directive.block, inner)

    visit(block, effective)
    return Server(tuple(locations), "nginx")


def _nginx_cache_header(effective: dict[str, list[_Directive]]) -> CacheHeader | None:
    found: list[CacheHeader] = []
    for directive in effective.get("expires", ()):
        args = [a for a in directive.args if a != "modified"]
        if not args:
            continue
        value = args[0]
        seconds = EXPIRES_MAX if value == "max" else nginx_seconds(value.lstrip("+"))
        if seconds is not None and not value.startswith(("-", "@")):
            found.append(CacheHeader(directive.text(), directive.span, seconds))
    for directive in effective.get("add_header", ()):
        if len(directive.args) >= 2 and directive.args[0].lower() == "cache-control":
            age, immutable = max_age_of(directive.args[1])
            found.append(CacheHeader(directive.text(), directive.span, age, immutable))
    for directive in effective.get("more_set_headers", ()):
        for arg in directive.args:
            name, _, value = arg.partition(":")
            if name.strip().lower() == "cache-control" and value:
                age, immutable = max_age_of(value)
                found.append(CacheHeader(directive.text(), directive.span, age, immutable))
    long = [h for h in found if _long(h.max_age, h.immutable)]
    return long[0] if long else None


def _nginx_proxy(block: list[_Directive], effective: dict[str, list[_Directive]]) -> ProxyCache | None:
    """The response cache in front of a location that passes requests upstream itself."""
    for kind in _PASSES:
        if not any(d.name == f"{kind}_pass" for d in _own_and_if(block)):
            continue
        caches = effective.get(f"{kind}_cache", ())
        if not caches or not caches[-1].args or caches[-1].args[0] == "off":
            return None

        def each(name: str, kind: str = kind) -> list[_Directive]:
            return list(effective.get(f"{kind}_{name}", ()))

        ignores = tuple((arg, d.span) for d in each("ignore_headers") for arg in d.args)
        hides = tuple((arg, d.span) for d in each("hide_header") for arg in d.args)
        keys = each("cache_key")
        key = (" ".join(keys[-1].args), keys[-1].span) if keys and keys[-1].args else None
        valid = each("cache_valid")
        return ProxyCache(
            kind,
            caches[-1].span,
            ignores,
            hides,
            key,
            valid[0].span if valid else None,
            tuple(arg for d in each("no_cache") for arg in d.args),
            tuple(arg for d in each("cache_bypass") for arg in d.args),
        )
    return None


def _own_and_if(block: list[_Directive]) -> list[_Directive]:
    out = []
    for directive in block:
        out.append(directive)
        if directive.name == "if" and directive.block:
            out.extend(directive.block)
    return out


# --- Apache -------------------------------------------------------------------------------------

_APACHE_UNITS = {
    "year": YEAR,
    "month": 30 * 86400,
    "week": 7 * 86400,
    "day": 86400,
    "hour": 3600,
    "minute": 60,
    "second": 1,
}


def apache_seconds(value: str) -> int | None:
    """``access plus 1 year``, ``A31536000``, ``modification plus 2 weeks 3 days``."""
    value = value.strip().strip("\"'")
    compact = re.fullmatch(r"[AM](\d+)", value)
    if compact:
        return int(compact.group(1))
    words = value.lower().split()
    if len(words) < 3 or words[0] not in ("access", "now", "modification") or words[1] != "plus":
        return None
    total = 0
    rest = words[2:]
    if len(rest) % 2:
        return None
    for number, unit in zip(rest[::2], rest[1::2]):
        unit = unit.rstrip("s")
        if not number.isdigit() or unit not in _APACHE_UNITS:
            return None
        total += int(number) * _APACHE_UNITS[unit]
    return total


def _apache_words(line: str) -> list[str]:
    words = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)', line):
        if match.group(3) is not None and match.group(3).startswith("#"):
            break  # a trailing comment
        words.append(next(g for g in match.groups() if g is not None))
    return words


def _shown(words: list[str]) -> str:
    """A directive as written (quotes around arguments with spaces), shortened."""
    written = " ".join(f'"{w}"' if (" " in w or not w) else w for w in words)
    return written if len(written) <= 80 else written[:77] + "..."


def _read_apache(text: str) -> tuple[Server, ...]:
    """Sections (``<Location>``, ``<LocationMatch>``, ``<Directory>`` reached through an
    ``Alias``, ``<FilesMatch>``) with the long-lived caching written in them."""
    lines = text.splitlines()
    # (section name, argument, line, caching found inside)
    sections: list[tuple[str, str, int, list[CacheHeader]]] = []
    stack: list[tuple[str, str, int, list[CacheHeader]]] = []
    aliases: list[tuple[str, str]] = []  # (URL prefix, directory)
    expires_on = re.search(r"^\s*ExpiresActive\s+On\b", text, re.IGNORECASE | re.MULTILINE) is not None
    number = 0
    while number < len(lines):
        raw = lines[number]
        first = number + 1
        while raw.endswith("\\") and number + 1 < len(lines):
            number += 1
            raw = raw[:-1] + " " + lines[number]
        number += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        col = len(raw) - len(raw.lstrip()) + 1
        opening = re.match(r"<\s*(\w+)\s*([^>]*)>", stripped)
        if opening:
            args = _apache_words(opening.group(2))
            entry = (opening.group(1).lower(), args[-1] if args else "", first, [])
            stack.append(entry)
            if entry[0] not in ("ifmodule", "ifdefine", "virtualhost", "ifversion"):
                sections.append(entry)
            continue
        if re.match(r"</\s*\w+\s*>", stripped):
            if stack:
                stack.pop()
            continue
        words = _apache_words(stripped)
        if not words:
            continue
        name = words[0].lower()
        header: CacheHeader | None = None
        span = Span(first, col, first, col + len(words[0]))
        shown = _shown(words)
        if name == "alias" and len(words) >= 3:
            aliases.append((words[1], words[2]))
        elif name in ("expiresdefault", "expiresbytype") and expires_on and len(words) >= 2:
            seconds = apache_seconds(words[-1])
            if seconds is not None:
                header = CacheHeader(shown, span, seconds)
        elif name == "header" and len(words) >= 3:
            rest = words[1:]
            if rest[0].lower() in ("always", "onsuccess"):
                rest = rest[1:]
            if (
                len(rest) >= 3
                and rest[0].lower() in ("set", "append", "merge", "add")
                and (rest[1].lower() == "cache-control")
            ):
                age, immutable = max_age_of(rest[2])
                header = CacheHeader(shown, span, age, immutable)
        if header is not None and _long(header.max_age, header.immutable):
            for entry in reversed(stack):
                if entry[0] not in ("ifmodule", "ifdefine", "ifversion"):
                    entry[3].append(header)
                    break
    locations: list[UrlLocation] = []
    for kind, argument, line, headers in sections:
        if not headers or not argument:
            continue
        span = Span(line)
        if kind == "location":
            locations.append(UrlLocation("", argument, span, headers[0]))
        elif kind == "locationmatch":
            locations.append(UrlLocation("apache-regex", argument, span, headers[0]))
        elif kind in ("directory", "directorymatch"):
            for url, directory in aliases:
                if directory.rstrip("/") == argument.rstrip("/"):
                    locations.append(UrlLocation("", url, span, headers[0]))
    return (Server(tuple(locations), "any"),) if locations else ()


# --- Caddy --------------------------------------------------------------------------------------


def _caddy_lines(text: str) -> list[tuple[list[str], int, int]]:
    """Logical lines of a Caddyfile: (tokens, line, column); braces are tokens of their own."""
    out: list[tuple[list[str], int, int]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens: list[str] = []
        for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)', raw):
            word = match.group(3)
            if word is not None and word.startswith("#"):
                break
            if word is not None and len(word) > 1 and word.endswith("{") and not word.startswith("{"):
                tokens.extend([word[:-1], "{"])
                continue
            tokens.append(next(g for g in match.groups() if g is not None))
        if tokens:
            out.append((tokens, number, len(raw) - len(raw.lstrip()) + 1))
    return out


def _glob(pattern: str) -> str:
    """A Caddy path pattern as the prefix it means, when it is one (``/static/*``)."""
    return pattern[:-1] if pattern.endswith("*") and "*" not in pattern[:-1] else ""


def _read_caddy(text: str) -> tuple[Server, ...]:
    lines = _caddy_lines(text)
    matchers: dict[str, list[str]] = {}  # named matcher -> its path patterns
    # (scope patterns, cache header) collected while walking; scope () is the whole site.
    found: list[tuple[tuple[str, ...], Span, CacheHeader]] = []
    stack: list[tuple[tuple[str, ...], str, Span]] = []  # (patterns, directive, span) of open blocks
    for tokens, line, col in lines:
        if tokens == ["}"]:
            if stack:
                stack.pop()
            continue
        opens = tokens[-1] == "{"
        words = tokens[:-1] if opens else tokens
        span = Span(line, col, line, col + len(words[0]) if words else col)
        name = words[0] if words else ""
        scope = stack[-1][0] if stack else ()
        if name.startswith("@") and len(name) > 1:
            if len(words) >= 3 and words[1] == "path":
                matchers[name] = words[2:]
            elif opens:
                matchers.setdefault(name, [])
                stack.append(((), name, span))
                continue
        elif stack and stack[-1][1].startswith("@") and name == "path":
            matchers[stack[-1][1]].extend(words[1:])
        elif name in ("handle", "handle_path", "route") and len(words) >= 2:
            scope = _caddy_scope(words[1], matchers)
        elif name == "header":
            rest = words[1:]
            if rest and (rest[0].startswith(("/", "@")) or rest[0] == "*"):
                scope = _caddy_scope(rest[0], matchers) if rest[0] != "*" else scope
                rest = rest[1:]
            if len(rest) >= 2 and rest[0].lstrip("+>?").lower() == "cache-control":
                age, immutable = max_age_of(" ".join(rest[1:]))
                if _long(age, immutable):
                    found.append((scope, span, CacheHeader(_shown(words), span, age, immutable)))
            elif opens:
                stack.append((scope, "header", span))
                continue
        elif stack and stack[-1][1] == "header" and name.lstrip("+>?").lower() == "cache-control":
            age, immutable = max_age_of(" ".join(words[1:]))
            if _long(age, immutable):
                found.append((scope, span, CacheHeader(_shown(words), span, age, immutable)))
        if opens:
            stack.append((scope, name, span))
    locations = [
        UrlLocation("glob", pattern, span, header) for scope, span, header in found for pattern in scope
    ]
    return (Server(tuple(locations), "any"),) if locations else ()


def _caddy_scope(matcher: str, matchers: dict[str, list[str]]) -> tuple[str, ...]:
    if matcher.startswith("@"):
        return tuple(matchers.get(matcher, ()))
    return (matcher,) if matcher.startswith("/") else ()


# --- ingress-nginx annotations ------------------------------------------------------------------

_SNIPPET = re.compile(
    r"""^(?P<indent>\s*)["']?nginx\.ingress\.kubernetes\.io/(?P<kind>configuration|server)-snippet["']?\s*:"""
    r"""\s*(?P<rest>.*)$"""
)
_INGRESS_PATH = re.compile(r"""^\s*(?:-\s*)?path\s*:\s*["']?(/[^"'\s#]*)""")


def _read_ingress(text: str) -> tuple[Server, ...]:
    """The nginx snippets of ingress-nginx annotations, read as nginx with their own line
    numbers: a server snippet's locations, and a configuration snippet applied to each path of
    its document's ingress rules."""
    if "snippet" not in text:
        return ()
    lines = text.splitlines()
    servers: list[Server] = []
    start = 0
    for end in [i for i, line in enumerate(lines) if line.strip() == "---"] + [len(lines)]:
        servers.extend(_ingress_document(lines, start, end))
        start = end + 1
    return tuple(servers)


def _ingress_document(lines: list[str], start: int, end: int) -> list[Server]:
    paths = [m.group(1) for line in lines[start:end] if (m := _INGRESS_PATH.match(line))]
    servers: list[Server] = []
    number = start
    while number < end:
        match = _SNIPPET.match(lines[number])
        number += 1
        if not match:
            continue
        indent = len(match.group("indent"))
        body = [""] * len(lines)
        rest = match.group("rest").strip()
        if rest and not rest.startswith(("|", ">")):
            body[number - 1] = " " * (len(lines[number - 1]) - len(rest)) + rest.strip("\"'")
        else:
            while number < end and (
                not lines[number].strip() or len(lines[number]) - len(lines[number].lstrip()) > indent
            ):
                body[number] = lines[number]
                number += 1
        snippet = "\n".join(body)
        try:
            tree = _nginx_tree(_untemplated(snippet))
        except DeployParseError:
            continue  # a templated value that is not nginx yet
        if match.group("kind") == "server":
            found, _ = _read_nginx(_untemplated(snippet))
            servers.extend(found)
            continue
        effective = _inherit({}, tree)
        header = _nginx_cache_header(effective)
        if header is not None and tree:
            span = Span(tree[0].line, tree[0].col)
            servers.append(Server(tuple(UrlLocation("", p, span, header) for p in paths), "any"))
    return servers


# --- Varnish VCL --------------------------------------------------------------------------------

_VCL_TOKEN = re.compile(
    r'(?P<long>\{"(?:.|\n)*?"\})|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<comment>#[^\n]*|//[^\n]*|/\*(?:.|\n)*?\*/)'
    r"|(?P<word>[A-Za-z_][\w.\-:]*)|(?P<punct>!~|==|!=|&&|\|\||\S)|(?P<newline>\n)|[ \t\r\f]+"
)


def _read_vcl(text: str) -> tuple[VclAction, ...]:
    tokens: list[tuple[str, str, int, int]] = []  # (kind, text, line, col)
    line, line_start = 1, 0
    for match in _VCL_TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind in ("word", "punct", "string", "long"):
            tokens.append((kind, value, line, match.start() - line_start + 1))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            line_start = match.start() + value.rfind("\n") + 1
    actions: list[VclAction] = []
    depth = 0
    index = 0
    while index < len(tokens):
        kind, value, line, col = tokens[index]
        if value == "sub" and depth == 0 and index + 2 < len(tokens) and tokens[index + 2][1] == "{":
            name = tokens[index + 1][1]
            index = _vcl_block(tokens, index + 3, name, (), actions)
            continue
        if value == "{":
            depth += 1
        elif value == "}":
            depth -= 1
            if depth < 0:
                raise DeployParseError("unexpected `}`", line)
        index += 1
    if depth > 0:
        raise DeployParseError("unbalanced braces: a block is not closed", tokens[-1][2] if tokens else 1)
    return tuple(actions)


def _vcl_block(
    tokens: list[tuple[str, str, int, int]],
    index: int,
    sub: str,
    conditions: tuple[str, ...],
    actions: list[VclAction],
) -> int:
    """Statements up to the ``}`` closing this block; returns the index after it."""
    while index < len(tokens):
        kind, value, line, col = tokens[index]
        if value == "}":
            return index + 1
        if value in ("if", "elsif", "elseif", "else") and kind == "word":
            index += 1
            if value == "else" and index < len(tokens) and tokens[index][1] == "if":
                index += 1
                value = "elsif"
            condition = ""
            if value != "else" and index < len(tokens) and tokens[index][1] == "(":
                index, condition = _vcl_parenthesised(tokens, index)
            if value == "else":
                condition = "else"
            if index < len(tokens) and tokens[index][1] == "{":
                index = _vcl_block(tokens, index + 1, sub, (*conditions, condition), actions)
            continue
        if value == "{":
            index = _vcl_block(tokens, index + 1, sub, conditions, actions)
            continue
        if kind == "word" and value in ("unset", "remove") and index + 1 < len(tokens):
            target = tokens[index + 1][1].lower()
            actions.append(
                VclAction(sub, "unset", target, Span(line, col, line, col + len(value)), conditions)
            )
        elif kind == "word" and value in ("return", "hash_data") and index + 1 < len(tokens):
            end, inside = (
                _vcl_parenthesised(tokens, index + 1) if tokens[index + 1][1] == "(" else (index + 1, "")
            )
            target = inside.strip().lower() if value == "return" else inside.strip()
            actions.append(VclAction(sub, value, target, Span(line, col, line, col + len(value)), conditions))
            index = end
            continue
        index += 1
    raise DeployParseError("unbalanced braces: a block is not closed", tokens[-1][2] if tokens else 1)


def _vcl_parenthesised(tokens: list[tuple[str, str, int, int]], index: int) -> tuple[int, str]:
    """The text inside the parentheses opening at ``index``, and the index after them."""
    depth = 0
    parts = []
    while index < len(tokens):
        value = tokens[index][1]
        depth += value.count("(") - value.count(")")
        parts.append(value)
        index += 1
        if depth <= 0:
            break
    text = " ".join(parts)
    return index, text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text
