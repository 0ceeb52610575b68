"""Rule documentation, generated from the rule classes (``cachelint rule``, ``rules/*.md``)."""

from __future__ import annotations

import re

from cachelint.registry import Rule

EXPECT_MARKER = re.compile(r"\s*(?:#\s*expect:\s*[A-Z0-9, ]+|\{#\s*expect:\s*[A-Z0-9, ]+\s*#\})")
_LANGUAGES = {
    ".py": "python",
    ".html": "django",
    ".txt": "django",
    ".toml": "toml",
    ".conf": "nginx",
    ".vcl": "vcl",
    ".yaml": "yaml",
    "Caddyfile": "caddyfile",
}


def example_markdown(files: dict[str, str]) -> str:
    """Example files as fenced code blocks, without the test expectation markers."""
    blocks = []
    for path, source in files.items():
        language = next((lang for ext, lang in _LANGUAGES.items() if path.endswith(ext)), "")
        code = "\n".join(EXPECT_MARKER.sub("", line) for line in source.strip("\n").splitlines())
        blocks.append(f"`{path}`:\n\n```{language}\n{code}\n```")
    return "\n\n".join(blocks)


def _cwe_line(rule: Rule) -> str:
    if not rule.cwe:
        return ""
    links = ", ".join(f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)" for n in rule.cwe)
    return f"\n\nWeakness: {links}."


def rule_markdown(rule: Rule) -> str:
    default = "on by default" if rule.default_enabled else "off by default (enable with `--select`)"
    if not rule.default_enabled and rule.enabled_by:
        default = f"off by default (on with `{rule.enabled_by} = true` in `[tool.cachelint]`, or `--select`)"
    return f"""# {rule.code} {rule.slug}

{rule.summary}

Severity: **{rule.severity.value}**, {default}.{_cwe_line(rule)}

## What it does

{rule.what_it_does.strip()}

## Why is this bad?

{rule.why_is_this_bad.strip()}

## Example

{example_markdown(rule.bad_example)}

## Use instead

{example_markdown(rule.good_example)}
"""


def index_markdown(rules: dict[str, Rule]) -> str:
    rows = "\n".join(
        f"| [{code}]({code}.md) | {r.slug} | {r.severity.value} | {'on' if r.default_enabled else 'off'} | {r.summary} |"
        for code, r in rules.items()
    )
    return f"""# cachelint rules

Generated from the rule classes by `python -m cachelint.docs`; a test keeps these pages in sync.

| code | slug | severity | default | summary |
|---|---|---|---|---|
{rows}
"""


TABLE_START, TABLE_END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def readme_table(rules: dict[str, Rule]) -> str:
    rows = "\n".join(
        f"| {code} | {r.slug} | {r.severity.value} | {'on' if r.default_enabled else 'off'} |"
        for code, r in rules.items()
    )
    return f"| code | slug | severity | default |\n|---|---|---|---|\n{rows}"


def write_pages(directory: str = "rules", readme: str = "README.md") -> None:
    """Regenerate rules/*.md and the rule table in the README (between its markers)."""
    from pathlib import Path

    from cachelint.registry import all_rules

    rules = all_rules()
    out = Path(directory)
    out.mkdir(exist_ok=True)
    for code, rule in rules.items():
        (out / f"{code}.md").write_text(rule_markdown(rule), encoding="utf-8")
    (out / "README.md").write_text(index_markdown(rules), encoding="utf-8")
    readme_path = Path(readme)
    text = readme_path.read_text(encoding="utf-8")
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    readme_path.write_text(f"{head}{TABLE_START}\n{readme_table(rules)}\n{TABLE_END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    write_pages()
