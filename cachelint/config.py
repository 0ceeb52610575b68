"""Configuration from ``[tool.cachelint]`` in pyproject.toml, overridden by the command line."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_FRAGMENT_VERSION_PATTERN = r"(?:^|[^a-zA-Z0-9])v\d+(?:$|[^0-9])"


class ConfigError(Exception):
    """A configuration problem the user must fix; reported as one line, exit code 2."""


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    template_dirs: list[str] = field(default_factory=list)
    fragment_version_pattern: str = DEFAULT_FRAGMENT_VERSION_PATTERN
    max_file_size: int = 2_000_000  # bytes; larger files are skipped with a CL001 finding
    jobs: int = 0  # 0: all cores
    cache: bool = True
    django_version: str = ""  # "5.1"; empty: read from the project's packaging files

    def fragment_version_re(self) -> re.Pattern[str]:
        return re.compile(self.fragment_version_pattern)


_TYPES = {f.name: f.type for f in fields(Config)}
_LIST_KEYS = {"select", "extend_select", "ignore", "exclude", "template_dirs"}


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """Read ``[tool.cachelint]`` from ``explicit`` or ``root/pyproject.toml``; defaults if absent."""
    path = explicit or root / "pyproject.toml"
    if not path.is_file():
        if explicit is not None:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read TOML: {error}") from None
    section = data.get("tool", {}).get("cachelint", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.cachelint] must be a table")
    return _from_table(section, path)


def _from_table(table: dict[str, Any], source: Path) -> Config:
    config = Config()
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in _TYPES:
            known = ", ".join(sorted(k.replace("_", "-") for k in _TYPES))
            raise ConfigError(f"{source}: unknown key `{raw_key}` in [tool.cachelint] (known: {known})")
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: `{raw_key}` must be a list of strings")
        elif key in ("max_file_size", "jobs"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{source}: `{raw_key}` must be a non-negative integer")
        elif key == "cache":
            if not isinstance(value, bool):
                raise ConfigError(f"{source}: `{raw_key}` must be true or false")
        elif key == "django_version":
            from cachelint.django_version import parse_version

            if not isinstance(value, str) or parse_version(value) is None:
                raise ConfigError(f"{source}: `{raw_key}` must be a version string such as \"5.1\"")
        elif key == "fragment_version_pattern":
            if not isinstance(value, str):
                raise ConfigError(f"{source}: `{raw_key}` must be a string")
            try:
                re.compile(value)
            except re.error as error:
                raise ConfigError(f"{source}: `{raw_key}` is not a valid regex: {error}") from None
        setattr(config, key, value)
    return config
