from django.urls import path

from testproj import views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("orders/", views.order_history, name="order-history"),
]
