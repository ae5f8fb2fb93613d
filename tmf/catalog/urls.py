from django.urls import re_path

from tmf.catalog import views
from tmf.hub.views import hub_urls
from tmf.models import HubApi
from tmf.views import UnknownPath

app_name = "tmf620"

urlpatterns = [
    re_path(
        r"^productSpecification/?$",
        views.SpecificationList.as_view(),
        name="product-specification-list",
    ),
    re_path(
        r"^productSpecification/(?P<specification_id>[^/]+)/?$",
        views.SpecificationDetail.as_view(),
        name="product-specification-detail",
    ),
    re_path(r"^productOffering/?$", views.OfferingList.as_view(), name="product-offering-list"),
    re_path(
        r"^productOffering/(?P<offering_id>[^/]+)/?$",
        views.OfferingDetail.as_view(),
        name="product-offering-detail",
    ),
    re_path(r"^productOfferingPrice/?$", views.PriceList.as_view(), name="price-list"),
    re_path(
        r"^productOfferingPrice/(?P<price_id>[^/]+)/?$",
        views.PriceDetail.as_view(),
        name="price-detail",
    ),
    *hub_urls(HubApi.CATALOG),
    re_path(r"^.*$", UnknownPath.as_view(), name="unknown"),
]
