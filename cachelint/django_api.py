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
CONDITIONAL = frozenset(
    {
        "django.views.decorators.http.etag",
        "django.views.decorators.http.last_modified",
        "django.views.decorators.http.condition",
    }
)
# Decorators that restrict a view's HTTP methods -> the methods they allow (None: from args).
METHOD_RESTRICTIONS = {
    "django.views.decorators.http.require_POST": ("POST",),
    "django.views.decorators.http.require_GET": ("GET",),
    "django.views.decorators.http.require_safe": ("GET", "HEAD"),
    "django.views.decorators.http.require_http_methods": None,
}
METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})

AUTH_DECORATORS = frozenset(
    {
        "django.contrib.auth.decorators.login_required",
        "django.contrib.auth.decorators.permission_required",
        "django.contrib.auth.decorators.user_passes_test",
        "django.contrib.admin.views.decorators.staff_member_required",
    }
)
# Bytes any module that applies one of the auth decorators or mixins (or DRF permissions) contains.
AUTH_TOKENS = (
    b"login_required",
    b"permission_required",
    b"user_passes_test",
    b"staff_member_required",
    b"RequiredMixin",
    b"UserPassesTestMixin",
    b"permission_classes",
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

# --- Classes outside the project, as the MRO sees them -----------------------------------------
# Django's ``View`` defines ``dispatch`` and never calls ``super().dispatch``: a mixin that wraps
# dispatch but comes after it in the MRO never runs. DRF's ``APIView`` derives from it.
DJANGO_VIEW = "django.views.generic.base.View"
DJANGO_VIEW_NAMES = frozenset({DJANGO_VIEW, "django.views.View", "django.views.generic.View"})
DRF_API_VIEW_CLASS = "rest_framework.views.APIView"
# Framework classes that do not define ``get`` (``View`` answers 405 without a handler).
NO_GET_VIEW_CLASSES = frozenset(
    {
        DRF_API_VIEW_CLASS,
        "rest_framework.generics.GenericAPIView",
        "rest_framework.viewsets.ViewSet",
        "rest_framework.viewsets.ViewSetMixin",
        "rest_framework.viewsets.GenericViewSet",
    }
)
# Generic views without ``TemplateResponseMixin`` (the others hold ``template_name = None``).
NO_TEMPLATE_VIEW_CLASSES = frozenset(
    {"django.views.generic.RedirectView", "django.views.generic.base.RedirectView"}
)


def is_framework_view_class(name: str) -> bool:
    """A Django or DRF class-based view (``TemplateView``, ``ListAPIView``, ``ModelViewSet``):
    Django's own modules are not parsed, so their names say what they are."""
    last = name.rpartition(".")[2]
    return name.startswith(("django.", "rest_framework.")) and last.endswith(("View", "ViewSet"))


# HTTP methods whose responses ``cache_page`` never stores, and the class-based view methods
# that only run on them (Django's edit views and DRF's write actions).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNSAFE_HANDLERS = frozenset(
    {
        "post",
        "put",
        "patch",
        "delete",
        "form_valid",
        "form_invalid",
        "perform_create",
        "perform_update",
        "perform_destroy",
        "create",
        "update",
        "partial_update",
        "destroy",
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
# ``@action`` marks a viewset method as a handler run inside the viewset's dispatch.
DRF_ACTION = frozenset({"rest_framework.decorators.action"})
DRF_RENDERER_CLASSES_DECORATOR = frozenset({"rest_framework.decorators.renderer_classes"})
DRF_AUTHENTICATION_CLASSES_DECORATOR = frozenset({"rest_framework.decorators.authentication_classes"})
# Renderers whose HTML page prints the logged-in user and a CSRF token.
DRF_BROWSABLE_RENDERERS = frozenset(
    {
        "rest_framework.renderers.BrowsableAPIRenderer",
        "djangorestframework_camel_case.render.CamelCaseBrowsableAPIRenderer",
    }
)
DRF_SESSION_AUTHENTICATION = frozenset({"rest_framework.authentication.SessionAuthentication"})
# What DRF uses when neither the view nor ``REST_FRAMEWORK`` says.
DRF_DEFAULT_RENDERERS = (
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
)
DRF_DEFAULT_AUTHENTICATION = (
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.BasicAuthentication",
)

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

DRF_RESPONSE = frozenset({"rest_framework.response.Response"})
# Response classes that take ``headers={...}`` (Django 3.2+, DRF's Response).
RESPONSE_CLASSES = frozenset(
    {
        "django.http.HttpResponse",
        "django.http.JsonResponse",
        "django.http.StreamingHttpResponse",
        "django.http.FileResponse",
        "django.http.response.HttpResponse",
        "django.http.response.JsonResponse",
        "django.http.response.StreamingHttpResponse",
        "django.http.response.FileResponse",
        "django.template.response.TemplateResponse",
        "django.template.response.SimpleTemplateResponse",
        "rest_framework.response.Response",
    }
)

PATCH_VARY_HEADERS = frozenset({"django.utils.cache.patch_vary_headers"})
PATCH_CACHE_CONTROL = frozenset({"django.utils.cache.patch_cache_control"})
ADD_NEVER_CACHE_HEADERS = frozenset({"django.utils.cache.add_never_cache_headers"})

LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"

# Handlers whose response CacheMiddleware stores (it only caches GET and HEAD).
CACHED_HANDLERS = ("dispatch", "get", "head", "list", "retrieve")  # DRF viewset actions too

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
SETTINGS_OBJECT = frozenset({"django.conf.settings"})
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
# Django 4.0+ async twins take the same arguments.
CACHE_METHOD_ARGUMENTS |= {f"a{name}": slots for name, slots in CACHE_METHOD_ARGUMENTS.items()}

# Cache backends.
DJANGO_REDIS_BACKEND_PREFIX = "django_redis."
BUILTIN_REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"

# Cache-Control directives as Django's cache_control()/patch_cache_control() spell them.
CACHE_CONTROL_FLAGS = frozenset(
    {
        "public",
        "no_store",
        "no_transform",
        "must_revalidate",
        "proxy_revalidate",
        "must_understand",
        "immutable",
    }
)
CACHE_CONTROL_SECONDS = frozenset({"max_age", "s_maxage", "stale_while_revalidate", "stale_if_error"})
# private and no_cache take either True or a list of field names.
CACHE_CONTROL_DIRECTIVES = CACHE_CONTROL_FLAGS | CACHE_CONTROL_SECONDS | {"private", "no_cache"}

# --- Cache backend and static settings (CL302-CL307, CL502, CL503) ---------------------------

DEFAULT_CACHE_ALIAS = "default"
# Backends whose storage lives in one process (or one host's disk), or that store nothing.
PROCESS_LOCAL_CACHE_BACKENDS = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps a separate cache in every worker process",
    "django.core.cache.backends.filebased.FileBasedCache": "keeps a separate cache on every host's disk",
    "django.core.cache.backends.dummy.DummyCache": "stores nothing at all",
}
MEMCACHED_BACKEND_PREFIX = "django.core.cache.backends.memcached."
# Cache backends Django removed -> (the release that removed them, what to use instead).
REMOVED_CACHE_BACKENDS = {
    "django.core.cache.backends.memcached.MemcachedCache": (
        (4, 1),
        "`django.core.cache.backends.memcached.PyMemcacheCache`",
    ),
    "django.core.cache.backends.memcached.CacheClass": (
        (1, 6),
        "`django.core.cache.backends.memcached.PyMemcacheCache`",
    ),
}
# Settings Django removed -> (the release that removed them, what to use instead).
REMOVED_CACHE_SETTINGS = {
    "CACHE_BACKEND": ((1, 5), "the `CACHES` setting"),
    "CACHE_MIDDLEWARE_ANONYMOUS_ONLY": (
        (1, 8),
        "`cache_page` only on public views; do not cache personal ones, or mark them "
        "`cache_control(private=True)`",
    ),
}
SESSION_CACHE_ENGINE = "django.contrib.sessions.backends.cache"
SITE_CACHE_MIDDLEWARE = frozenset(
    {"django.middleware.cache.UpdateCacheMiddleware", "django.middleware.cache.CacheMiddleware"}
)
# redis-py clients made from a URL (``redis.from_url(settings.REDIS_URL)``), sync and asyncio.
REDIS_FROM_URL = frozenset(
    {
        "redis.from_url",
        "redis.Redis.from_url",
        "redis.StrictRedis.from_url",
        "redis.client.Redis.from_url",
        "redis.client.StrictRedis.from_url",
        "redis.asyncio.from_url",
        "redis.asyncio.Redis.from_url",
        "redis.asyncio.client.Redis.from_url",
    }
)
# Celery settings that may name a Redis server (Django-namespaced and old-style names).
CELERY_REDIS_SETTINGS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BROKER_URL")
DEFAULT_REDIS_PORT = 6379
DEFAULT_MEMCACHED_PORT = 11211
# The STORAGES setting replaced these in Django 4.2 (deprecated) and 5.1 (removed).
LEGACY_STORAGE_SETTINGS = {"STATICFILES_STORAGE": "staticfiles", "DEFAULT_FILE_STORAGE": "default"}
STORAGES_ADDED = (4, 2)
LEGACY_STORAGE_REMOVED = (5, 1)
ONE_DAY = 86400

# What Django uses when STORAGES does not say (the CL502 fix writes them out).
DEFAULT_FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
DEFAULT_STATICFILES_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"
# django-redis-cache backends: like django-redis, they read SOCKET_TIMEOUT and
# SOCKET_CONNECT_TIMEOUT from OPTIONS (and pass CONNECTION_POOL_CLASS_KWARGS to the pool).
REDIS_CACHE_BACKENDS = frozenset(
    {
        "redis_cache.RedisCache",
        "redis_cache.ShardedRedisCache",
        "redis_cache.cache.RedisCache",
        "redis_cache.backends.single.RedisCache",
        "redis_cache.backends.multiple.ShardedRedisCache",
    }
)
