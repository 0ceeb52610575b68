"""The generated rule pages in rules/ match the rule classes (regenerate: python -m cachelint.docs)."""

from __future__ import annotations

from pathlib import Path

from cachelint.docs import TABLE_END, TABLE_START, index_markdown, readme_table, rule_markdown
from cachelint.registry import all_rules

PAGES = Path(__file__).resolve().parent.parent / "rules"


def test_every_rule_page_is_up_to_date():
    rules = all_rules()
    stale = [
        code
        for code, rule in rules.items()
        if not (PAGES / f"{code}.md").is_file()
        or (PAGES / f"{code}.md").read_text(encoding="utf-8") != rule_markdown(rule)
    ]
    assert not stale, f"rules/ pages out of date for {stale}: run `python -m cachelint.docs`"
    assert (PAGES / "README.md").read_text(encoding="utf-8") == index_markdown(rules)


def test_no_page_for_a_rule_that_does_not_exist():
    codes = set(all_rules())
    pages = {p.stem for p in PAGES.glob("CL*.md")}
    assert pages <= codes, f"orphan pages: {sorted(pages - codes)}"


def test_rule_doc_has_the_fixed_sections():
    text = rule_markdown(all_rules()["CL101"])
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in text
    assert "expect:" not in text  # test markers are stripped from the docs


def test_readme_rule_table_lists_every_rule():
    readme = (PAGES.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split(TABLE_START)[1].split(TABLE_END)[0]
    assert table.strip() == readme_table(all_rules())
    assert "| CL101 | cache-page-on-authenticated-view | error | on |" in table


def test_readme_sample_output_is_what_the_demo_prints(monkeypatch):
    """The README's sample is real: its first finding and its summary come from examples/demo."""
    from click.testing import CliRunner

    from cachelint.cli import cli

    root = PAGES.parent
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--no-color", "examples/demo"])
    readme = (root / "README.md").read_text(encoding="utf-8")
    sample = readme.split("$ cachelint check examples/demo\n", 1)[1].split("```", 1)[0]
    head, _, summary = sample.partition("...\n")
    assert result.exit_code == 1
    assert result.output.startswith(head)
    assert result.output.endswith(summary)
