"""The README tells the truth about the CLI, the configuration and the repository (issue 13, point 8)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from cachelint.cli import cli
from cachelint.config import Config, _apply_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of the README's ``## title`` section, up to the next ``## `` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _usage_block() -> str:
    usage = _section("Usage")
    return usage.split("```sh\n", 1)[1].split("```", 1)[0]


def _check_options() -> list[list[str]]:
    """Every option of ``cachelint check`` as its spellings (``["-o", "--output"]``)."""
    command = cli.commands["check"]
    context = command.make_context("check", [], resilient_parsing=True)
    return [
        [*param.opts, *param.secondary_opts]
        for param in command.get_params(context)
        if param.param_type_name == "option"
    ]


def test_every_option_of_check_is_in_the_usage_block():
    block = _usage_block()
    missing = []
    for spellings in _check_options():
        if spellings == ["-h", "--help"]:
            continue
        longs = [s for s in spellings if s.startswith("--")]
        if not any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", block) for s in longs):
            missing.append("/".join(spellings))
    assert missing == [], f"options of `cachelint check --help` missing from README's Usage: {missing}"
    assert "cachelint check --help" in block


def test_top_level_help_is_not_cut():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:\n", 1)[1]
    assert "..." not in commands
    for name, command in cli.commands.items():
        short = command.get_short_help_str(limit=1000)
        assert not short.endswith("..."), name
        assert re.search(rf"^  {re.escape(name)} +{re.escape(short)}$", commands, re.M), (name, commands)
    assert "cachelint COMMAND --help" in result.output


def test_quick_start_explains_the_demo_exit_status():
    quick = _section("Quick start")
    assert "cachelint check examples/demo" in quick
    assert re.search(r"exits with status 1\*\*: that is intended", quick)
    assert "exit 1 means findings were reported" in quick


def _config_sample() -> tuple[str, dict]:
    text = _section("Configuration").split("```toml\n", 1)[1].split("```", 1)[0]
    return text, tomllib.loads(text)["tool"]["cachelint"]


def test_config_sample_names_every_key_and_is_valid():
    text, table = _config_sample()
    keys = {f.name.replace("_", "-") for f in fields(Config) if not f.metadata.get("internal")} | {"extend"}
    assert set(table) == keys
    config = Config()
    _apply_table(config, {k: v for k, v in table.items() if k != "extend"}, ROOT / "README.md")


def test_config_sample_comments_say_which_values_are_the_defaults():
    """``# the default`` marks a value that is the default; any other value is an example, and
    its comment says what applies without the key (``default: ...``) or needs no default."""
    text, table = _config_sample()
    defaults = Config()
    marked = set()
    for line in text.splitlines():
        match = re.match(r"^([a-z-]+) = ", line)
        if not match or match.group(1) == "extend":
            continue
        key = match.group(1)
        default = getattr(defaults, key.replace("-", "_"))
        if key == "docs-url":  # empty in Config: the SARIF reporter's own base
            from cachelint.reporters.sarif import DOCS_URL

            default = default or DOCS_URL
        if "# the default" in line:
            marked.add(key)
            assert table[key] == default, key
        else:
            assert table[key] != default, f"{key}: the sample shows the default without saying so"
    assert marked == {
        "check-tests",
        "fragment-version-pattern",
        "fragment-min-timeout",
        "socket-timeout",
        "docs-url",
        "max-file-size",
        "jobs",
        "cache",
        "template-extensions",
        "cdn",
        "force-exclude",
    }


def test_config_sample_docs_url_is_the_sarif_default():
    from cachelint.reporters.sarif import DOCS_URL

    assert _config_sample()[1]["docs-url"] == DOCS_URL


def test_readme_times_both_test_commands():
    quick = _section("Quick start")
    assert re.search(r"python -m pytest +# .*about \d+(?:\.\d+)? (?:s|min) on 2 cores", quick)
    assert re.search(r'python -m pytest -m "not slow" +# .*about \d+(?:\.\d+)? (?:s|min) on 2 cores', quick)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_gitignore_lists_no_tracked_file():
    done = subprocess.run(
        ["git", "ls-files", "-ci", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
