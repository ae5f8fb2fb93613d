"""The product's own error pages for a server error and a bad request (templates/500.html,
400.html); the 404 page under `make run` is in test_local_settings."""

from __future__ import annotations

from django.test import RequestFactory
from django.views import defaults


def test_the_500_page_is_the_products_and_needs_nothing_that_may_be_broken(settings):
    # Given a failure so deep that no context processor, URL or static file can be relied on
    engine = settings.TEMPLATES[0]
    options = {**engine["OPTIONS"], "context_processors": [f"{__name__}.broken"]}
    settings.TEMPLATES = [{**engine, "OPTIONS": options}]
    settings.ROOT_URLCONF = __name__  # a URL configuration with no names
    # When Django answers with its server-error view
    response = defaults.server_error(RequestFactory().get("/anything/"))
    # Then the person sees the product's page, saying what to do, not Django's bare text
    page = response.content.decode()
    assert response.status_code == 500
    assert "Order to activation" in page
    assert "Something went wrong" in page
    assert "try again" in page
    assert "/static/" not in page


def test_a_bad_request_gets_the_products_400_page():
    # Given a request refused before the sign-in middleware ran (a Host header not allowed), so
    # it carries no user; when Django answers it with its bad-request view
    response = defaults.bad_request(RequestFactory().get("/"), exception=Exception())
    # Then the person sees the product's page (not a 500 from the navigation bar)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Order to activation" in page
    assert "could not be understood" in page


def broken(request):  # a context processor that fails, as one would with the database down
    raise RuntimeError("database unavailable")


urlpatterns: list = []
