from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("deals/", views.deals, name="deals"),
    path("p/<slug:slug>/", views.product_detail, name="product"),
    path("orders/", views.order_history, name="order-history"),
]
