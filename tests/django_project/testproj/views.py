from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import cache_page


@cache_page(60 * 15)
def catalogue(request):
    return render(request, "testproj/catalogue.html")


@login_required
@cache_page(60 * 15)
def order_history(request):
    return render(request, "testproj/orders.html", {"orders": []})
