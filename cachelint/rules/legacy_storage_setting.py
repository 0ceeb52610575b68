from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from cachelint import django_api as api
from cachelint.config import Config
from cachelint.finding import Finding, Location, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.settings_queries import assignments, is_literal


@register
class LegacyStorageSetting(Rule):
    code = "CL502"
    slug = "legacy-storage-setting"
    severity = Severity.ERROR
    summary = "`STATICFILES_STORAGE`/`DEFAULT_FILE_STORAGE` are ignored since Django 5.1: use `STORAGES`"
    tags = ("correctness", "performance")
    fixable = True
    what_it_does = """
Flags assignments of `STATICFILES_STORAGE` and `DEFAULT_FILE_STORAGE` in settings modules.
Django 4.2 replaced both with the `STORAGES` setting and deprecated them; Django 5.1 removed
them. The severity follows the Django version the project declares: an error from 5.1 on (and
when no version is declared), a warning for 4.2 to 5.0, and nothing before 4.2, where
`STORAGES` does not exist yet. Assignments inside a branch cachelint cannot decide (such as a
`django.VERSION` check) are not flagged.
"""
    why_is_this_bad = """
Django 5.1 and later never read these settings: the project silently falls back to the
default `StaticFilesStorage`, whose file names carry no content hash, so assets can no longer
be cached for long (or are served stale after a deploy), and uploads go to the local disk
instead of the configured storage. On Django 4.2 to 5.0, setting one of them together with
`STORAGES` is an `ImproperlyConfigured` error.
"""
    bad_example = {
        "mysite/settings.py": """STATICFILES_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"  # expect: CL502
""",
    }
    good_example = {
        "mysite/settings.py": """STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        version = project.django_version
        if version is not None and version < api.STORAGES_ADDED:
            return  # STORAGES does not exist yet: these settings are the only way
        removed = version is None or version >= api.LEGACY_STORAGE_REMOVED
        note = f" ({project.django_version_note()})"
        for definition in assignments(project, api.LEGACY_STORAGE_SETTINGS):
            alias = api.LEGACY_STORAGE_SETTINGS[definition.name]
            if removed:
                message = (
                    f"`{definition.name}` was removed in Django 5.1: Django ignores it and uses "
                    f'`STORAGES["{alias}"]` (by default a plain file system storage) instead{note}'
                )
            else:
                message = (
                    f"`{definition.name}` is deprecated since Django 4.2 and removed in 5.1, where it "
                    f'is silently ignored: configure `STORAGES["{alias}"]` instead{note}'
                )
            backend = definition.value
            shown = f'"{backend}"' if is_literal(backend) else "..."
            finding = self.finding(
                Location(definition.path, definition.span),
                message,
                hint=f'set STORAGES = {{..., "{alias}": {{"BACKEND": {shown}}}}} and remove `{definition.name}`',
            )
            yield finding if removed else dataclasses.replace(finding, severity=Severity.WARNING)

    def fix(self, text: str, findings: list[Finding], config: Config) -> str:
        """Replace every legacy assignment of this module by one ``STORAGES`` dict, where the last
        of them was (so the names their values use are defined), keeping their comments."""
        import libcst as cst

        from cachelint.fixing import FixRefused

        module = cst.parse_module(text)
        legacy: dict[str, list[int]] = {}  # setting -> indices of its top-level assignments
        taken: set[int] = set()  # id() of the assignment targets the fix rewrites
        for index, statement in enumerate(module.body):
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    raise FixRefused(
                        "the module star-imports other settings, whose STORAGES it would replace"
                    )
                if isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name) and target.value == "STORAGES":
                        raise FixRefused("STORAGES is already defined in this module: merge by hand")
                    if isinstance(target, cst.Name) and target.value in api.LEGACY_STORAGE_SETTINGS:
                        if len(statement.body) > 1:
                            raise FixRefused(f"`{target.value}` shares its line with other statements")
                        legacy.setdefault(target.value, []).append(index)
                        taken.add(id(target))
        if not legacy:
            raise FixRefused("the legacy setting is not assigned at the top level of this module")
        other = _other_uses(module, taken)
        if other:
            raise FixRefused(
                f"`{other}` is also assigned in a block (if, try, ...) or used otherwise: rewrite by hand"
            )
        at = max(i for indices in legacy.values() for i in indices)
        newline = module.default_newline

        def entry(alias: str, setting: str, default: str) -> str:
            indices = legacy.get(setting, [])
            statements = [module.body[i] for i in indices]
            value = statements[-1].body[0].value if statements else None  # the last one wins
            if value is not None:
                rebound = _assigned_names(module.body[indices[-1] + 1 : at]) & _names(value)
                if rebound:
                    raise FixRefused(
                        f"`{sorted(rebound)[0]}` changes between `{setting}` and its replacement"
                    )
            comments = [c.value for s in statements if (c := s.trailing_whitespace.comment) is not None]
            backend = module.code_for_node(value) if value is not None else f'"{default}"'
            return f'    "{alias}": {{"BACKEND": {backend}}},{"  " + " ".join(comments) if comments else ""}{newline}'

        storages = cst.parse_statement(
            f"STORAGES = {{{newline}"
            + entry("default", "DEFAULT_FILE_STORAGE", api.DEFAULT_FILE_STORAGE_BACKEND)
            + entry("staticfiles", "STATICFILES_STORAGE", api.DEFAULT_STATICFILES_BACKEND)
            + f"}}{newline}",
            config=module.config_for_parsing,
        )
        removed = {i for indices in legacy.values() for i in indices}
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []  # comment lines above a removed assignment stay in place
        for index, statement in enumerate(module.body):
            if index == at:
                body.append(storages.with_changes(leading_lines=[*carried, *statement.leading_lines]))
                carried = []
            elif index in removed:
                carried.extend(statement.leading_lines)
            elif carried:
                body.append(statement.with_changes(leading_lines=[*carried, *statement.leading_lines]))
                carried = []
            else:
                body.append(statement)
        return module.with_changes(body=body).code


def _names(node: object) -> set[str]:
    import libcst as cst
    import libcst.matchers as m

    return {n.value for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)}  # type: ignore[arg-type]


def _assigned_names(statements: object) -> set[str]:
    """Names bound at the top level by ``statements`` (or anywhere inside compound ones)."""
    import libcst as cst
    import libcst.matchers as m

    names: set[str] = set()
    for statement in statements:  # type: ignore[attr-defined]
        for node in m.findall(statement, m.AssignTarget() | m.AugAssign() | m.AnnAssign()):
            target = node.target  # type: ignore[attr-defined]
            names |= _names(target)
        for node in m.findall(statement, m.FunctionDef() | m.ClassDef() | m.ImportAlias()):
            name = getattr(node, "asname", None) or getattr(node, "name", None)
            if isinstance(name, cst.AsName):
                name = name.name
            if isinstance(name, cst.Name):
                names.add(name.value)
    return names


def _other_uses(module: object, taken: set[int]) -> str | None:
    """A legacy setting's name used anywhere but as one of the ``taken`` targets."""
    import libcst as cst
    import libcst.matchers as m

    for node in m.findall(module, m.Name()):  # type: ignore[arg-type]
        if isinstance(node, cst.Name) and node.value in api.LEGACY_STORAGE_SETTINGS and id(node) not in taken:
            return node.value
    return None
