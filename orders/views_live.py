"""The event stream of a worklist: the orders its rows show (orders.live for one order's page).

A worklist page names the orders of its live sections' rows (``o``) and the sorts of change
that may bring an order into one of them (``t``: ``status:<status>`` or ``kind:<event kind>``,
orders.live_push.event_topics); its stream says ``change`` for any of them, and the page then
reads itself again and replaces its sections. The stream opens only if the user may see every
order named (404 otherwise, as for an order's own page), and only from a server that can push:
elsewhere the worklists stay as loaded, as they were before the push. A topic's ``change``
names no order, so it tells nobody of an order they may not see.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.http import require_GET

from orders import order_id
from orders.access import restrict_orders
from orders.live import wants_stream
from orders.live_notifier import orders_event_stream, stream_headers
from orders.models import Order, OrderEvent
from orders.states import OrderStatus

# The rows of a worklist's page, and some: a page shows up to 25 in each of its lists.
MAX_ORDERS_PER_STREAM = 250
TOPICS = frozenset(
    [*(f"status:{status}" for status in OrderStatus.values)]
    + [f"kind:{kind}" for kind in OrderEvent.Kind.values]
)


@login_required
@permission_required("orders.view_order", raise_exception=True)
@require_GET
def orders_live(request: HttpRequest) -> HttpResponseBase:
    return list_stream_response(
        request, restrict_orders(Order.objects.all(), request.user), topics=True
    )


def list_stream_response(
    request: HttpRequest, visible: QuerySet[Order], *, topics: bool
) -> HttpResponseBase:
    """The stream of a page listing orders (``o``, each one of ``visible``: 404 otherwise)
    and, where ``topics`` is allowed (staff worklists), the sorts of change it waits for
    (``t``). A 204 where the server cannot push."""
    names = request.GET.getlist("o")
    wanted_topics = tuple(sorted(set(request.GET.getlist("t"))))
    if not (names or wanted_topics) or len(names) > MAX_ORDERS_PER_STREAM:
        raise Http404("No such orders.")
    if wanted_topics and not (topics and TOPICS.issuperset(wanted_topics)):
        raise Http404("No such list.")
    try:
        wanted = {order_id.normalize(name) for name in names}
    except order_id.InvalidOrderId as exc:
        raise Http404("No such order.") from exc
    if set(visible.filter(pk__in=wanted).values_list("pk", flat=True)) != wanted:
        raise Http404("No such order.")
    if not wants_stream(request):
        return HttpResponse(status=204)  # no push here: the page stays as loaded
    return StreamingHttpResponse(
        orders_event_stream(tuple(sorted(wanted)), topics=wanted_topics),
        headers=stream_headers(),
    )
