from django.urls import re_path

from tmf.hub.views import hub_urls
from tmf.models import HubApi
from tmf.productorder import views
from tmf.views import UnknownPath

app_name = "tmf622"

urlpatterns = [
    re_path(r"^productOrder/?$", views.ProductOrderList.as_view(), name="product-order-list"),
    re_path(
        r"^productOrder/(?P<order_id>[^/]+)/?$",
        views.ProductOrderDetail.as_view(),
        name="product-order-detail",
    ),
    re_path(
        r"^cancelProductOrder/?$",
        views.CancelProductOrderList.as_view(),
        name="cancel-product-order-list",
    ),
    re_path(
        r"^cancelProductOrder/(?P<cancel_id>[^/]+)/?$",
        views.CancelProductOrderDetail.as_view(),
        name="cancel-product-order-detail",
    ),
    *hub_urls(HubApi.PRODUCT_ORDERING),
    re_path(r"^.*$", UnknownPath.as_view(), name="unknown"),
]
