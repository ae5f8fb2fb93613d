"""TMF620 views (stub)."""

from tmf.common import TmfView


class OfferingList(TmfView):
    pass


class OfferingDetail(TmfView):
    pass


class PriceList(TmfView):
    pass


class PriceDetail(TmfView):
    pass
