"""What cachelint knows about Django's (and DRF's) API, by qualified name.

Rules match qualified names, never spellings: ``cp`` imported as an alias of ``cache_page`` is
``cache_page``. Each set lists every public path a name is importable from.
"""

from __future__ import annotations

CACHE_PAGE = frozenset({"django.views.decorators.cache.cache_page"})
NEVER_CACHE = frozenset({"django.views.decorators.cache.never_cache"})
CACHE_CONTROL = frozenset({"django.views.decorators.cache.cache_control"})
VARY_ON_COOKIE = frozenset({"django.views.decorators.vary.vary_on_cookie"})
VARY_ON_HEADERS = frozenset({"django.views.decorators.vary.vary_on_headers"})
CSRF_PROTECT = frozenset({"django.views.decorators.csrf.csrf_protect"})
METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})

AUTH_DECORATORS = frozenset(
    {
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.contrib.auth.decorators.user_passes_test",
        "django.contrib.admin.views.decorators.staff_member_required",
    }
)
AUTH_MIXINS = frozenset(
    {
        "django.contrib.auth.mixins.LoginRequiredMixin",
        "django.contrib.auth.mixins.PermissionRequiredMixin",
        "django.contrib.auth.mixins.UserPassesTestMixin",
        # django-braces, still common in older projects
        "braces.views.LoginRequiredMixin",
        "braces.views.PermissionRequiredMixin",
        "braces.views.StaffuserRequiredMixin",
        "braces.views.SuperuserRequiredMixin",
        "braces.views.UserPassesTestMixin",
    }
)

# DRF
DRF_API_VIEW = frozenset({"rest_framework.decorators.api_view"})
DRF_PERMISSION_CLASSES_DECORATOR = frozenset({"rest_framework.decorators.permission_classes"})
DRF_AUTHENTICATED_PERMISSIONS = frozenset(
    {
        "rest_framework.permissions.IsAuthenticated",
        "rest_framework.permissions.IsAdminUser",
        "rest_framework.permissions.DjangoModelPermissions",
        "rest_framework.permissions.DjangoObjectPermissions",
    }
)
DRF_VIEW_PREFIX = "rest_framework."

# URLconf entries and includes.
URL_FUNCTIONS = frozenset(
    {
        "django.urls.path",
        "django.urls.re_path",
        "django.conf.urls.url",
        "django.urls.conf.path",
        "django.urls.conf.re_path",
    }
)
URL_INCLUDE = frozenset({"django.urls.include", "django.conf.urls.include", "django.urls.conf.include"})

# Calls whose argument names a template the view renders, and the index of that argument.
TEMPLATE_RENDERERS = {
    "django.shortcuts.render": 1,
    "django.shortcuts.render_to_response": 0,
    "django.template.response.TemplateResponse": 1,
    "django.template.response.SimpleTemplateResponse": 0,
    "django.template.loader.render_to_string": 0,
    "django.template.loader.get_template": 0,
    "django.template.loader.select_template": 0,
}
TEMPLATE_NAME_KEYWORDS = ("template_name", "template_name_list", "template")

# Calls that make the response depend on the visitor.
PERSONAL_CALLS = {
    "django.contrib.messages.get_messages": "messages",
    "django.contrib.messages.api.get_messages": "messages",
    "django.middleware.csrf.get_token": "csrf_token",
}

PATCH_VARY_HEADERS = frozenset({"django.utils.cache.patch_vary_headers"})
PATCH_CACHE_CONTROL = frozenset({"django.utils.cache.patch_cache_control"})
ADD_NEVER_CACHE_HEADERS = frozenset({"django.utils.cache.add_never_cache_headers"})

# Handlers whose response CacheMiddleware stores (it only caches GET and HEAD).
CACHED_HANDLERS = ("dispatch", "get", "head")

# Static files storages.
HASHING_STORAGE_HINTS = ("Manifest", "Hashed", "CachedStaticFilesStorage")
NON_HASHING_STORAGES = frozenset(
    {
        "django.contrib.staticfiles.storage.StaticFilesStorage",
        "django.core.files.storage.FileSystemStorage",
        "whitenoise.storage.CompressedStaticFilesStorage",
        "whitenoise.django.GzipStaticFilesStorage",
    }
)
NON_HASHING_STORAGE_PREFIXES = ("storages.backends.",)

# The low-level cache API.
DEFAULT_CACHE = frozenset({"django.core.cache.cache"})
CACHES_HANDLER = frozenset({"django.core.cache.caches"})
# method -> positional index of (key, value, timeout); None where the method has none.
CACHE_METHOD_ARGUMENTS = {
    "set": (0, 1, 2),
    "add": (0, 1, 2),
    "get_or_set": (0, 1, 2),
    "set_many": (None, 0, 1),
    "touch": (0, None, 1),
    "get": (0, None, None),
    "delete": (0, None, None),
}

# Cache backends.
DJANGO_REDIS_BACKEND_PREFIX = "django_redis."
BUILTIN_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"
