from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page

from shop.views import AccountView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", cache_page(60 * 10)(AccountView.as_view()), name="account"),
    path("", include("shop.urls")),
]
