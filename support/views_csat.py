"""The CSAT question by the e-mail's link: ``/feedback/<token>/``, public (no sign-in), the
signed token naming the order (support.csat_links). The customer's order page asks the same
question (portal.views.order_csat)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from orders.models import Order
from support.csat_links import LinkProblem, csat_link_max_age, csat_token_check
from support.csat_models import CsatChannel
from support.forms import CsatForm
from support.selectors import csat_asked, order_csat
from support.services import CSAT_ALREADY_ANSWERED, CSAT_NOT_ASKED, CsatRefused, csat_answer

TEMPLATE = "support/feedback.html"
# How the page answers a link it cannot use: gone for one that ran out, bad request otherwise.
LINK_STATUS = {LinkProblem.EXPIRED: 410, LinkProblem.INVALID: 400}


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    """The question, the customer's answer once given ("Thanks, you rated 4/5"), or why the
    link cannot be used (it ran out, or it is not one of ours: the page says which, and that
    the order page asks the same question)."""
    check = csat_token_check(token)
    order = None
    if check.order_pk is not None:
        order = Order.objects.select_related("plan").filter(pk=check.order_pk).first()
    if order is None:
        # A valid signature for an order that is gone reads as any link we cannot use.
        problem = check.problem or LinkProblem.INVALID
        problem_context = {"problem": problem.value, "link_days": csat_link_max_age().days}
        return render(request, TEMPLATE, problem_context, status=LINK_STATUS[problem])
    answer = order_csat(order)
    context: dict[str, Any] = {
        "order": order,
        "answer": answer,
        "asked": csat_asked(order),
        "refused": "",
        "action": request.path,
    }
    if request.method == "GET" or answer is not None or not context["asked"]:
        if request.method == "POST":  # a second answer, or one about an order we do not ask
            context["refused"] = CSAT_ALREADY_ANSWERED if answer is not None else CSAT_NOT_ASKED
            return render(request, TEMPLATE, context, status=409)
        context["form"] = CsatForm()
        return render(request, TEMPLATE, context)
    form = CsatForm(request.POST)
    if form.is_valid():
        try:
            csat_answer(
                order=order,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
                channel=CsatChannel.EMAIL,
            )
        except CsatRefused as exc:
            # Answered meanwhile (the order page, a second tab): the page shows that answer.
            context.update(answer=order_csat(order), refused=str(exc))
            return render(request, TEMPLATE, context, status=409)
        return redirect("csat_feedback", token=token)
    context["form"] = form
    return render(request, TEMPLATE, context)
