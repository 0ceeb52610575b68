from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.static_queries import unhashed_static_storages


def duration(seconds: int) -> str:
    """``31536000`` as "1 year", ``2592000`` as "30 days", ``315360000`` as "10 years"."""
    year, day = 365 * 86400, 86400
    if seconds >= year and seconds % year == 0:
        count, unit = seconds // year, "year"
    elif seconds >= day:
        count, unit = round(seconds / day), "day"
    else:
        count, unit = round(seconds / 3600), "hour"
    return f"{count} {unit}{'s' if count != 1 else ''}"


@register
class StaticImmutableWithoutHashing(Rule):
    code = "CL701"
    slug = "static-immutable-without-hashing"
    severity = Severity.WARNING
    summary = "Web server caches static files for long while production's static storage does not hash names"
    tags = ("performance", "correctness")
    what_it_does = """
Reads the web-server files in the repository (nginx `*.conf`, `*.conf.template`,
`sites-available/*`, `conf.d/*`; Apache `<Location>` and `<Directory>` sections reached through
an `Alias`; Caddyfiles; ingress-nginx `configuration-snippet`/`server-snippet` annotations in
Kubernetes and Helm YAML) and flags the location that serves files below `STATIC_URL` (default
`/static/`) with a cache lifetime of a week or more (`expires 1y`, `expires max`,
`add_header Cache-Control "max-age=31536000"`, `immutable`, Apache `ExpiresDefault`/
`ExpiresByType`/`Header set Cache-Control`, Caddy `header Cache-Control`) while a production
settings module uses a static files storage that does not hash file names (the condition of
CL501). For nginx the location is the one nginx picks for an asset request (exact match,
longest prefix, `^~`, then the first matching regular expression), with `expires` and
`add_header` inherited from the server as nginx does. A catch-all location (`location /`) is
not counted. The finding is on the config line; the settings line is its evidence.
"""
    why_is_this_bad = """
Without content hashes, `app.css` keeps its URL when its content changes, and the web server
tells every browser and CDN to keep it for a year. After a deploy visitors run new HTML against
old CSS and JavaScript until their copy expires, and no purge reaches their browsers.
"""
    bad_example = {
        "mysite/settings/production.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
""",
        "deploy/nginx/site.conf": """server {
    listen 80;
    location /static/ {
        alias /srv/app/static/;
        expires 1y;  # expect: CL701
    }
    location / {
        proxy_pass http://app:8000;
    }
}
""",
    }
    good_example = {
        "mysite/settings/production.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
""",
        "deploy/nginx/site.conf": """server {
    listen 80;
    location /static/ {
        alias /srv/app/static/;
        expires 1y;
        add_header Cache-Control "public, immutable";
    }
    location / {
        proxy_pass http://app:8000;
    }
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        if not project.deployment:
            return
        storages = unhashed_static_storages(project)
        if not storages:
            return
        storage = storages[0]
        backend = storage.backend.rsplit(".", 1)[-1] or "StaticFilesStorage"
        for found in project.static_long_caching():
            header = found.header
            lifetime = f"for {duration(header.max_age)}" if header.max_age is not None else "as `immutable`"
            modifier = {"glob": "", "apache-regex": "~"}.get(found.location.modifier, found.location.modifier)
            where = " ".join(p for p in (modifier, found.location.pattern) if p)
            related = [
                Evidence(
                    Location(found.path, found.location.span), f"`{where}` serves the files of `STATIC_URL`"
                ),
                Evidence(storage.location, f"production static storage `{backend}` does not hash names"),
            ]
            if related[0].location.span.line == header.span.line:
                related.pop(0)  # one line says both (a Caddy `header @static ...`)
            yield self.finding(
                Location(found.path, header.span),
                f"`{header.text}` caches static files under `{project.static_url_path}` {lifetime} "
                f"while production's static files storage `{backend}` does not hash file names: "
                "after a deploy, browsers keep the old assets",
                hint="use a manifest storage (`ManifestStaticFilesStorage`, WhiteNoise's "
                "`CompressedManifestStaticFilesStorage`) so a changed file gets a new URL, or keep "
                "the lifetime of unhashed files short (`expires 1h`)",
                related=related,
            )
