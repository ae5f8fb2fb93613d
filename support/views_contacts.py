"""Support's "Contact the customer" worklist (support.contact_tasks): open tasks oldest first,
taken by an agent, done when the agent records the contact and its outcome."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from orders.access import restrict_by_order
from orders.selectors import worklist
from support.contact_models import NOTE_MAX_LENGTH, ContactTask
from support.contact_tasks import ContactTaskRefused, contact_task_record, contact_task_take

PERMISSION = "support.change_supportticket"
PAGE = 50


class ContactRecordForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("", "Choose…"), *ContactTask.Outcome.choices],
        error_messages={"required": "Say how the contact went."},
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": "Say what you told the customer, or what happened."},
    )


def _visible(request: HttpRequest) -> Any:
    return restrict_by_order(ContactTask.objects.all(), request.user)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def contact_queue(request: HttpRequest) -> HttpResponse:
    page = worklist(
        _visible(request)
        .filter(done_at__isnull=True)
        .select_related("order__customer", "taken_by")
        .order_by("created_at", "id"),
        limit=PAGE,
        after=request.GET.get("after"),
    )
    for task in page.items:
        task.form = ContactRecordForm(prefix=f"task{task.pk}")
    if page.next_cursor:
        page = replace(page, next_url=f"?{urlencode({'after': page.next_cursor})}")
    if request.GET.get("after"):
        page = replace(page, first_url=request.path)
    return render(request, "support/contacts.html", {"tasks": page})


def _task(request: HttpRequest, contact_id: int) -> ContactTask:
    return get_object_or_404(_visible(request).select_related("order"), pk=contact_id)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def contact_take(request: HttpRequest, contact_id: int) -> HttpResponse:
    task = _task(request, contact_id)
    try:
        contact_task_take(task, by=request.user)
        messages.success(request, f"Order {task.order.display_id}: the contact is yours.")
    except ContactTaskRefused as exc:
        messages.error(request, str(exc))
    return redirect("support:contacts")


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def contact_record(request: HttpRequest, contact_id: int) -> HttpResponse:
    task = _task(request, contact_id)
    form = ContactRecordForm(request.POST, prefix=f"task{task.pk}")
    if not form.is_valid():
        # The list again, with this task's form and its errors beside its fields
        page = worklist(
            _visible(request)
            .filter(done_at__isnull=True)
            .select_related("order__customer", "taken_by")
            .order_by("created_at", "id"),
            limit=PAGE,
        )
        for item in page.items:
            item.form = form if item.pk == task.pk else ContactRecordForm(prefix=f"task{item.pk}")
        return render(request, "support/contacts.html", {"tasks": page}, status=400)
    try:
        contact_task_record(
            task,
            by=request.user,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, f"Order {task.order.display_id}: contact recorded.")
    except ContactTaskRefused as exc:
        messages.error(request, str(exc))
    return redirect("support:contacts")
