"""Which settings module runs in production, from the project's own files, and which Django
version it declares (issue 12, points 1 and 5); ``--show-settings`` shows the conclusions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tomllib
from click.testing import CliRunner

from cachelint.cli import cli
from cachelint.config import Config
from cachelint.discovery import is_settings_data
from cachelint.django_version import LATEST
from cachelint.facts.settings_evidence import (
    DEPLOY,
    DEV,
    ENTRY,
    MANAGE,
    TEST,
    NamedSetting,
    Requirement,
    parse_evidence,
    role_of,
)
from tests.helpers import run, triples, write_tree

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def inside():
    """Run with the working directory set to a fixture (or any) directory."""
    previous = os.getcwd()

    def enter(path: Path) -> Path:
        os.chdir(path)
        return path

    yield enter
    os.chdir(previous)


def named(relative: str, text: str) -> list[tuple[str, str, int, str]]:
    facts = parse_evidence(relative, relative, text.encode())
    return [(s.variable, s.value, s.line, s.role) for s in facts.settings]


DSM = "DJANGO_SETTINGS_MODULE"


# --- reading the files ------------------------------------------------------------------------


def test_dockerfile_env_in_both_forms_and_args():
    text = (
        "FROM python:3.12\n"
        "# ENV DJANGO_SETTINGS_MODULE=old.settings\n"
        "ENV DJANGO_SETTINGS_MODULE=config.settings.live\n"
        "ENV DJANGO_CONFIGURATION Production\n"
        "RUN DJANGO_CONFIGURATION=Build python manage.py collectstatic --settings=config.settings.build\n"
        'CMD ["gunicorn", "--env", "DJANGO_SETTINGS_MODULE=config.settings.web", "config.wsgi"]\n'
        "CMD python manage.py migrate --settings=config.settings.live \\\n"
        "    && gunicorn config.wsgi\n"
    )
    # A RUN step's variables do not stay in the image; ENV, ARG and what CMD runs with do.
    assert named("Dockerfile", text) == [
        (DSM, "config.settings.live", 3, DEPLOY),
        ("DJANGO_CONFIGURATION", "Production", 4, DEPLOY),
        (DSM, "config.settings.web", 6, DEPLOY),
        (DSM, "config.settings.live", 7, DEPLOY),
    ]
    # The space form is Dockerfile syntax only: prose elsewhere is not evidence.
    assert named("docs/setup.sh", "echo DJANGO_SETTINGS_MODULE is set\n") == []


def test_compose_list_map_and_interpolated_default():
    text = (
        "services:\n"
        "  web:\n"
        "    environment:\n"
        "      - DJANGO_SETTINGS_MODULE=shop.settings.docker\n"
        "  worker:\n"
        "    environment:\n"
        "      DJANGO_SETTINGS_MODULE: ${DJANGO_SETTINGS_MODULE:-shop.settings.worker}\n"
        "      OTHER: $DJANGO_SETTINGS_MODULE\n"
    )
    assert named("docker-compose.yml", text) == [
        (DSM, "shop.settings.docker", 4, DEPLOY),
        (DSM, "shop.settings.worker", 7, DEPLOY),
    ]
    assert named("docker-compose.dev.yml", text)[0][3] == DEV


def test_kubernetes_name_value_pairs():
    text = (
        "env:\n"
        "  - name: DJANGO_SETTINGS_MODULE\n"
        '    value: "site.settings.k8s"\n'
        "  - name: DJANGO_CONFIGURATION\n"
        "    value: {{ .Values.configuration }}\n"
    )
    assert named("deploy/helm/templates/web.yaml", text) == [(DSM, "site.settings.k8s", 2, DEPLOY)]


def test_procfile_env_files_and_scripts():
    assert named("Procfile", "web: DJANGO_SETTINGS_MODULE=a.prod gunicorn a.wsgi\n") == [(DSM, "a.prod", 1, DEPLOY)]
    assert named(".envs/.production/.django", "DJANGO_SETTINGS_MODULE=config.settings.production\n") == [
        (DSM, "config.settings.production", 1, DEPLOY)
    ]
    assert named(".envs/.local/.django", "DJANGO_SETTINGS_MODULE=config.settings.local\n")[0][3] == DEV
    assert named("bin/entrypoint.sh", "export DJANGO_SETTINGS_MODULE='web.settings.server'\n") == [
        (DSM, "web.settings.server", 1, DEPLOY)
    ]
    assert named("uwsgi.ini", "[uwsgi]\nenv = DJANGO_SETTINGS_MODULE=web.settings.server\n") == [
        (DSM, "web.settings.server", 2, DEPLOY)
    ]


def test_pytest_and_tox_configuration_is_test_evidence():
    assert named("pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = proj.settings_check\n") == [
        (DSM, "proj.settings_check", 2, TEST)
    ]
    assert named("tox.ini", "[testenv]\nsetenv =\n    DJANGO_SETTINGS_MODULE=proj.tox_settings\n") == [
        (DSM, "proj.tox_settings", 3, TEST)
    ]
    setup_cfg = "[metadata]\nname = x\n[tool:pytest]\naddopts = --ds=proj.quick\n"
    assert named("setup.cfg", setup_cfg) == [(DSM, "proj.quick", 4, TEST)]
    pyproject = (
        "[tool.django-stubs]\n"
        'django_settings_module = "proj.settings"\n'
        "[tool.pytest.ini_options]\n"
        'DJANGO_SETTINGS_MODULE = "proj.settings_check"\n'
        "[tool.other]\n"
        'DJANGO_SETTINGS_MODULE = "proj.elsewhere"\n'
    )
    assert named("pyproject.toml", pyproject) == [(DSM, "proj.settings_check", 4, TEST)]
    assert named(".github/workflows/ci.yml", f"env:\n  {DSM}: proj.settings\n")[0][3] == TEST
    assert named("docker-compose.test.yml", f"environment:\n  {DSM}: proj.settings\n")[0][3] == TEST


def test_python_entry_points():
    wsgi = (
        "import os\n"
        '# os.environ.setdefault("DJANGO_SETTINGS_MODULE", "old.settings")\n'
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings.server')\n"
        'os.environ["DJANGO_CONFIGURATION"] = "Prod"\n'
    )
    assert named("site/wsgi.py", wsgi) == [
        (DSM, "site.settings.server", 3, ENTRY),
        ("DJANGO_CONFIGURATION", "Prod", 4, ENTRY),
    ]
    manage = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings.dev")\n'
    assert named("manage.py", manage) == [(DSM, "site.settings.dev", 2, MANAGE)]
    assert named("site/celery.py", manage)[0][3] == ENTRY
    # Any other module is code, not evidence; an f-string is no literal.
    assert named("site/views.py", manage) == []
    assert named("site/asgi.py", 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"site.{x}")\n') == []


def test_unreadable_or_binary_data_is_no_evidence():
    assert parse_evidence("Dockerfile", "Dockerfile", b"\xff\xfe\x00ENV\x00").settings == ()
    assert parse_evidence("Pipfile.lock", "Pipfile.lock", b"{not json").requirements == ()
    assert parse_evidence("poetry.lock", "poetry.lock", b"\x00" * 100).requirements == ()


def test_role_of_paths():
    assert role_of("Dockerfile") == DEPLOY
    assert role_of("deploy/production/docker-compose.yml") == DEPLOY
    assert role_of("compose/local/django/Dockerfile") == DEV
    assert role_of("Procfile.dev") == DEV
    assert role_of("docker-compose.override.yml") == DEV
    assert role_of(".gitlab-ci.yml") == TEST
    assert role_of("tox.ini") == TEST
    # Words inside other words are not roles.
    assert role_of("deploy/latest/devops-free.yml") == DEPLOY


def test_discovery_names_the_data_files():
    for name, directory in [
        ("Dockerfile", ""),
        ("Dockerfile.web", ""),
        ("web.dockerfile", ""),
        ("Procfile", ""),
        ("docker-compose.prod.yml", ""),
        ("compose.yaml", ""),
        (".env", ""),
        ("prod.env", ""),
        (".env.example", ""),
        (".django", ".envs/.production/"),
        ("pytest.ini", ""),
        ("setup.cfg", ""),
        ("pyproject.toml", ""),
        ("poetry.lock", ""),
        ("Pipfile", ""),
        ("base.txt", "requirements/"),
        ("requirements-prod.txt", ""),
        ("base.in", "requirements/"),
        ("wsgi.py", "proj/"),
        ("manage.py", ""),
    ]:
        assert is_settings_data(name, directory), name
    for name in ("views.py", "README.md", "notes.txt", "logo.png", "settings.py"):
        assert not is_settings_data(name, ""), name


# --- Django version declarations --------------------------------------------------------------


def requirements(relative: str, text: str) -> list[tuple[str, str, tuple[int, int], int]]:
    facts = parse_evidence(relative, relative, text.encode())
    return [(r.package, r.op, r.version, r.line) for r in facts.requirements]


def test_requirement_formats():
    assert requirements("requirements.txt", "# Django==1.11\nDjango==4.2.7  # LTS\n") == [
        ("django", "==", (4, 2), 2)
    ]
    assert requirements("requirements/base.in", "django>=3.2,<4\n") == [("django", ">=", (3, 2), 1)]
    assert requirements("pyproject.toml", '[tool.poetry.dependencies]\ndjango = "^4.1"\n') == [
        ("django", "^", (4, 1), 2)
    ]
    assert requirements("pyproject.toml", 'Django = {version = "~=5.0", extras = ["argon2"]}\n') == [
        ("django", "~=", (5, 0), 1)
    ]
    assert requirements("uv.lock", '[[package]]\nname = "django"\nversion = "5.1.3"\n') == [
        ("django", "lock", (5, 1), 2)
    ]
    lock = json.dumps({"default": {"django": {"version": "==3.2.25"}}})
    assert requirements("Pipfile.lock", lock) == [("django", "lock", (3, 2), 1)]
    assert requirements("requirements.txt", "django-redis==5.4\ndjango_filter==23.1\n") == []
    assert requirements("requirements.txt", "wagtail==5.1.3\n") == [("wagtail", "==", (5, 1), 1)]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # The lock file beats a lower bound in the same place.
        ({"requirements.txt": "Django>=4.0\n", "poetry.lock": '[[package]]\nname = "django"\nversion = "4.2.1"\n'},
         "Django 4.2 from poetry.lock"),
        # The directory of manage.py, and the requirements folder beside it.
        ({"src/manage.py": "", "src/requirements/prod.txt": "Django==3.2.20\n"},
         "Django 3.2 from src/requirements/prod.txt"),
        # A pin beats a lower bound anywhere among the places.
        ({"pyproject.toml": '[project]\ndependencies = ["django>=4.2"]\n', "app/manage.py": "",
          "app/requirements.txt": "django==5.0.4\n"},
         "Django 5.0 from app/requirements.txt"),
        # A requirements file of some other folder is no declaration of this project.
        ({"docs/requirements.txt": "Django==2.2\n"}, "Django 6.1 assumed: no version declared"),
        # A pinned wagtail implies the newest Django it supports, when nothing names Django.
        ({"requirements.txt": "wagtail==5.1.3\n"}, "Django 5.0 from requirements.txt"),
        ({"requirements.txt": "wagtail>=5.1\n"}, "Django 6.1 assumed: no version declared"),
    ],
)
def test_declared_django_version_places(tmp_path, inside, files, expected):
    write_tree(tmp_path, {".git": "", "app/__init__.py": "", **files})
    inside(tmp_path)
    result = run(tmp_path, ["CL307"])
    assert result.project is not None
    assert result.project.django_version_note() == expected


def test_installed_django_is_not_newer_than_the_newest_known_release():
    django = pytest.importorskip("django")
    installed = tuple(django.VERSION[:2])
    assert installed <= LATEST, (
        f"Django {installed[0]}.{installed[1]} is installed but cachelint.django_version.LATEST is "
        f"{LATEST[0]}.{LATEST[1]}: a newer Django was released; update LATEST (and check the "
        "version-gated rules CL307, CL501, CL502 for what it removed)"
    )


# --- fixtures: findings, and what --show-settings says --------------------------------------------


def fixture_findings(inside, name: str) -> list[tuple[str, int, str, str]]:
    root = inside(FIXTURES / name)
    result = run(root, config=Config(cache=False))
    assert result.errors == []
    return sorted((f.location.path, f.location.line, f.code, f.message) for f in result.findings)


def show(inside, name: str, *extra: str) -> str:
    inside(FIXTURES / name)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--show-settings", *extra, "."])
    assert result.exit_code == 0, result.output
    return result.output


def test_module_named_only_by_the_dockerfile_is_production(inside):
    found = fixture_findings(inside, "deploy_project")
    assert [(path, line, code) for path, line, code, _ in found] == [
        ("config/settings/live.py", 5, "CL302"),
        ("config/settings/live.py", 8, "CL502"),
    ]
    assert found[1][3].endswith("instead (Django 4.2 from requirements/base.txt)")
    root = FIXTURES / "deploy_project"
    result = run(root, ["CL302"], Config(cache=False))
    [finding] = result.findings
    assert [(r.location.path, r.location.line, r.label) for r in finding.related] == [
        ("Dockerfile", 7, "production settings: `config.settings.live` is named here")
    ]


def test_show_settings_of_the_deployment_project(inside):
    output = show(inside, "deploy_project")
    tomllib.loads(output)  # still valid TOML: the report is comments
    report = output.split("# Django settings", 1)[1]
    assert "# Django version: 4.2 from requirements/base.txt:2\n" in report
    assert (
        "# config.settings.live (config/settings/live.py): production\n"
        "#   why: deployment file: Dockerfile:7 sets DJANGO_SETTINGS_MODULE=config.settings.live\n"
        "#   star imports: config.settings.live -> config.settings.base\n"
        "#   DEBUG: not set (Django's default: False)\n"
        "#   CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}"
        "  (config/settings/live.py:3)\n"
    ) in report
    assert (
        "# config.settings.prod (config/settings/prod.py): not production\n"
        "#   why: deployment files name other settings (config.settings.live)\n"
    ) in report
    assert (
        "# config.settings.workstation (config/settings/workstation.py): not production\n"
        "#   why: development settings: docker-compose.dev.yml:6 sets "
        "DJANGO_SETTINGS_MODULE=config.settings.workstation\n"
    ) in report
    assert "#   MIDDLEWARE = ['django.middleware.security.SecurityMiddleware', " in report


def test_show_settings_json(inside):
    data = json.loads(show(inside, "kube_project", "--format", "json"))
    assert data["configuration"]["cache"] is False
    assert data["django"] == {
        "version": "3.2",
        "source": "uv.lock",
        "line": 10,
        "how": "Django",
        "note": "Django 3.2 from uv.lock",
    }
    modules = {m["module"]: m for m in data["settings"]}
    cluster = modules["site_conf.cluster"]
    assert (cluster["production"], cluster["evidence"]) == (
        True,
        {"path": "charts/web/templates/deployment.yaml", "line": 12},
    )
    assert cluster["star_imports"] == ["site_conf.common"]
    assert cluster["configuration"] == [
        {"name": "Production", "path": "charts/web/templates/deployment.yaml", "line": 14, "role": "deploy"}
    ]
    assert cluster["settings"]["STORAGES"]["value"]["staticfiles"] == {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    assert cluster["settings"]["SESSION_ENGINE"] == {
        "set": False,
        "default": "django.contrib.sessions.backends.db",
    }
    check = modules["site_conf.check"]
    assert (check["production"], check["reason"]) == (
        False,
        "test settings: pyproject.toml:7 sets DJANGO_SETTINGS_MODULE=site_conf.check",
    )
    assert data["errors"] == []


def test_kubernetes_project_findings(inside):
    # MemcachedCache is fine on the locked Django 3.2; pytest's settings are not production.
    assert fixture_findings(inside, "kube_project") == [
        (
            "site_conf/cluster.py",
            5,
            "CL501",
            "production static files storage `StaticFilesStorage` does not hash file names: assets "
            "cannot be cached for long without serving stale files after a deploy",
        )
    ]


def test_reusable_app_example_projects_are_not_production(inside):
    assert fixture_findings(inside, "reusable_app_project") == []
    output = show(inside, "reusable_app_project")
    assert (
        "# testproject.settings (testproject/settings.py): not production\n"
        "#   why: example or test project of a reusable app: `testproject/` beside the packaged "
        "library of pyproject.toml\n"
    ) in output
    assert "# sandbox.settings_live (sandbox/sandbox/settings_live.py): not production\n" in output


def test_entry_point_default_and_a_lock_beside_manage_py(inside):
    found = fixture_findings(inside, "entry_project")
    assert [(path, line, code) for path, line, code, _ in found] == [
        ("app/mysite/settings/server.py", 6, "CL302"),
        ("app/mysite/settings/server.py", 7, "CL307"),
    ]
    assert found[1][3] == (
        "`CACHE_MIDDLEWARE_ANONYMOUS_ONLY` was removed in Django 1.8: Django ignores it, so the "
        "per-site cache also stores the pages of logged-in users (Django 3.2 from app/poetry.lock)"
    )
    output = show(inside, "entry_project")
    assert "# Django version: 3.2 from app/poetry.lock:4\n" in output
    assert (
        "#   why: entry point default: app/mysite/wsgi.py:5 sets DJANGO_SETTINGS_MODULE=mysite.settings.server\n"
    ) in output
    assert (
        "#   why: development default: app/manage.py:5 sets DJANGO_SETTINGS_MODULE=mysite.settings.local\n"
    ) in output


def test_pytest_settings_with_debug_false_are_not_production(tmp_path, inside):
    files = {
        "manage.py": "",
        "pytest.ini": "[pytest]\nDJANGO_SETTINGS_MODULE = proj.quick\n",
        "proj/__init__.py": "",
        "proj/quick.py": 'DEBUG = False\nCACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
        "proj/views.py": "from django.views.decorators.cache import cache_page\n\n@cache_page(60)\ndef v(request):\n    pass\n",
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    assert triples(run(tmp_path, ["CL302"])) == []
    # Without the pytest configuration, DEBUG = False makes it production as before.
    (tmp_path / "pytest.ini").unlink()
    assert triples(run(tmp_path, ["CL302"])) == [("proj/quick.py", 2, "CL302")]


def test_dev_named_module_in_a_deployment_file_stays_dev(tmp_path, inside):
    files = {
        "manage.py": "",
        "Dockerfile": "ENV DJANGO_SETTINGS_MODULE=proj.settings.dev\n",
        "proj/__init__.py": "",
        "proj/settings/__init__.py": "",
        "proj/settings/dev.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
        "proj/settings/production.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    # The Dockerfile names dev settings only: no exclusivity, the name fallback decides.
    assert triples(run(tmp_path, ["CL302"])) == [("proj/settings/production.py", 1, "CL302")]


def test_deployment_name_with_another_source_root_matches_by_path(tmp_path, inside):
    files = {
        "manage.py": "",
        "Procfile": "web: DJANGO_SETTINGS_MODULE=config.settings.server gunicorn config.wsgi\n",
        # No __init__.py in src/config: the module is named by its path from src/.
        "src/config/settings/server.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}\n',
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    result = run(tmp_path, ["CL302"])
    assert triples(result) == [("src/config/settings/server.py", 1, "CL302")]
    assert result.findings[0].related[0].location.path == "Procfile"


def test_configuration_query_for_class_based_settings(tmp_path, inside):
    files = {
        "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
        'os.environ.setdefault("DJANGO_CONFIGURATION", "Dev")\n',
        "Dockerfile": "ENV DJANGO_CONFIGURATION=Prod\n",
        "proj/__init__.py": "",
        "proj/wsgi.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n',
        "proj/settings.py": "from configurations import Configuration\n\nclass Prod(Configuration):\n    DEBUG = False\n",
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    project = run(tmp_path, ["CL302"]).project
    assert project is not None
    assert project.production_configurations == ["Prod"]
    # The production choice: the Dockerfile's (manage.py's Dev is the development default).
    assert [(n.value, n.path, n.setting.line) for n in project.configuration_for("proj.settings")] == [
        ("Prod", "Dockerfile", 1)
    ]
    everything = project.configuration_for("proj.settings", production=False)
    assert [(n.value, n.role) for n in everything] == [("Prod", DEPLOY), ("Dev", MANAGE)]


def test_unreadable_packaging_file_is_an_error_line_not_a_crash(tmp_path, inside):
    write_tree(tmp_path, {"manage.py": "", "proj/__init__.py": ""})
    (tmp_path / "poetry.lock").mkdir()  # a directory named like a lock file is skipped by the walk
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "missing")
    inside(tmp_path)
    result = run(tmp_path, ["CL307"])
    assert result.findings == []
    assert result.project is not None and result.project.django_version_note().endswith("no version declared")


def test_named_setting_and_requirement_are_plain_values():
    import pickle

    value = (NamedSetting(DSM, "a.b", 1, DEPLOY), Requirement("django", "==", (4, 2), 1))
    assert pickle.loads(pickle.dumps(value)) == value


def test_deployed_module_with_literal_debug_true_is_a_development_deployment(tmp_path, inside):
    locmem = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
    files = {
        "manage.py": "",
        "docker-compose.yml": "services:\n  web:\n    environment:\n      DJANGO_SETTINGS_MODULE: proj.docker\n",
        "Procfile": "web: DJANGO_SETTINGS_MODULE=proj.heroku gunicorn proj.wsgi\n",
        "proj/__init__.py": "",
        "proj/docker.py": "DEBUG = True\n" + locmem,
        # The default of an environment lookup is not what the deployment runs with.
        "proj/heroku.py": 'import os\nDEBUG = os.environ.get("DEBUG", "1") == "1"\n' + locmem,
        "proj/views.py": "from django.core.cache import cache\n\ndef v(request):\n    return cache.get('k')\n",
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    assert triples(run(tmp_path, ["CL302"])) == [("proj/heroku.py", 3, "CL302")]


def test_compose_file_that_runs_the_development_server_is_development(tmp_path, inside):
    compose = (
        "services:\n  web:\n    command: python manage.py runserver 0.0.0.0:8000\n"
        "    environment:\n      - DJANGO_SETTINGS_MODULE=proj.docker\n"
    )
    files = {
        "manage.py": "",
        "docker-compose.yml": compose,
        "proj/__init__.py": "",
        "proj/docker.py": 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n',
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    result = run(tmp_path, ["CL302"])
    assert triples(result) == []
    [module] = [m for m in result.project.settings_modules if m.module == "proj.docker"]
    assert module.production_reason == (
        "development settings: docker-compose.yml:5 sets DJANGO_SETTINGS_MODULE=proj.docker"
    )


def test_a_compose_file_naming_debug_settings_does_not_exclude_the_others(tmp_path, inside):
    locmem = 'CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}\n'
    files = {
        "manage.py": "",
        "docker-compose.yml": "services:\n  web:\n    environment:\n      DJANGO_SETTINGS_MODULE: proj.settings.docker\n",
        "proj/__init__.py": "",
        "proj/settings/__init__.py": "",
        "proj/settings/docker.py": "DEBUG = True\n" + locmem,
        "proj/settings/production.py": locmem,
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    assert triples(run(tmp_path, ["CL302"])) == [("proj/settings/production.py", 1, "CL302")]


def test_wsgi_default_naming_the_base_of_production_settings(tmp_path, inside):
    files = {
        "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")\n',
        "config/__init__.py": "",
        "config/wsgi.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")\n',
        "config/django/__init__.py": "",
        "config/django/base.py": 'INSTALLED_APPS = ["django.contrib.staticfiles"]\n',
        "config/django/production.py": "from .base import *  # noqa\nDEBUG = False\n",
    }
    write_tree(tmp_path, files)
    inside(tmp_path)
    project = run(tmp_path, ["CL501"]).project
    verdicts = {m.module: (m.production, m.production_reason) for m in project.settings_modules}
    assert verdicts["config.django.base"] == (
        False,
        "the base of production settings config.django.production, though config/wsgi.py:2 sets "
        "DJANGO_SETTINGS_MODULE=config.django.base",
    )
    assert verdicts["config.django.production"] == (True, "named like production settings")
