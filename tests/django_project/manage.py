#!/usr/bin/env python
"""A real Django project for tests/test_django_checks.py: `manage.py check` runs cachelint."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
