"""The operations manager's page (critical jeopardies come to them) and the escalation panel
every worklist shows: what was escalated to the person, which they take from here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from orders.access import restrict_by_order
from orders.jeopardy import escalation_acknowledge
from orders.jeopardy_selectors import counts_by_level, escalations_to, jeopardies_open
from orders.models import Escalation
from orders.models.jeopardy import JeopardyLevel
from portal.worklists import _after, _linked, worklist_required


@worklist_required("operations")
@require_GET
def operations_home(request: HttpRequest) -> HttpResponse:
    counts = counts_by_level(request.user)
    return render(
        request,
        "portal/worklists/operations.html",
        {
            "jeopardies": _linked(
                request,
                jeopardies_open(request.user, after=_after(request, "after")),
                "after",
            ),
            "levels": [
                (level, label, counts.get(level, 0))
                for level, label in reversed(JeopardyLevel.choices)
            ],
            "escalations": escalations_to(request.user),
        },
    )


@login_required
@require_POST
def escalation_take(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """The person takes an escalation brought to them: it leaves their worklist."""
    escalation = (
        restrict_by_order(Escalation.objects.filter(pk=escalation_id), request.user)
        .filter(to_id=request.user.pk)
        .first()
    )
    if escalation is None:
        raise Http404("No such escalation for you.")
    if escalation_acknowledge(escalation, by=request.user):
        messages.success(request, f"Order {escalation.order.display_id}: taken.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "portal:home"
    return redirect(back)
