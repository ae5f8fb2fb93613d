"""The served OpenAPI document is browsable: an integrator opens /tmf-api/docs/ in a browser and
finds the three TM Forum APIs' operations, rendered by Swagger UI from our own static files
(no CDN, nothing the Content-Security-Policy blocks)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_lists_the_tmf_operations(page):
    # Given the page's console, where a blocked script or a CSP refusal would show
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    # When an integrator opens the documentation
    page.goto("/tmf-api/docs/")

    # Then Swagger UI shows the operations of TMF622, TMF679 and TMF620, with their paths
    expect(page.get_by_text("Order-to-activation: TM Forum Open APIs")).to_be_visible()
    for path in (
        "/tmf-api/productOrderingManagement/v4/productOrder",
        "/tmf-api/productOrderingManagement/v4/cancelProductOrder",
        "/tmf-api/productOfferingQualification/v4/productOfferingQualification",
        "/tmf-api/productCatalogManagement/v4/productOffering",
    ):
        expect(page.get_by_text(path, exact=True).first).to_be_visible()
    # and it offers to authorize with a bearer token
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert not problems, problems
