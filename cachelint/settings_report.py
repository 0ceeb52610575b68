"""``cachelint check --show-settings``: the Django settings as cachelint concluded them.

Per settings module: production or not and why (the file line that says so), its star-import
chain, the django-configurations class named for it, and the key settings as resolved; plus the
Django version rules assume and where it was read, and every line of an entry point or
deployment file that names a settings module. Text output is TOML comments (the lines above
them are the ``[tool.cachelint]`` configuration, so the whole output stays valid TOML); JSON with
``--format json``.
"""

from __future__ import annotations

from typing import Any

from cachelint.facts.values import UNKNOWN, FromEnv
from cachelint.project import ProjectModel, SettingsModule

SHOWN_SETTINGS = (
    "DEBUG",
    "CACHES",
    "MIDDLEWARE",
    "MIDDLEWARE_CLASSES",
    "STORAGES",
    "STATICFILES_STORAGE",
    "SESSION_ENGINE",
    "CACHE_MIDDLEWARE_SECONDS",
    "CACHE_MIDDLEWARE_KEY_PREFIX",
)
# Shown even when unset (Django's default then applies).
_ALWAYS = ("DEBUG", "CACHES", "MIDDLEWARE", "STORAGES", "SESSION_ENGINE")
_DEFAULTS = {
    "DEBUG": "False",
    "CACHES": "a per-process LocMemCache",
    "MIDDLEWARE": "none",
    "STORAGES": "FileSystemStorage and StaticFilesStorage (no hashing)",
    "SESSION_ENGINE": "django.contrib.sessions.backends.db",
}


def _plain(value: Any) -> Any:
    """A JSON-able copy of an evaluated value: unknown parts as "<unknown>", environment
    defaults as {"env-default": ...}."""
    if value is UNKNOWN:
        return "<unknown>"
    if isinstance(value, FromEnv):
        return {"env-default": str(value)}
    if isinstance(value, dict):
        return {str(_plain(k)) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return f"<{type(value).__name__}>"


def _module_report(project: ProjectModel, module: SettingsModule) -> dict[str, Any]:
    values = {}
    for name in SHOWN_SETTINGS:
        binding = module.namespace.get(name)
        if binding is None:
            if name in _ALWAYS:
                values[name] = {"set": False, "default": _DEFAULTS[name]}
            continue
        values[name] = {"set": True, "value": _plain(binding.value), "path": binding.path, "line": binding.span.line}
    location = module.production_location
    configurations = project.configuration_for(module.module, module.path, production=False)
    return {
        "module": module.module,
        "path": module.path,
        "production": module.production,
        "reason": module.production_reason,
        "evidence": {"path": location.path, "line": location.span.line} if location and location.span else None,
        "leaf": module.is_leaf,
        "star_imports": list(module.star_chain),
        "configuration": [
            {"name": n.value, "path": n.path, "line": n.setting.line, "role": n.role} for n in configurations
        ],
        "production_configuration": list(
            dict.fromkeys(n.value for n in project.configuration_for(module.module, module.path))
        ),
        "settings": values,
    }


def settings_report(project: ProjectModel) -> dict[str, Any]:
    version = project.django_version_info()
    matched = [n for lines in project.settings_named.values() for n in lines]
    return {
        "django": {
            "version": f"{version.version[0]}.{version.version[1]}",
            "source": version.source or None,
            "line": version.line or None,
            "how": version.how,
            "note": version.note(),
        },
        "settings": [_module_report(project, m) for m in project.settings_modules],
        "named": [
            {
                "variable": n.setting.variable,
                "value": n.value,
                "role": n.role,
                "path": n.path,
                "line": n.setting.line,
                "found": n.setting.variable != "DJANGO_SETTINGS_MODULE" or n in matched,
            }
            for n in project.named_settings
        ],
    }


def _show(value: Any) -> str:
    """A JSON-like plain value (see ``_plain``) as Python would write it."""
    if value == "<unknown>":
        return "<unknown>"
    if isinstance(value, dict):
        if set(value) == {"env-default"}:
            return f"<environment, default {_show(value['env-default'])}>"
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def _setting_lines(name: str, entry: dict[str, Any]) -> list[str]:
    if not entry["set"]:
        return [f"#   {name}: not set (Django's default: {entry['default']})"]
    value, where = entry["value"], f"({entry['path']}:{entry['line']})"
    if isinstance(value, dict) and len(value) > 1 and "env-default" not in value:
        return [f"#   {name} {where}:"] + [f"#     {_show(k)}: {_show(v)}" for k, v in value.items()]
    if isinstance(value, list) and len(value) > 3:
        return [f"#   {name} {where}:"] + [f"#     {_show(v)}" for v in value]
    return [f"#   {name} = {_show(value)}  {where}"]


def format_text(report: dict[str, Any]) -> str:
    """The report as TOML comment lines (readable, and the output stays valid TOML)."""
    django = report["django"]
    where = f":{django['line']}" if django["line"] else ""
    version = (
        f"{django['version']} from {django['source']}{where}" if django["source"] else django["note"]
    )
    lines = ["", "# Django settings, as cachelint reads them (statically: nothing is imported or run)"]
    lines.append(f"# Django version: {version.removeprefix('Django ')}")
    if not report["settings"]:
        lines.append("# no settings module found")
    for module in report["settings"]:
        lines.append("#")
        state = "production" if module["production"] else "not production"
        lines.append(f"# {module['module']} ({module['path']}): {state}")
        lines.append(f"#   why: {module['reason']}")
        chain = " -> ".join([module["module"], *module["star_imports"]])
        lines.append(f"#   star imports: {chain if module['star_imports'] else 'none'}")
        if not module["leaf"]:
            lines.append("#   star-imported by other settings modules")
        if module["production_configuration"]:
            lines.append(f"#   production configuration: {', '.join(module['production_configuration'])}")
        for configuration in module["configuration"]:
            lines.append(
                f"#   configuration: {configuration['name']} "
                f"({configuration['path']}:{configuration['line']}, {configuration['role']})"
            )
        if any(entry["set"] for entry in module["settings"].values()):
            for name, entry in module["settings"].items():
                lines.extend(_setting_lines(name, entry))
        else:
            lines.append(f"#   sets none of {', '.join(module['settings'])}")
    unmatched = [n for n in report["named"] if not n["found"]]
    if unmatched:
        lines.append("#")
        lines.append("# named but not found among the settings modules:")
        lines.extend(f"#   {n['value']} ({n['path']}:{n['line']}, {n['role']})" for n in unmatched)
    return "\n".join(lines)
