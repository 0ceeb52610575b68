# The fixture projects are data: their own tests (a Django app's tests.py) must not be collected.
collect_ignore_glob = ["fixtures/*", "django_project/*"]
