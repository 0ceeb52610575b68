"""Every rule runs on its own documented examples: BAD yields exactly the marked findings,
GOOD yields nothing (from any rule that is on by default)."""

from __future__ import annotations

import pytest

from cachelint.registry import all_rules
from tests.helpers import expected_markers, run, triples, write_tree

RULES = all_rules()


@pytest.mark.parametrize("code", sorted(RULES))
def test_bad_example_yields_exactly_the_marked_findings(code, tmp_path, monkeypatch):
    rule = RULES[code]
    write_tree(tmp_path, rule.bad_example)
    monkeypatch.chdir(tmp_path)
    expected = expected_markers(rule.bad_example)
    assert expected, f"{code} BAD example has no expectation marker"
    assert {c for _, _, c in expected} == {code}
    # Run with the default rules too (CL002 needs other rules' findings), compare this rule's.
    default_on = [c for c, r in RULES.items() if r.default_enabled]
    found = [t for t in triples(run(tmp_path, sorted({code, *default_on}))) if t[2] == code]
    assert found == expected


@pytest.mark.parametrize("code", sorted(RULES))
def test_good_example_is_clean(code, tmp_path, monkeypatch):
    rule = RULES[code]
    write_tree(tmp_path, rule.good_example)
    monkeypatch.chdir(tmp_path)
    default_on = [c for c, r in RULES.items() if r.default_enabled]
    assert triples(run(tmp_path, sorted({code, *default_on}))) == []


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_is_documented(code):
    rule = RULES[code]
    assert rule.slug == rule.slug.lower() and " " not in rule.slug
    assert rule.summary and rule.what_it_does.strip() and rule.why_is_this_bad.strip()
