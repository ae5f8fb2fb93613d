"""TMF622 views (stub)."""

from tmf.common import TmfView


class ProductOrderList(TmfView):
    pass


class ProductOrderDetail(TmfView):
    pass


class CancelProductOrderList(TmfView):
    pass


class CancelProductOrderDetail(TmfView):
    pass
