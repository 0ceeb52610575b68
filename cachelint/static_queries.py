"""Does production's static files storage hash file names? Asked by CL501 (which reports the
storage) and CL701 (which reports a web server caching unhashed assets for long)."""

from __future__ import annotations

from dataclasses import dataclass

from cachelint import django_api as api
from cachelint.django_version import LATEST
from cachelint.facts.values import UNKNOWN
from cachelint.finding import Evidence, Location
from cachelint.project import ProjectModel, SettingsModule, location_in_dict
from cachelint.settings_queries import deployable_production, static_dirs

STATICFILES_APP = "django.contrib.staticfiles"


@dataclass(frozen=True)
class UnhashedStorage:
    """A production settings module whose static files storage does not hash names."""

    module: str
    location: Location  # where the storage (or its absence) is written
    message: str
    hint: str
    related: tuple[Evidence, ...] = ()
    backend: str = ""  # the storage class, when one is named


def unhashed_static_storages(project: ProjectModel) -> list[UnhashedStorage]:
    """One entry per cause: the non-hashing storage a production module uses, or the
    production module that defines none. A base module is judged through the production modules
    that run it (it may be DEBUG = False only to be overridden); a storage written in a base is
    reported once, where it is written, and a missing storage once, at the module that runs."""
    found: dict[str, tuple[UnhashedStorage, bool]] = {}
    for module in project.settings_modules:
        if deployable_production(module):
            result = _check_module(project, module)
            if result is not None:
                found[module.module] = result
    missing = {name for name, (_, absent) in found.items() if absent}
    seen: set[Location] = set()
    out = []
    for name, (entry, absent) in found.items():
        if absent and any(name in _star_imported(project, other) for other in missing - {name}):
            continue
        if entry.location not in seen:
            seen.add(entry.location)
            out.append(entry)
    return out


def _check_module(project: ProjectModel, module: SettingsModule) -> tuple[UnhashedStorage, bool] | None:
    """The problem, and whether its cause is the absence of any storage setting."""
    if _hashed_anyway(project, module):
        return None
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
            return _missing(module, location, f"{what} and {removed}" if ignored else what, ignored), False
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
            return _missing(module, ignored, removed), False
        return _missing(module, Location(module.path), "no staticfiles storage is configured"), True
    else:
        return None
    if _is_hashing(project, backend) is not False:
        return None
    entry = UnhashedStorage(
        module.module,
        location,
        f"production static files storage `{backend.rsplit('.', 1)[-1]}` does not hash file "
        "names: assets cannot be cached for long without serving stale files after a deploy",
        "use `django.contrib.staticfiles.storage.ManifestStaticFilesStorage` or "
        "`whitenoise.storage.CompressedManifestStaticFilesStorage`",
        tuple(_production_evidence(module)),
        backend,
    )
    return entry, False


def _missing(
    module: SettingsModule, location: Location, what: str, ignored: Location | None = None
) -> UnhashedStorage:
    related = _production_evidence(module)
    if ignored is not None and ignored != location:
        related.append(Evidence(ignored, "legacy `STATICFILES_STORAGE`, ignored, set here"))
    return UnhashedStorage(
        module.module,
        location,
        f"production settings `{module.module}`: {what}, so Django's non-hashing "
        "`StaticFilesStorage` is used and assets cannot be cached for long",
        'set STORAGES["staticfiles"] to a manifest storage such as '
        "`django.contrib.staticfiles.storage.ManifestStaticFilesStorage`",
        tuple(related),
        "django.contrib.staticfiles.storage.StaticFilesStorage",
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


def _hashed_anyway(project: ProjectModel, module: SettingsModule) -> bool:
    """The assets carry content hashes without a manifest storage: the module sets
    ``WHITENOISE_IMMUTABLE_FILE_TEST`` (WhiteNoise is told which files are hashed), or a
    bundler config of the project writes hashed names into a ``STATICFILES_DIRS`` folder or an
    app's ``static/`` folder (when ``STATICFILES_DIRS`` cannot be read, any hashed bundle counts)."""
    if (
        "WHITENOISE_IMMUTABLE_FILE_TEST" in module.namespace
        and module.value("WHITENOISE_IMMUTABLE_FILE_TEST") is not None
    ):
        return True
    bundles = [b for b in project.bundlers.values() if b.hashed and b.out_dir]
    if not bundles:
        return False
    folders = static_dirs(project, module)
    if folders is None:
        return True
    for bundle in bundles:
        parts = tuple(p for p in (bundle.out_dir or "").split("/") if p and p != "..")
        for folder in [*folders, ("static",)]:
            if any(parts[i : i + len(folder)] == folder for i in range(len(parts) - len(folder) + 1)):
                return True
    return False
