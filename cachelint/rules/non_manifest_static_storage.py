from __future__ import annotations

from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.django_version import LATEST
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Finding, Location, Severity
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.registry import Rule, register
from cachelint.settings_queries import deployable_production

STATICFILES_APP = "django.contrib.staticfiles"


@register
class NonManifestStaticStorage(Rule):
    code = "CL501"
    slug = "non-manifest-static-storage"
    severity = Severity.WARNING
    summary = "Production static files storage does not hash file names, so assets cannot be cached long"
    tags = ("performance",)
    what_it_does = """
Flags the `staticfiles` storage of a production settings module (`STORAGES["staticfiles"]
["BACKEND"]` or the legacy `STATICFILES_STORAGE`) when it is not a hashing storage
(`ManifestStaticFilesStorage`, WhiteNoise's `CompressedManifestStaticFilesStorage`,
django-storages' `S3ManifestStaticStorage`, or a project subclass of one), and production
settings that use `django.contrib.staticfiles` without defining a storage at all. Without
deployment evidence (below), a module is production when its name says so (`prod`, `production`, `live`, `deploy`) or it sets
`DEBUG = False`, and its dotted name does not say development, tests or CI anywhere (`dev`,
`local`, `tests.settings`, `testsettings`, `pytest`, `ci`, `travis`, `github`, ...). A base
module that other settings star-import is judged through the production modules that run it
(it may set `DEBUG = False` only for development settings to override); a storage written in
a base is reported once, where it is written, and a missing storage once, at the production
module that runs. From Django 5.1 on (the version the project declares, else the latest) the
legacy `STATICFILES_STORAGE` is ignored unless `STORAGES` names a `staticfiles` storage, so
cachelint treats it as absent too. Storages cachelint does not know are not flagged.
Which settings run in production is read from the project's own files first: a module that a
deployment file names (`DJANGO_SETTINGS_MODULE` in a Dockerfile, Procfile, compose or
Kubernetes/Helm file, `.env` file or start script) is production whatever its name, and then
the others are not; the default of `wsgi.py`/`asgi.py`/`celery.py` counts next; a module that
only pytest, tox or CI configuration (or a file named for development) names is not
production, nor is the example or test project of a packaged reusable app (`testproject/`,
`example*/`, `sandbox/`, `demo*/`). `cachelint check --show-settings` shows each verdict and
the file line behind it.
"""
    why_is_this_bad = """
Without content hashes in file names, `app.css` keeps its URL when its content changes. You
must either serve assets with a short cache lifetime (slow pages, more requests) or risk
browsers and CDNs serving the old file for a year after a deploy.
"""
    bad_example = {
        "mysite/settings/production.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},  # expect: CL501
}
""",
    }
    good_example = {
        "mysite/settings/base.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
""",
        "mysite/settings/production.py": """from .base import *

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
""",
        "mysite/settings/dev.py": """from .base import *

DEBUG = True
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        # A base module is judged through the production modules that run it (it may be
        # DEBUG = False only to be overridden); a cause written once is reported once.
        found: dict[str, tuple[Finding, bool]] = {}
        for module in project.settings_modules:
            if deployable_production(module):
                result = self._check_module(project, module)
                if result is not None:
                    found[module.module] = result
        # "No storage at all" is reported at the module that runs, not at each base of it.
        missing = {name for name, (_, absent) in found.items() if absent}
        seen: set[Location] = set()
        for name, (finding, absent) in found.items():
            if absent and any(name in _star_imported(project, other) for other in missing - {name}):
                continue
            if finding.location not in seen:
                seen.add(finding.location)
                yield finding

    def _check_module(self, project: ProjectModel, module: SettingsModule) -> tuple[Finding, bool] | None:
        """The finding, and whether its cause is the absence of any storage setting."""
        storages = module.value("STORAGES")
        legacy = module.value("STATICFILES_STORAGE")
        if storages is UNKNOWN:
            return None
        version = project.django_version or LATEST
        defines_staticfiles = isinstance(storages, dict) and "staticfiles" in storages
        ignored = None  # where a legacy setting that this Django version ignores is written
        if version >= api.LEGACY_STORAGE_REMOVED and legacy is not None and not defines_staticfiles:
            ignored, legacy = module.location_of("STATICFILES_STORAGE"), None
        if legacy is UNKNOWN:
            return None
        removed = (
            f"Django {version[0]}.{version[1]} ignores the legacy `STATICFILES_STORAGE` (removed in 5.1;"
            f" {project.django_version_note()})"
        )
        if isinstance(storages, dict):
            entry = storages.get("staticfiles")
            if entry is None:
                location = module.location_of("STORAGES")
                assert location is not None
                what = '`STORAGES` has no "staticfiles" entry'
                return self._missing(
                    module, location, f"{what} and {removed}" if ignored else what, ignored
                ), False
            if not isinstance(entry, dict) or not isinstance(entry.get("BACKEND"), str):
                return None
            backend = entry["BACKEND"]
            location = location_in_dict(
                entry, "BACKEND", location_in_dict(storages, "staticfiles", module.location_of("STORAGES"))
            )  # type: ignore[arg-type]
        elif isinstance(legacy, str):
            backend = legacy
            location = module.location_of("STATICFILES_STORAGE")  # type: ignore[assignment]
        elif storages is None and legacy is None:
            apps = module.value("INSTALLED_APPS")
            if not isinstance(apps, list | tuple) or STATICFILES_APP not in apps:
                return None
            if ignored is not None:
                return self._missing(module, ignored, removed), False
            return self._missing(module, Location(module.path), "no staticfiles storage is configured"), True
        else:
            return None
        if _is_hashing(project, backend) is not False:
            return None
        finding = self.finding(
            location,
            f"production static files storage `{backend.rsplit('.', 1)[-1]}` does not hash file "
            "names: assets cannot be cached for long without serving stale files after a deploy",
            hint="use `django.contrib.staticfiles.storage.ManifestStaticFilesStorage` or "
            "`whitenoise.storage.CompressedManifestStaticFilesStorage`",
            related=_production_evidence(module),
        )
        return finding, False

    def _missing(
        self, module: SettingsModule, location: Location, what: str, ignored: Location | None = None
    ) -> Finding:
        related = _production_evidence(module)
        if ignored is not None and ignored != location:
            related.append(Evidence(ignored, "legacy `STATICFILES_STORAGE`, ignored, set here"))
        return self.finding(
            location,
            f"production settings `{module.module}`: {what}, so Django's non-hashing "
            "`StaticFilesStorage` is used and assets cannot be cached for long",
            hint='set STORAGES["staticfiles"] to a manifest storage such as '
            "`django.contrib.staticfiles.storage.ManifestStaticFilesStorage`",
            related=related,
        )


def _star_imported(project: ProjectModel, name: str) -> set[str]:
    """The settings modules that ``name`` star-imports, transitively."""
    found: set[str] = set()
    pending = [name]
    while pending:
        facts = project.modules.get(pending.pop())
        for imported in facts.settings.star_imports if facts and facts.settings else ():
            if imported not in found:
                found.add(imported)
                pending.append(imported)
    return found


def _production_evidence(module: SettingsModule) -> list[Evidence]:
    if module.production and module.production_location is not None:
        return [Evidence(module.production_location, f"production settings: `{module.module}` is named here")]
    debug = module.location_of("DEBUG")
    if debug is not None and module.value("DEBUG") is False:
        return [Evidence(debug, "production settings: DEBUG is False here")]
    return []


def _is_hashing(project: ProjectModel, backend: str, depth: int = 0) -> bool | None:
    """True/False when known, None when cachelint cannot tell (then it stays silent)."""
    name = backend.rsplit(".", 1)[-1]
    if any(hint in name for hint in api.HASHING_STORAGE_HINTS):
        return True
    if backend in api.NON_HASHING_STORAGES or backend.startswith(api.NON_HASHING_STORAGE_PREFIXES):
        return False
    bases = project.class_bases(backend)
    if bases is None or depth > 5:
        return None
    results = [_is_hashing(project, base, depth + 1) for base in bases]
    if any(r is True for r in results):
        return True
    if results and all(r is False for r in results):
        return False
    return None
