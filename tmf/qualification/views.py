"""TMF679 views (stub)."""

from tmf.common import TmfView


class QualificationList(TmfView):
    pass


class QualificationDetail(TmfView):
    pass
