from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # TM Forum Open APIs (tmf): each at its spec's basePath; the OpenAPI document and its
    # browsable view beside them.
    path(
        "tmf-api/productOrderingManagement/v4/",
        include(("tmf.productorder.urls", "tmf622")),
    ),
    path(
        "tmf-api/productOfferingQualification/v4/",
        include(("tmf.qualification.urls", "tmf679")),
    ),
    path("tmf-api/productCatalogManagement/v4/", include(("tmf.catalog.urls", "tmf620"))),
    path("tmf-api/productInventory/v4/", include(("tmf.inventory.urls", "tmf637"))),
    path("tmf-api/openapi.json", SpectacularJSONAPIView.as_view(), name="tmf-openapi"),
    path(
        "tmf-api/docs/",
        # Swagger UI draws its icons as data: SVG images; nothing else is relaxed.
        csp_update({"img-src": [SELF, "data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="tmf-openapi")
        ),
        name="tmf-docs",
    ),
    path("sales/", include("orders.urls")),
    path("support/", include("support.urls")),
    path("work/kpis/", include("kpis.urls")),
    # The CSAT question by the e-mail's signed link (public: the token names the order).
    path("", include("support.feedback_urls")),
    # Cross-system mismatches, for the provisioning lead, billing and operations.
    path("work/reconciliation/", include("reconciliation.urls")),
    path("", include("portal.account_urls")),
    path("", include("portal.urls")),
]

# Prometheus scrapes /metrics (observability); /health/* is answered by its middleware.
urlpatterns.insert(0, path("", include("observability.urls")))
