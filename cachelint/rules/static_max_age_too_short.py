from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.settings_queries import deployable_production, production_evidence


@register
class StaticMaxAgeTooShort(Rule):
    code = "CL503"
    slug = "static-max-age-too-short"
    severity = Severity.WARNING
    default_enabled = False
    summary = "`WHITENOISE_MAX_AGE` below a day in production: static files are re-fetched often"
    tags = ("performance",)
    what_it_does = """
Flags `WHITENOISE_MAX_AGE` set to fewer than 86400 seconds (a day) in a production settings
module: one that a deployment file or `wsgi.py` names, else one named `prod`, `production`,
`live` or `deploy`, or with `DEBUG = False` (modules named `dev`, `local`, `test` or `ci`, and
those only pytest or CI configuration names, are skipped).

Off by default: WhiteNoise already serves files whose names carry a content hash (from a
manifest storage) with a cache lifetime of ten years whatever this setting says, so it only
governs files without a hash, for which a short lifetime can be a deliberate choice.
"""
    why_is_this_bad = """
Browsers and CDNs keep a static file only for `max-age` seconds; after that every page view
revalidates or downloads the file again. With a lifetime of minutes, repeat visitors keep
re-requesting unhashed assets, the CDN keeps going back to the origin, and pages load slower.
"""
    bad_example = {
        "mysite/settings/production.py": """DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 600  # expect: CL503
""",
    }
    good_example = {
        "mysite/settings/production.py": """DEBUG = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 604800  # a week
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        seen: set[Location] = set()
        for module in project.settings_modules:
            if not deployable_production(module):
                continue
            value = module.value("WHITENOISE_MAX_AGE")
            location = module.location_of("WHITENOISE_MAX_AGE")
            if not isinstance(value, int) or isinstance(value, bool) or value >= api.ONE_DAY:
                continue
            if location is None or location in seen:
                continue
            seen.add(location)
            yield self.finding(
                location,
                f"`WHITENOISE_MAX_AGE` is {value} seconds in production settings `{module.module}`: "
                "browsers and CDNs re-fetch static files without a hashed name that often",
                hint=f"use at least a day ({api.ONE_DAY}); hashed files are cached for years anyway",
                related=[production_evidence(module)],
            )
