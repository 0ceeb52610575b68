from __future__ import annotations

from collections.abc import Iterator

from cachelint.finding import Finding, Severity
from cachelint.project import ProjectModel
from cachelint.registry import Rule, register
from cachelint.static_queries import unhashed_static_storages


@register
class NonManifestStaticStorage(Rule):
    code = "CL501"
    slug = "non-manifest-static-storage"
    severity = Severity.WARNING
    summary = "Production static files storage does not hash file names, so assets cannot be cached long"
    tags = ("performance",)
    what_it_does = """
Flags the `staticfiles` storage of a production settings module (`STORAGES["staticfiles"]
["BACKEND"]` or the legacy `STATICFILES_STORAGE`) when it is not a hashing storage
(`ManifestStaticFilesStorage`, WhiteNoise's `CompressedManifestStaticFilesStorage`,
django-storages' `S3ManifestStaticStorage`, or a project subclass of one), and production
settings that use `django.contrib.staticfiles` without defining a storage at all. Without
deployment evidence (below), a module is production when its name says so (`prod`, `production`, `live`, `deploy`) or it sets
`DEBUG = False`, and its dotted name does not say development, tests or CI anywhere (`dev`,
`local`, `tests.settings`, `testsettings`, `pytest`, `ci`, `travis`, `github`, ...). A base
module that other settings star-import is judged through the production modules that run it
(it may set `DEBUG = False` only for development settings to override); a storage written in
a base is reported once, where it is written, and a missing storage once, at the production
module that runs. From Django 5.1 on (the version the project declares, else the latest) the
legacy `STATICFILES_STORAGE` is ignored unless `STORAGES` names a `staticfiles` storage, so
cachelint treats it as absent too. Storages cachelint does not know are not flagged.

No finding either when the assets are hashed another way: the module sets
`WHITENOISE_IMMUTABLE_FILE_TEST` (WhiteNoise then serves the files it matches as immutable,
which only makes sense for names that carry a hash), or a bundler config in the project
(`webpack.config.js` and `webpack.*.js`, `rspack.config.*`, `vite.config.*`,
`rollup.config.*`, `esbuild.config.*`, read as text, never run) writes content-hashed names
(`[contenthash]`, `[chunkhash]`, `[hash]` in webpack's, Rollup's `entryFileNames` or esbuild's
`entryNames` patterns; Vite hashes by default unless its `entryFileNames`/`chunkFileNames`/
`assetFileNames` drop `[hash]`) into a folder that Django serves as static files: a
`STATICFILES_DIRS` entry (`BASE_DIR / "assets"` matches an output folder `assets/bundles`),
or an app's `static/` folder. When `STATICFILES_DIRS` cannot be read, a hashed bundle anywhere
in the project is taken as the answer. The output folder is webpack's `output.path`, Vite's
`build.outDir`, Rollup's `output.dir`/`file`, esbuild's `outdir`/`outfile` (the tool's default
when absent), relative to the config file.

Which settings run in production is read from the project's own files first: a module that a
deployment file names (`DJANGO_SETTINGS_MODULE` in a Dockerfile, Procfile, compose or
Kubernetes/Helm file, `.env` file or start script) is production whatever its name, and then
the others are not; the default of `wsgi.py`/`asgi.py`/`celery.py` counts next; a module that
only pytest, tox or CI configuration (or a file named for development) names is not
production, nor is the example or test project of a packaged reusable app (`testproject/`,
`example*/`, `sandbox/`, `demo*/`). `cachelint check --show-settings` shows each verdict and
the file line behind it.
"""
    why_is_this_bad = """
Without content hashes in file names, `app.css` keeps its URL when its content changes. You
must either serve assets with a short cache lifetime (slow pages, more requests) or risk
browsers and CDNs serving the old file for a year after a deploy.
"""
    bad_example = {
        "mysite/settings/production.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},  # expect: CL501
}
""",
    }
    good_example = {
        "mysite/settings/base.py": """DEBUG = False
INSTALLED_APPS = ["django.contrib.staticfiles"]
""",
        "mysite/settings/production.py": """from .base import *

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
""",
        "mysite/settings/dev.py": """from .base import *

DEBUG = True
""",
    }

    def check(self, project: ProjectModel) -> Iterator[Finding]:
        for storage in unhashed_static_storages(project):
            yield self.finding(storage.location, storage.message, hint=storage.hint, related=storage.related)
