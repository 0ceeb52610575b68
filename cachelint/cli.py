"""Command line: ``cachelint check``, ``cachelint rules``, ``cachelint rule CODE``.

Heavy modules (libcst, django, rich) are imported inside the commands, so ``--version`` and
``--help`` start instantly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import click

from cachelint import __version__
from cachelint.reporters import OutputFormat, printable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(option: str, values: tuple[str, ...]) -> list[str]:
    """Comma-separated rule selectors; an empty one is an error, as in the configuration (it
    would be a prefix of every code)."""
    parts = [part.strip().upper() for value in values for part in value.split(",")]
    if not all(parts):
        _fail(f"{option}: empty rule code or prefix in {', '.join(repr(v) for v in values)}")
    return parts


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Run `cachelint COMMAND --help` for the options of a command.",
)
@click.version_option(__version__, "--version", "-V", prog_name="cachelint")
def cli() -> None:
    """Find cache-safety mistakes in Django projects, without running them."""


@cli.command(short_help="Check PATHS (default: .) for cache-safety mistakes.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice([f.value for f in OutputFormat]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--select",
    multiple=True,
    help="Rule codes or prefixes to enable (e.g. CL1,CL201 or ALL); replaces the default set.",
)
@click.option(
    "--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the default set."
)
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read configuration from this TOML file.",
)
@click.option(
    # max: config.MAX_JOBS (not imported here, to keep --help fast)
    "--jobs",
    "-j",
    type=click.IntRange(min=0, max=1024),
    help="Worker processes (0: all cores).",
)
@click.option(
    "--django-version",
    metavar="X.Y",
    help="Django version of the project (default: read from its requirements).",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache (.cachelint_cache/).")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings that are not in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every current finding to this baseline file and exit 0.",
)
@click.option("--fix", is_flag=True, help="Apply the safe mechanical fixes (CL103, CL301, ...) in place.")
@click.option("--diff", is_flag=True, help="Print the fixes --fix would make as a diff; change nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no informational messages.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option(
    "--statistics",
    is_flag=True,
    help="Print only the number of findings per rule (as JSON with --format json).",
)
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the resolved configuration and the rules it enables, then each Django settings "
    "module as read (production or not and why, star imports, key settings) and the Django "
    "version, and exit.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Force or disable colors (default: on a terminal, unless NO_COLOR is set or FORCE_COLOR forces them).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="warning",
    show_default=True,
    help="Exit 1 only for findings of this severity or above (all findings are still reported).",
)
@click.option(
    "--show-fixes",
    is_flag=True,
    help="With --fix, list the fixes made per file; without, print the fixes --fix would make as a diff after the report.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path),
    help="Check the text on stdin as this file (its project is read from disk), for editors.",
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add a `# noqa: CODE` ({# noqa: CODE #} in templates) on the line of each finding, and exit.",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    default=None,
    help="Honour exclude, extend-exclude, .gitignore and the test-code skip for files passed by name "
    "(as in the pre-commit hook).",
)
def check(
    paths: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exit_zero: bool,
    config_file: Path | None,
    jobs: int | None,
    django_version: str | None,
    no_cache: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    fix: bool,
    diff: bool,
    quiet: bool,
    debug: bool,
    statistics: bool,
    show_settings: bool,
    force_exclude: bool | None,
    color: bool | None,
    fail_on: str,
    show_fixes: bool,
    stdin_filename: Path | None,
    add_noqa: bool,
) -> None:
    """Check PATHS (default: the current directory) for cache-safety mistakes."""
    from cachelint.config import Config, ConfigError, all_codes, flags, load_config
    from cachelint.discovery import find_project_root
    from cachelint.engine import check as run_check
    from cachelint.registry import all_rules, configured_rules, validate_selectors
    from cachelint.reporters import write_report, write_statistics
    from cachelint.workspace import Workspace, load_config_near

    if stdin_filename is not None:
        if paths:
            _fail("--stdin-filename: give no PATHS (the file's text is read from stdin)")
        clashes = [name for name, on in (("--fix", fix), ("--diff", diff), ("--add-noqa", add_noqa), ("--write-baseline", write_baseline)) if on]
        if clashes:
            _fail(f"--stdin-filename cannot be combined with {', '.join(clashes)}")
        if stdin_filename.is_dir():
            _fail(f"--stdin-filename: {stdin_filename} is a directory")
        from cachelint.reading import override

        override(stdin_filename, sys.stdin.buffer.read())
        paths = (stdin_filename,)
    if statistics and output_format not in ("text", "concise", "json"):
        _fail(f"--statistics: --format {output_format} is not supported (use text or json)")
    if add_noqa and (fix or diff):
        _fail("--add-noqa cannot be combined with --fix or --diff")
    targets = list(paths) or [Path(".")]
    cli_select = _split("--select", select)
    cli_extend_select = _split("--extend-select", extend_select)
    cli_ignore = _split("--ignore", ignore)
    if django_version is not None:
        from cachelint.django_version import parse_version

        if parse_version(django_version) is None:
            _fail(f"--django-version: expected a version such as 5.1, got {django_version!r}")
    if baseline is not None and not baseline.is_file():
        _fail(f"{baseline}: baseline file not found (create it with --write-baseline)")
    rules = all_rules()

    def configure(config: Config) -> dict:
        """Apply the command line to ``config`` (read from a file); the rules it selects."""
        config.select = cli_select or config.select
        config.extend_select = cli_extend_select or config.extend_select
        config.ignore = config.ignore + cli_ignore  # both apply: the CLI cannot re-enable a rule
        if jobs is not None:
            config.jobs = jobs
        if no_cache:
            config.cache = False
        if force_exclude:
            config.force_exclude = True
        if django_version is not None:
            config.django_version = django_version
        if baseline is not None:
            config.baseline = str(baseline.resolve())  # absolute: `root / absolute` is the file itself
        if write_baseline is not None:
            config.baseline = ""  # record everything there is
        unknown = validate_selectors(rules, all_codes(config))
        if unknown:
            raise ConfigError(f"unknown rule code or prefix: {', '.join(unknown)} (see `cachelint rules`)")
        return configured_rules(rules, config.select, config.extend_select, config.ignore, flags(config))

    root = find_project_root(targets[0].resolve())
    try:
        config = load_config(root, config_file) if config_file else load_config_near(root)
        chosen = configure(config)
    except ConfigError as error:
        _fail(str(error))
    if show_settings:
        _show_settings(targets, config, chosen, output_format)
    # --config FILE holds for every path; otherwise each has the configuration nearest to it.
    workspace = Workspace(config, chosen, None if config_file else configure)

    if debug:
        os.environ["CACHELINT_DEBUG"] = "1"
    from cachelint.progress import for_terminal

    progress = for_terminal(quiet)
    try:
        result = (
            run_check(targets, config, chosen, progress, workspace)
            if progress
            else run_check(targets, config, chosen, workspace=workspace)
        )
    finally:
        if progress is not None:
            progress.stop()  # type: ignore[attr-defined]
    if write_baseline is not None:
        from cachelint import baseline as baselines

        try:
            baselines.write(write_baseline, result.findings, root)
        except OSError as error:
            _fail(f"{write_baseline}: cannot write baseline: {error.strerror or error}")
        _info(quiet, f"wrote {_count(len(result.findings), 'finding')} to {write_baseline}")
        sys.exit(EXIT_ERROR if result.errors else EXIT_CLEAN)
    if add_noqa:
        from cachelint.fixing import add_noqa as add_noqa_comments

        noqa = add_noqa_comments(result.findings, digests=result.digests)
        for line in noqa.refused:
            click.echo(f"cachelint: {printable(line)}", err=True)
        _info(quiet, f"added {_count(noqa.count, 'noqa directive')} in {_count(len(noqa.fixed), 'file')}")
        for message in result.errors:
            click.echo(f"cachelint: error: {printable(message)}", err=True)
        sys.exit(EXIT_ERROR if result.errors else EXIT_FINDINGS if noqa.refused else EXIT_CLEAN)
    machine = output_format not in ("text", "concise")
    fixed_listing = ""
    if fix or diff:
        from cachelint.fixing import apply_fixes

        report = apply_fixes(result.findings, chosen, config, write=not diff, digests=result.digests)
        for line in report.refused:
            click.echo(f"cachelint: {printable(line)}", err=True)
        if diff:
            click.echo("".join(report.diffs), nl=False)
            _info(quiet, f"{_count(report.count, 'fixable finding')} in {_count(len(report.fixed), 'file')}")
            sys.exit(EXIT_FINDINGS if report.diffs else EXIT_CLEAN)
        _info(quiet, f"fixed {_count(report.count, 'finding')} in {_count(len(report.fixed), 'file')}")
        if show_fixes:
            fixed_listing = _fixed_listing(report, chosen)
        if report.fixed:  # report what is left, from the fixed files as they are now
            result = run_check(targets, config, chosen, workspace=workspace)
    pending_diff = ""
    if show_fixes and not fix:
        from cachelint.fixing import apply_fixes

        pending_diff = "".join(apply_fixes(result.findings, chosen, config, write=False, digests=result.digests).diffs)

    def report(stream: TextIO, use_color: bool | None) -> None:
        if statistics:
            write_statistics(result.findings, chosen, stream, "json" if output_format == "json" else "text")
        else:
            write_report(
                output_format,
                result.findings,
                chosen,
                stream,
                color=use_color,
                errors=result.errors,
                suppressed=result.suppressed,
                docs_url=config.docs_url or None,
            )

    # The listing of fixes made and the pending diff go with a human-readable report; beside a
    # machine-readable one they go to stderr, so that the report stays parseable.
    if fixed_listing:
        click.echo(fixed_listing, nl=False, err=machine or output is not None)
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as stream:
                report(stream, color is True)
        except OSError as error:
            _fail(f"{output}: cannot write report: {error.strerror or error}")
    else:
        report(sys.stdout, resolve_color(color, sys.stdout))
    if pending_diff:
        click.echo(pending_diff, nl=False, err=machine or output is not None)
    for message in result.warnings:
        click.echo(f"cachelint: warning: {message}", err=True)
    for message in result.errors:
        click.echo(f"cachelint: error: {printable(message)}", err=True)

    if result.errors:
        sys.exit(EXIT_ERROR)
    failing = [f for f in result.findings if fail_on == "warning" or f.severity.value == "error"]
    sys.exit(EXIT_FINDINGS if failing and not exit_zero else EXIT_CLEAN)


def resolve_color(flag: bool | None, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """``--color``/``--no-color`` first; then NO_COLOR (set and not empty: no colors), then
    FORCE_COLOR (set, not empty and not ``0``: colors even when not on a terminal); else colors
    only on a terminal."""
    if flag is not None:
        return flag
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _fixed_listing(report: object, rules: Mapping[str, object]) -> str:
    """``--fix --show-fixes``: what was fixed, per file and code, as ruff lists it."""
    from cachelint.fixing import FixReport

    assert isinstance(report, FixReport)
    if not report.fixed:
        return "No findings fixed.\n"
    lines = [f"Fixed {_count(report.count, 'finding')}:"]
    for path in sorted(report.fixed):
        lines.append(f"- {printable(path)}:")
        for code, count in sorted(report.codes.get(path, {}).items()):
            slug = getattr(rules.get(code), "slug", "")
            lines.append(f"    {count} × {code} ({slug})")
    return "\n".join(lines) + "\n\n"


def show_configuration(config: object, rules: Mapping[str, object]) -> str:
    """``--show-settings``: the cachelint configuration as resolved (file, ``extend`` chain and
    command line applied), as TOML, then the rules it enables, as comments."""
    from cachelint.config import Config

    assert isinstance(config, Config)
    lines = [config.as_toml(), ""]
    sources = config.sources or ["(none: defaults)"]
    lines.append(f"# configuration files: {', '.join(printable(s) for s in sources)}")
    lines.append(f"# enabled rules ({len(rules)}): {', '.join(rules)}")
    return "\n".join(lines)


def _show_settings(targets: list[Path], config: object, rules: Mapping[str, object], output_format: str) -> None:
    """The configuration, then the Django settings as read (see settings_report.py); exits."""
    import dataclasses
    import json

    from cachelint.engine import check as run_check
    from cachelint.reporters import encodable
    from cachelint.settings_report import format_text, settings_report

    result = run_check(targets, config, {})  # type: ignore[arg-type]
    report = settings_report(result.project) if result.project is not None else None
    if output_format == "json":
        data: dict = {
            "configuration": {
                f.name.replace("_", "-"): getattr(config, f.name)
                for f in dataclasses.fields(config)  # type: ignore[arg-type]
                if getattr(config, f.name) is not None
            },
            "enabled-rules": list(rules),
        }
        if report is not None:
            data.update(report)
        data["errors"] = result.errors
        click.echo(json.dumps(encodable(data), indent=2, ensure_ascii=False))
    else:
        click.echo(show_configuration(config, rules))
        if report is not None:
            click.echo("\n".join(printable(line) for line in format_text(report).split("\n")))
    for message in result.errors:
        click.echo(f"cachelint: error: {printable(message)}", err=True)
    sys.exit(EXIT_ERROR if result.errors else EXIT_CLEAN)


@cli.command(name="rules", short_help="List every rule: code, slug, severity, default.")
def list_rules() -> None:
    """List every rule: code, slug, severity, and whether it is on by default."""
    from cachelint.registry import all_rules

    rules = all_rules()
    width = max(len(r.slug) for r in rules.values())
    click.echo(f"{'code':<6} {'slug':<{width}} {'severity':<8} default  summary")
    for code, rule in rules.items():
        default = "on" if rule.default_enabled else "off"
        click.echo(f"{code:<6} {rule.slug:<{width}} {rule.severity.value:<8} {default:<8} {rule.summary}")


@cli.command(name="rule", short_help="Print the documentation of rule CODE (or slug).")
@click.argument("code")
def explain_rule(code: str) -> None:
    """Print the documentation of rule CODE (e.g. CL101 or its slug)."""
    from cachelint.docs import rule_markdown
    from cachelint.registry import all_rules

    rules = all_rules()
    wanted = code.strip()
    rule = rules.get(wanted.upper()) or next((r for r in rules.values() if r.slug == wanted), None)
    if rule is None:
        _fail(f"unknown rule `{code}` (see `cachelint rules`)")
    click.echo(rule_markdown(rule))


@cli.command(name="server", short_help="Run the language server for editors (needs the lsp extra).")
@click.option("--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default and only transport).")
def language_server(stdio: bool) -> None:
    """Run the language server for editors (LSP over stdin/stdout); needs the `lsp` extra."""
    try:  # pygls is imported here only: `cachelint check` never loads it
        from cachelint.server.lsp import serve
    except ImportError as error:
        _fail(f"`cachelint server` needs the lsp extra: pip install 'django-cachelint[lsp]' ({error})")
    serve()


def _info(quiet: bool, message: str) -> None:
    """An informational line on stderr, unless --quiet."""
    if not quiet:
        click.echo(f"cachelint: {printable(message)}", err=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _fail(message: str) -> None:
    click.echo(f"cachelint: error: {printable(message)}", err=True)
    sys.exit(EXIT_ERROR)


def main() -> None:
    try:
        cli.main(prog_name="cachelint", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # a bug in cachelint: one line, exit 2, the traceback on request
        if os.environ.get("CACHELINT_DEBUG"):
            raise
        click.echo(
            f"cachelint: internal error: {type(error).__name__}: {error} (run with --debug for the traceback)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
