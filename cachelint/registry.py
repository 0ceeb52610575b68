"""Rule metadata, registration and discovery.

A rule is a class in its own module under ``cachelint.rules``, decorated with ``@register``.
Its documentation and its BAD/GOOD examples live on the class, so ``cachelint rule CODE``,
the generated pages in ``rules/`` and the example tests all read one source.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from cachelint.finding import Evidence, Finding, Location, Severity

if TYPE_CHECKING:
    from cachelint.config import Config
    from cachelint.project import ProjectModel

CODE_RE = re.compile(r"^CL\d{3}$")


class Rule:
    """Base class of every rule; subclasses fill the class attributes and ``check``."""

    code: ClassVar[str]
    slug: ClassVar[str]
    severity: ClassVar[Severity]
    default_enabled: ClassVar[bool] = True
    # A boolean configuration key that turns an off-by-default rule on (``cdn = true``).
    enabled_by: ClassVar[str] = ""
    summary: ClassVar[str]
    what_it_does: ClassVar[str]
    why_is_this_bad: ClassVar[str]
    tags: ClassVar[tuple[str, ...]] = ()
    # Leak rules carry a CVSS-like score so GitHub code scanning ranks them as security alerts.
    security_severity: ClassVar[float | None] = None
    # CWE ids of the weakness a finding is an instance of (524: cache containing sensitive
    # information; 525: web browser cache containing it; 352: CSRF), shown in SARIF's tags
    # (``external/cwe/cwe-524``, as CodeQL tags them) and by ``cachelint rule``.
    cwe: ClassVar[tuple[int, ...]] = ()
    # Mini projects: {relative path: source}. BAD lines carry an expectation marker
    # (``# expect: CL101`` in Python, ``{# expect: CL201 #}`` in templates); GOOD yields nothing.
    bad_example: ClassVar[dict[str, str]]
    good_example: ClassVar[dict[str, str]]

    # Bytes that make a Python file worth parsing for this rule even when no cache-related code
    # points at it (the engine's pre-filter skips the rest): CL106 needs every login-protected view.
    file_tokens: ClassVar[tuple[bytes, ...]] = ()

    def wanted_modules(self, project: ProjectModel) -> set[str]:
        """Modules this rule needs parsed beyond what the pre-filter and the project's own
        references bring; the engine parses them on demand and joins the project again."""
        return set()

    # Rules with one correct mechanical fix set this and implement ``fix``.
    fixable: ClassVar[bool] = False

    def fixes(self, finding: Finding) -> bool:
        """Whether ``fix`` handles this finding (a fixable rule may report cases it cannot fix)."""
        return self.fixable

    def check(self, project: ProjectModel) -> Iterator[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fix(self, text: str, findings: list[Finding], config: Config) -> str:
        """The file's text with ``findings`` (all this rule's, all in this file) fixed.

        Raise ``cachelint.fixing.FixRefused`` when it cannot be done safely."""
        raise NotImplementedError

    def finding(
        self,
        location: Location,
        message: str,
        *,
        hint: str | None = None,
        related: tuple[Evidence, ...] | list[Evidence] = (),
    ) -> Finding:
        return Finding(
            code=self.code,
            severity=self.severity,
            message=message,
            location=location,
            hint=hint,
            related=tuple(related),
        )


_REGISTRY: dict[str, type[Rule]] = {}


def register(cls: type[Rule]) -> type[Rule]:
    if not CODE_RE.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r} on {cls.__name__}")
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"rule code {cls.code} registered twice")
    _REGISTRY[cls.code] = cls
    return cls


def all_rules() -> dict[str, Rule]:
    """Every registered rule, by code, in code order (imports the rule package once)."""
    import cachelint.rules as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return {code: _REGISTRY[code]() for code in sorted(_REGISTRY)}


def select_rules(
    rules: dict[str, Rule], select: list[str] | None, ignore: list[str] | None
) -> dict[str, Rule]:
    """Ruff-style selection: codes or prefixes (``CL1``), ``ALL``; ``ignore`` wins over ``select``."""

    def matches(code: str, selectors: list[str]) -> bool:
        return any(s == "ALL" or code.startswith(s) for s in selectors)

    if select:
        chosen = {c: r for c, r in rules.items() if matches(c, select)}
    else:
        chosen = {c: r for c, r in rules.items() if r.default_enabled}
    if ignore:
        chosen = {c: r for c, r in chosen.items() if not matches(c, ignore)}
    return chosen


def configured_rules(
    rules: dict[str, Rule],
    select: list[str],
    extend_select: list[str],
    ignore: list[str],
    flags: frozenset[str] = frozenset(),
) -> dict[str, Rule]:
    """The rules a run uses: ``select`` (or the defaults), plus ``extend_select`` and the rules
    a configuration flag turns on (``flags``, with no ``select``), minus ``ignore``."""
    chosen = select_rules(rules, select or None, ignore)
    if extend_select:
        chosen.update(select_rules(rules, extend_select, ignore))
    if flags and not select:
        enabled = [code for code, rule in rules.items() if rule.enabled_by in flags]
        if enabled:
            chosen.update(select_rules(rules, enabled, ignore))
    return dict(sorted(chosen.items()))


def validate_selectors(rules: dict[str, Rule], selectors: list[str]) -> list[str]:
    """Return the selectors that match no rule (typos such as ``CL19``)."""
    return [s for s in selectors if s != "ALL" and not any(code.startswith(s) for code in rules)]
