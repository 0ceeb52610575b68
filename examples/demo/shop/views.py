"""Shop views: a public catalogue and each customer's order history."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_page
from django.views.decorators.vary import vary_on_cookie
from django.views.generic import TemplateView

from .models import Order, Product


@login_required
@cache_page(60 * 15)
def order_history(request):
    orders = Order.objects.filter(customer=request.user).order_by("-created")
    total_spent = sum(order.total for order in orders)
    return render(request, "shop/order_history.html", {"orders": orders, "total_spent": total_spent})


@cache_page(60 * 5)
def catalogue(request):
    return render(request, "shop/catalogue.html", {"products": Product.objects.all()})


@vary_on_cookie
@cache_page(60 * 10)
def product_detail(request, slug):
    product = get_object_or_404(Product, slug=slug)
    return render(request, "shop/product_detail.html", {"product": product})


@cache_page(60 * 60)
@vary_on_cookie
def deals(request):
    return render(request, "shop/deals.html", {"products": Product.objects.filter(on_sale=True)})


class AccountView(LoginRequiredMixin, TemplateView):
    template_name = "shop/account.html"
