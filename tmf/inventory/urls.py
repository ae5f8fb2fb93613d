from django.urls import re_path

from tmf.hub.views import hub_urls
from tmf.inventory import views
from tmf.models import HubApi
from tmf.views import UnknownPath

app_name = "tmf637"

urlpatterns = [
    re_path(r"^product/?$", views.ProductList.as_view(), name="product-list"),
    re_path(
        r"^product/(?P<product_id>[^/]+)/?$",
        views.ProductDetail.as_view(),
        name="product-detail",
    ),
    *hub_urls(HubApi.INVENTORY),
    re_path(r"^.*$", UnknownPath.as_view(), name="unknown"),
]
