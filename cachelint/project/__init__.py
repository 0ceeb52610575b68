"""The cross-file model: per-file facts joined into views, template chains and settings.

Rules query this model and never parse or read files. It is a package of small modules by the
question they answer; ``ProjectModel`` puts them together:

- ``base``: the loaded facts and the definition lookups everything starts from;
- ``settings``: settings modules evaluated along their star-import chains, production or not;
- ``evidence``: what entry points and deployment files name, and the declared Django version;
- ``views``: views with their wrapper stacks (decorators, URLconf wrappers, mixins, MRO);
- ``drf``: the renderers and authentication classes a DRF view ends up with;
- ``templates``: what rendering a template outputs through extends and includes;
- ``flow``: values followed through locals, helpers, ``self.`` methods and context processors;
- ``demand``: which modules the pre-filter skipped that parsed code points at;
- ``deploy``: what the web-server, proxy and chart files say (static caching, proxy caches).
"""

from __future__ import annotations

from dataclasses import dataclass

from cachelint.project.base import ModelBase, Problem
from cachelint.project.demand import DemandQueries
from cachelint.project.deploy import DeployQueries, PersonalPagesQueries
from cachelint.project.drf import DrfQueries
from cachelint.project.evidence import DjangoVersion, EvidenceQueries, Named
from cachelint.project.flow import FlowQueries, Sources
from cachelint.project.settings import SettingsModule, SettingsQueries, location_in_dict
from cachelint.project.templates import RenderedUse, TemplateQueries
from cachelint.project.views import (
    AUTH,
    CACHE_CONTROL,
    CACHE_PAGE,
    CONDITIONAL,
    CSRF_PROTECT,
    DRF_DISPATCH,
    METHODS,
    NEVER_CACHE,
    PERSONAL_KINDS,
    VARY_COOKIE,
    VARY_HEADERS,
    View,
    ViewQueries,
    Wrapper,
)


@dataclass
class ProjectModel(
    ViewQueries,
    DrfQueries,
    TemplateQueries,
    FlowQueries,
    SettingsQueries,
    EvidenceQueries,
    DemandQueries,
    DeployQueries,
    PersonalPagesQueries,
    ModelBase,
):
    """The whole project as the rules see it."""


__all__ = [
    "AUTH",
    "CACHE_CONTROL",
    "CACHE_PAGE",
    "CONDITIONAL",
    "CSRF_PROTECT",
    "DjangoVersion",
    "Named",
    "DRF_DISPATCH",
    "METHODS",
    "NEVER_CACHE",
    "PERSONAL_KINDS",
    "VARY_COOKIE",
    "VARY_HEADERS",
    "ModelBase",
    "Problem",
    "ProjectModel",
    "RenderedUse",
    "SettingsModule",
    "Sources",
    "View",
    "Wrapper",
    "location_in_dict",
]
