"""What a project's own files say about how Django is started: which settings module (and
django-configurations class) each entry point or deployment file names, and which Django
version the packaging files declare.

These files are data (Dockerfiles, compose and Kubernetes/Helm manifests, Procfiles, ``.env``
files, pytest/tox configuration, requirements and lock files, and the ``os.environ.setdefault``
line of ``wsgi.py``/``asgi.py``/``manage.py``/``celery.py``). They are read with small tolerant
patterns, never a YAML/TOML parser: a file that says nothing recognisable, or that cannot be
read, is simply no evidence. Parsing is per file and cached like other facts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from cachelint.facts.settings import TEST_NAME

SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"
CONFIGURATION_VARIABLE = "DJANGO_CONFIGURATION"

# Roles of a line that names a settings module:
DEPLOY = "deploy"  # a deployment file (Dockerfile, Procfile, compose, manifests, .env, scripts)
ENTRY = "entry"  # the default of wsgi.py / asgi.py / celery.py (production, but weaker)
MANAGE = "manage"  # the default of manage.py (the development default)
DEV = "dev"  # a deployment-like file named for development (docker-compose.dev.yml, .envs/.local/)
TEST = "test"  # pytest/tox/CI configuration

PYTHON_ENTRY_POINTS = {"wsgi.py": ENTRY, "asgi.py": ENTRY, "celery.py": ENTRY, "manage.py": MANAGE}
_TEST_FILES = frozenset(
    {
        "pytest.ini",
        "tox.ini",
        "noxfile.py",
        ".travis.yml",
        ".gitlab-ci.yml",
        "bitbucket-pipelines.yml",
        "azure-pipelines.yml",
        "jenkinsfile",
        "makefile",
        ".coveragerc",
    }
)
_CI_DIRS = (".github/", ".circleci/", ".gitlab/", ".buildkite/", ".woodpecker/")
# A path segment that says development rather than production (``docker-compose.dev.yml``,
# ``compose/local/django/Dockerfile``, ``.envs/.local/.django``, ``Procfile.dev``).
_DEV_PATH = re.compile(
    r"(^|[._/-])(dev|develop|development|local|override|debug|ci|travis|circleci|github|gitlab|jenkins)([._/-]|$)"
)
# A dotted module or class name, or a compose/shell interpolation with a default: ${X:-a.b}.
_VALUE = r"""["']?(?:\$\{\w+:?-(?P<default>[A-Za-z_][\w.]*)\}|(?P<value>[A-Za-z_][\w.]*))["']?"""
_ASSIGNED = re.compile(
    rf"""(?<![\w$]){{name}}["']?\s*(?:=|:(?!:))\s*{_VALUE}"""
)
_FLAGS = re.compile(rf"""(?:--settings|--ds)(?:=|\s+){_VALUE}""")
_K8S_PAIR = re.compile(rf"""name:\s*["']?{{name}}["']?\s*\n\s*-?\s*value:\s*{_VALUE}""")
_DOCKER_ENV = re.compile(rf"""^\s*ENV\s+{{name}}\s+{_VALUE}""", re.MULTILINE)
_PYTHON = re.compile(
    r"""["']{name}["']\s*(?P<how>,|\]\s*=)\s*["'](?P<value>[A-Za-z_][\w.]*)["']"""
)
_PYTEST_SECTION = re.compile(r"^\s*\[(?:pytest|tool:pytest|tool\.pytest\.ini_options)\]\s*$")
_SECTION = re.compile(r"^\s*\[[^\]]*\]\s*$")

# --- Django version declarations ----------------------------------------------------------
_SPEC = re.compile(
    r"""(?ix)(?<![\w.-])(?P<package>django|wagtail)(?:\[[^\]]*\])?\s*(?:=\s*(?:\{[^}]*?version\s*=\s*)?["']?)?\s*
        (?P<op>===|==|~=|>=|<=|\^|~|>|<)?\s*["']?\s*(?P<major>\d+)(?:\.(?P<minor>\d+))?"""
)
_LOCK_ENTRY = re.compile(
    r'(?ims)^\s*name\s*=\s*"(?P<package>django|wagtail)"\s*\n\s*version\s*=\s*"(?P<major>\d+)\.(?P<minor>\d+)'
)
LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "pipfile.lock")
PACKAGING_FILES = frozenset({*LOCK_FILES, "pipfile", "pyproject.toml", "setup.cfg", "setup.py"})


@dataclass(frozen=True)
class NamedSetting:
    """``variable`` (DJANGO_SETTINGS_MODULE or DJANGO_CONFIGURATION) given ``value`` on ``line``."""

    variable: str
    value: str
    line: int
    role: str


@dataclass(frozen=True)
class Requirement:
    """A Django (or Django-wrapping) requirement: ``op`` is "lock" for a locked version."""

    package: str  # "django" | "wagtail"
    op: str
    version: tuple[int, int]
    line: int


@dataclass(frozen=True)
class SettingsEvidence:
    """What one data file says (see the module docstring)."""

    path: str  # display path
    relative: str  # relative to the project root
    settings: tuple[NamedSetting, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    packages_a_library: bool = False  # setup.py, or pyproject/setup.cfg naming a distribution
    unreadable: str = ""  # why the file could not be read ("" if it was)


def is_packaging_file(name: str, relative: str) -> bool:
    """Where a project declares its dependencies (the places are chosen later)."""
    lower = name.lower()
    if lower in PACKAGING_FILES:
        return True
    if lower.endswith((".txt", ".in")):
        return "requirements" in lower or "constraints" in lower or "/requirements" in f"/{relative.lower()}"
    return False


def role_of(relative: str) -> str:
    """The role of a non-Python file that names a settings module."""
    lower = relative.lower()
    name = lower.rsplit("/", 1)[-1]
    if name in _TEST_FILES or lower.startswith(_CI_DIRS) or TEST_NAME.search(lower):
        return TEST
    if _DEV_PATH.search(lower):
        return DEV
    return DEPLOY


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _uncommented(text: str) -> str:
    """``text`` with whole-line comments blanked (lines kept, so line numbers stay right)."""
    return "\n".join(
        "" if line.lstrip().startswith(("#", ";", "//")) else line for line in text.split("\n")
    )


def parse_evidence(display: str, relative: str, data: bytes) -> SettingsEvidence:
    """The evidence in one data file (``relative`` is its path from the project root)."""
    text = data.decode("utf-8", "replace")
    name = relative.rsplit("/", 1)[-1]
    lower = name.lower()
    settings: list[NamedSetting] = []
    if SETTINGS_VARIABLE in text or CONFIGURATION_VARIABLE in text or "--settings" in text or "--ds" in text:
        settings = _named_settings(text, lower, relative)
    requirements: list[Requirement] = []
    packages = False
    if is_packaging_file(name, relative):
        requirements = _requirements(text, lower)
        packages = _packages_a_library(text, lower)
    return SettingsEvidence(display, relative, tuple(settings), tuple(requirements), packages)


def _named_settings(text: str, lower: str, relative: str) -> list[NamedSetting]:
    found: dict[tuple[str, int], NamedSetting] = {}

    def add(variable: str, match: re.Match[str], role: str) -> None:
        value = match["value"] if "value" in match.groupdict() and match["value"] else match["default"]
        if not value or value.endswith(".") or value in ("None", "True", "False"):
            return
        line = _line_of(text, match.start())
        found.setdefault((variable, line), NamedSetting(variable, value, line, role))

    text = _uncommented(text)  # the same length per line: offsets give the right lines
    if lower.endswith(".py"):
        role = PYTHON_ENTRY_POINTS.get(lower, TEST if lower in ("noxfile.py", "conftest.py") else "")
        if not role:
            return []
        for variable in (SETTINGS_VARIABLE, CONFIGURATION_VARIABLE):
            for match in _PYTHON_PATTERNS[variable].finditer(text):
                add(variable, match, role)
        return sorted(found.values(), key=lambda s: (s.line, s.variable))
    if lower in ("setup.cfg", "pyproject.toml"):
        # Only pytest's section says anything about settings here (test settings); the
        # django-stubs section (``django_settings_module``) is for type checking.
        text = _only_pytest_sections(text)
        role = TEST
    else:
        role = role_of(relative)
        if role == DEPLOY and "runserver" in text:
            role = DEV  # a compose file or Procfile that starts Django's development server
    dockerfile = "dockerfile" in lower or "containerfile" in lower
    if dockerfile:
        # Only what ENV and ARG set stays in the image (``RUN X=y cmd`` is one build step).
        text = _only_env_instructions(text)
    for variable in (SETTINGS_VARIABLE, CONFIGURATION_VARIABLE):
        for pattern in _PATTERNS[variable]:
            if pattern is _DOCKER_ENV_PATTERNS[variable] and not dockerfile:
                continue
            for match in pattern.finditer(text):
                add(variable, match, role)
    for match in _FLAGS.finditer(text):
        add(SETTINGS_VARIABLE, match, TEST if role == DEPLOY and "--ds" in match.group() else role)
    return sorted(found.values(), key=lambda s: (s.line, s.variable))


def _only_env_instructions(text: str) -> str:
    """A Dockerfile with every line blanked that is not part of an ENV, ARG, CMD or ENTRYPOINT
    instruction (what the container runs with)."""
    lines, keep, continued = [], False, False
    for line in text.split("\n"):
        if not continued:
            keyword = line.strip().split(" ", 1)[0].upper()
            keep = keyword in ("ENV", "ARG", "CMD", "ENTRYPOINT")
        lines.append(line if keep else "")
        continued = line.rstrip().endswith("\\")
    return "\n".join(lines)


def _only_pytest_sections(text: str) -> str:
    lines, inside = [], False
    for line in text.split("\n"):
        if _SECTION.match(line):
            inside = bool(_PYTEST_SECTION.match(line))
        lines.append(line if inside else "")
    return "\n".join(lines)


def _patterns(variable: str) -> tuple[re.Pattern[str], ...]:
    name = re.escape(variable)
    return (
        re.compile(_ASSIGNED.pattern.replace("{name}", name)),
        re.compile(_K8S_PAIR.pattern.replace("{name}", name)),
        re.compile(_DOCKER_ENV.pattern.replace("{name}", name), re.MULTILINE),
    )


_PATTERNS = {v: _patterns(v) for v in (SETTINGS_VARIABLE, CONFIGURATION_VARIABLE)}
_DOCKER_ENV_PATTERNS = {v: p[2] for v, p in _PATTERNS.items()}
_PYTHON_PATTERNS = {
    v: re.compile(_PYTHON.pattern.replace("{name}", re.escape(v)))
    for v in (SETTINGS_VARIABLE, CONFIGURATION_VARIABLE)
}


def _requirements(text: str, lower: str) -> list[Requirement]:
    if lower == "pipfile.lock":
        try:
            default = json.loads(text).get("default", {})
        except (ValueError, AttributeError):
            return []
        found = []
        for package in ("django", "wagtail"):
            entry = default.get(package) if isinstance(default, dict) else None
            version = entry.get("version", "") if isinstance(entry, dict) else ""
            match = re.fullmatch(r"\s*[=~>]*\s*(\d+)\.(\d+)(?:\.\S*)?\s*", version if isinstance(version, str) else "")
            if match:
                at = text.find(f'"{package}"')
                found.append(Requirement(package, "lock", (int(match[1]), int(match[2])), _line_of(text, max(at, 0))))
        return found
    if lower in LOCK_FILES:
        return [
            Requirement(m["package"].lower(), "lock", (int(m["major"]), int(m["minor"])), _line_of(text, m.start("package")))
            for m in _LOCK_ENTRY.finditer(text)
        ]
    text = "\n".join(line.split(" #", 1)[0] for line in _uncommented(text).split("\n"))
    found = []
    for m in _SPEC.finditer(text):
        op, major, minor = m["op"] or "", int(m["major"]), m["minor"]
        if op in ("<", "<="):
            # Only an upper bound: the newest release it allows (``<5`` and ``<5.0``: 4.2).
            version = _below(major, int(minor or 0)) if op == "<" else (major, int(minor or 0))
            if version is None:
                continue
            op = "<"
        elif minor is None:
            continue
        else:
            version = (major, int(minor))
        found.append(Requirement(m["package"].lower(), op, version, _line_of(text, m.start())))
    return found


def _below(major: int, minor: int) -> tuple[int, int] | None:
    """The newest Django release before ``major.minor`` (each major line ends at x.2, 1.x at
    1.11)."""
    if minor > 0:
        return major, minor - 1
    if major <= 1:
        return None
    return (1, 11) if major == 2 else (major - 1, 2)


def _packages_a_library(text: str, lower: str) -> bool:
    """A distribution is built from this project (a reusable app, not a site)."""
    if lower == "setup.py":
        return "setup(" in text
    if lower == "setup.cfg":
        return re.search(r"(?m)^\s*\[metadata\]", text) is not None and re.search(r"(?m)^\s*name\s*=", text) is not None
    if lower == "pyproject.toml":
        return re.search(r"(?m)^\s*\[build-system\]", text) is not None and (
            re.search(r"(?m)^\s*\[(?:project|tool\.poetry)\]", text) is not None
        )
    return False
