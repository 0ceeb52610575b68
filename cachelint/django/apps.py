from __future__ import annotations

from django.apps import AppConfig


class CachelintConfig(AppConfig):
    name = "cachelint.django"
    label = "cachelint"
    verbose_name = "cachelint"

    def ready(self) -> None:
        from django.core import checks

        from cachelint.django.checks import TAG, check_deploy, check_project

        # Registered here rather than at import time, so importing the module registers nothing.
        checks.register(check_project, TAG)
        checks.register(check_deploy, TAG, deploy=True)
