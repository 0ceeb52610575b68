"""Command line: ``cachelint check``, ``cachelint rules``, ``cachelint rule CODE``.

Heavy modules (libcst, django, rich) are imported inside the commands, so ``--version`` and
``--help`` start instantly.
"""

from __future__ import annotations

import os
import sys
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cachelint")
def cli() -> None:
    """Find cache-safety mistakes in Django projects, without running them."""


@cli.command()
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
@click.option("--statistics", is_flag=True, help="Print only the number of findings per rule.")
@click.option("--show-settings", is_flag=True, help="Print the resolved configuration and exit.")
@click.option(
    "--force-exclude",
    is_flag=True,
    default=None,
    help="Honour exclude, extend-exclude, .gitignore and the test-code skip for files passed by name "
    "(as in the pre-commit hook).",
)
@click.option(
    "--color/--no-color", default=None, help="Force or disable colors (default: only on a terminal)."
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
) -> None:
    """Check PATHS (default: the current directory) for cache-safety mistakes."""
    from cachelint.config import ConfigError, all_codes, load_config
    from cachelint.discovery import find_project_root
    from cachelint.engine import check as run_check
    from cachelint.registry import all_rules, configured_rules, validate_selectors
    from cachelint.reporters import write_report, write_statistics

    targets = list(paths) or [Path(".")]
    try:
        config = load_config(find_project_root(targets[0].resolve()), config_file)
    except ConfigError as error:
        _fail(str(error))
    config.select = _split("--select", select) or config.select
    config.extend_select = _split("--extend-select", extend_select) or config.extend_select
    config.ignore = config.ignore + _split("--ignore", ignore)  # both apply: the CLI cannot re-enable a rule
    if jobs is not None:
        config.jobs = jobs
    if no_cache:
        config.cache = False
    if force_exclude:
        config.force_exclude = True
    if django_version is not None:
        from cachelint.django_version import parse_version

        if parse_version(django_version) is None:
            _fail(f"--django-version: expected a version such as 5.1, got {django_version!r}")
        config.django_version = django_version

    if show_settings:
        click.echo(config.as_toml())
        sys.exit(EXIT_CLEAN)
    rules = all_rules()
    unknown = validate_selectors(rules, all_codes(config))
    if unknown:
        _fail(f"unknown rule code or prefix: {', '.join(unknown)} (see `cachelint rules`)")
    chosen = configured_rules(rules, config.select, config.extend_select, config.ignore)

    root = find_project_root(targets[0].resolve())
    if baseline is not None:
        config.baseline = str(baseline.resolve())  # absolute: `root / absolute` is the file itself
        if not baseline.is_file():
            _fail(f"{baseline}: baseline file not found (create it with --write-baseline)")
    if write_baseline is not None:
        config.baseline = ""  # record everything there is

    if debug:
        os.environ["CACHELINT_DEBUG"] = "1"
    from cachelint.progress import for_terminal

    progress = for_terminal(quiet)
    try:
        result = (
            run_check(targets, config, chosen, progress) if progress else run_check(targets, config, chosen)
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
        if report.fixed:  # report what is left, from the fixed files as they are now
            result = run_check(targets, config, chosen)

    def report(stream: TextIO, use_color: bool | None) -> None:
        if statistics:
            write_statistics(result.findings, chosen, stream)
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

    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as stream:
                report(stream, False)
        except OSError as error:
            _fail(f"{output}: cannot write report: {error.strerror or error}")
    else:
        report(sys.stdout, color)
    for message in result.warnings:
        click.echo(f"cachelint: warning: {message}", err=True)
    for message in result.errors:
        click.echo(f"cachelint: error: {printable(message)}", err=True)

    if result.errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if result.findings and not exit_zero else EXIT_CLEAN)


@cli.command(name="rules")
def list_rules() -> None:
    """List every rule: code, slug, severity, and whether it is on by default."""
    from cachelint.registry import all_rules

    rules = all_rules()
    width = max(len(r.slug) for r in rules.values())
    click.echo(f"{'code':<6} {'slug':<{width}} {'severity':<8} default  summary")
    for code, rule in rules.items():
        default = "on" if rule.default_enabled else "off"
        click.echo(f"{code:<6} {rule.slug:<{width}} {rule.severity.value:<8} {default:<8} {rule.summary}")


@cli.command(name="rule")
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
