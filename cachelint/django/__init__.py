"""``cachelint.django``: run cachelint from Django's system check framework.

Add ``"cachelint.django"`` to ``INSTALLED_APPS`` and ``manage.py check`` reports cachelint's
findings as check messages (``cachelint.CL101`` ...); ``manage.py check --deploy`` adds the
production-only families. The analysis stays static: it reads the project's files under
``settings.CACHELINT_ROOT`` (default ``settings.BASE_DIR``) and never imports them.
See docs/django-checks.md.
"""
