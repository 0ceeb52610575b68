"""Shared test helpers: write a mini project, run cachelint on it, read expectation markers."""

from __future__ import annotations

import re
from pathlib import Path

from cachelint.config import Config
from cachelint.engine import Result, check
from cachelint.registry import all_rules, select_rules

MARKER = re.compile(r"(?:#\s*expect:\s*(?P<py>[A-Z0-9, ]+)|\{#\s*expect:\s*(?P<tpl>[A-Z0-9, ]+?)\s*#\})")


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def expected_markers(files: dict[str, str]) -> list[tuple[str, int, str]]:
    """``(path, line, code)`` for every ``# expect: CL101`` / ``{# expect: CL201 #}`` marker."""
    expected = []
    for path, source in files.items():
        for number, line in enumerate(source.splitlines(), start=1):
            for match in MARKER.finditer(line):
                codes = match.group("py") or match.group("tpl")
                expected.extend((path, number, code) for code in re.split(r"[,\s]+", codes.strip()) if code)
    return sorted(expected)


def run(root: Path, select: list[str] | None = None, config: Config | None = None, paths: list[Path] | None = None) -> Result:
    """Run cachelint on ``root``; call with the working directory set to ``root``."""
    config = config or Config(cache=False)
    config.jobs = config.jobs or 1
    rules = select_rules(all_rules(), select or ["ALL"], None)
    return check(paths or [root], config, rules)


def triples(result: Result) -> list[tuple[str, int, str]]:
    return sorted((f.location.path, f.location.line, f.code) for f in result.findings)


def stub_rule(code: str, slug: str, severity, summary: str, what: str, why: str, **extra) -> type:
    """A Rule subclass for reporter tests, never registered (the global registry stays clean)."""
    from cachelint.registry import Rule

    attributes = {
        "code": code,
        "slug": slug,
        "severity": severity,
        "summary": summary,
        "what_it_does": what,
        "why_is_this_bad": why,
        "bad_example": {},
        "good_example": {},
        **extra,
    }
    return type(slug.title().replace("-", ""), (Rule,), attributes)
