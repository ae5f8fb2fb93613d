import pytest


@pytest.fixture
def notices_on(settings):
    """The customer is e-mailed about their order's events (off in other areas' tests)."""
    settings.CUSTOMER_NOTICES_ON_EVENTS = True
    settings.SITE_URL = "https://orders.isp.example"
