"""The staff roles' landing pages: one worklist per role (sales, provisioning, provisioning
lead, billing). Support's window is support.views, the customer's portal.views.

Each page requires its role's permissions (``WORKLIST_PERMISSIONS``, which the navigation reads
too) and reads through selectors that restrict every row by ``orders.access``. The writes call
one service each and report the outcome, a refusal included, as a message; the state stays as
the service left it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_fsm import ConcurrentTransition

from billing.selectors import (
    activated_orders_without_billing,
    billing_accounts_started_on,
    billing_charges_changed_on,
    billing_mismatches,
)
from orders import selectors as order_selectors
from orders.access import order_get_for_user, restrict_by_order
from orders.fulfilment import TaskMode, TaskType
from orders.jeopardy_selectors import escalations_to, jeopardies_open
from orders.selectors import Worklist
from orders.services import OrderError, order_confirm_manual_activation
from orders.states import EventSource, OrderStatus
from provisioning import selectors as provisioning_selectors
from provisioning.forms import AssignCaseForm, case_assignable_users, person_label
from provisioning.models import ExceptionCase, FulfilmentTask, TaskAttempt
from provisioning.scheduler import TaskError, task_complete_by_hand
from provisioning.services import exception_case_assign, exception_case_retry

# What each worklist requires; the navigation shows a link only to the pages these allow.
WORKLIST_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "sales": ("orders.add_order",),
    # Activating by hand is what sets the provisioning team apart from the roles that only
    # look at attempts (support).
    "provisioning": ("orders.activate_manually", "provisioning.view_fulfilmenttask"),
    "lead": ("provisioning.view_exceptioncase", "provisioning.work_exceptioncase"),
    "billing": ("billing.view_billingaccount", "billing.work_billingaccount"),
    # Jeopardies across every order (portal.operations).
    "operations": ("orders.view_jeopardy", "orders.view_order"),
}

# How many of a worklist's orders in jeopardy lead its page (the jeopardies page has them all).
JEOPARDIES_ON_WORKLIST = 10

# A service refused, or lost a race to another person: the person reads why, never a 500.
REFUSALS: tuple[type[Exception], ...] = (OrderError, ConcurrentTransition)


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, OrderError):
        return exc.message
    return "Someone else changed this order at the same moment. Reload and try again."


def worklist_required(name: str) -> Any:
    """Signed in (else the sign-in page) and holding the worklist's permissions (else 403)."""
    perms = WORKLIST_PERMISSIONS[name]

    def decorate(view: Any) -> Any:
        return login_required(permission_required(perms, raise_exception=True)(view))

    return decorate


def _acting_user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here requires a signed-in user


def _after(request: HttpRequest, name: str) -> str | None:
    """The cursor of the page asked for in list ``name`` (a "next" link), if any."""
    return request.GET.get(name) or None


def _linked(request: HttpRequest, page: Worklist[Any], name: str) -> Worklist[Any]:
    """``page`` with the links to its next page and back to the first (the other lists' pages
    and filters kept), through the cursor parameter ``name``."""
    query = request.GET.copy()
    next_url = first_url = ""
    if page.next_cursor:
        query[name] = page.next_cursor
        next_url = f"?{query.urlencode()}"
    if request.GET.get(name):
        query.pop(name, None)
        first_url = f"?{query.urlencode()}" if query else request.path
    return replace(page, next_url=next_url, first_url=first_url)


# --- sales ---------------------------------------------------------------------------------
RECENT_ORDERS = 25


@worklist_required("sales")
@require_GET
def sales_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "portal/worklists/sales.html",
        {
            "recent": order_selectors.sales_orders_submitted_by(user, limit=RECENT_ORDERS),
            "needs_info": _linked(
                request,
                order_selectors.sales_orders_needing_information(
                    user, after=_after(request, "needs_after")
                ),
                "needs_after",
            ),
            "recent_limit": RECENT_ORDERS,
        },
    )


# --- provisioning --------------------------------------------------------------------------
class ConfirmActivationForm(forms.Form):
    reason = forms.CharField(
        label="What was done",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "A reason is required."},
        help_text="Recorded in the order's history under your name.",
    )


class TaskDoneForm(forms.Form):
    """A person did a manual task of the pool and records it (note mandatory)."""

    note = forms.CharField(
        label="What you did",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "A note is required: say what you did."},
        help_text="Recorded on the task and in the order's history under your name.",
    )
    network_reference = forms.CharField(
        label="Network reference",
        max_length=120,
        required=False,
        help_text="The port, address, serial or ticket it produced, if any.",
    )

    def add_service_errors(self, field_errors: dict[str, str]) -> None:
        """Show a service's refusal next to the field it concerns."""
        for name, message in field_errors.items():
            self.add_error(name if name in self.fields else None, message)


def task_key_label(key: str | None) -> str:
    """A task key ("2.allocate_address") in words: "Allocate static IPv4 address (item 2)"."""
    if not key:
        return ""
    item_id, _, task_type = key.partition(".")
    label = TaskType(task_type).label if task_type in TaskType.values else task_type
    return f"{label} (item {item_id})"


def _in_words(page: Worklist[Any]) -> Worklist[Any]:
    """Each activation's newest attempt (selector annotations) said in words."""
    for order in page.items:
        order.attempt_task_label = task_key_label(order.attempt_task)
        order.attempt_status_label = (
            TaskAttempt.Outcome(order.attempt_status).label.lower()
            if order.attempt_status in TaskAttempt.Outcome.values
            else order.attempt_status or ""
        )
    return page


def _provisioning_page(
    request: HttpRequest, *, done_form: TaskDoneForm | None = None, done_task_id: int | None = None
) -> HttpResponse:
    user = request.user
    tasks = _linked(
        request,
        provisioning_selectors.manual_pool_tasks(user, after=_after(request, "task_after")),
        "task_after",
    )
    for task in tasks.items:
        # The form a person just sent comes back on its own row, with its errors.
        task.done_form = done_form if task.pk == done_task_id else TaskDoneForm()
    if done_form is not None and done_task_id not in {task.pk for task in tasks.items}:
        for errors in done_form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return render(
        request,
        "portal/worklists/provisioning.html",
        {
            "manual_tasks": tasks,
            "manual_pool": _linked(
                request,
                provisioning_selectors.manual_pool_orders(
                    user, after=_after(request, "pool_after")
                ),
                "pool_after",
            ),
            "in_progress": _in_words(
                _linked(
                    request,
                    provisioning_selectors.activations_in_progress(
                        user, after=_after(request, "running_after")
                    ),
                    "running_after",
                )
            ),
            "retries": provisioning_selectors.retry_log(user),
            "confirm_form": ConfirmActivationForm(),
            "task_form": TaskDoneForm(),
            "escalations": escalations_to(user),
            # The worklist's own orders in jeopardy first, worst first.
            "jeopardies": jeopardies_open(
                user,
                limit=JEOPARDIES_ON_WORKLIST,
                statuses=(OrderStatus.AWAITING_MANUAL, OrderStatus.PROVISIONING),
            ),
        },
    )


@worklist_required("provisioning")
@require_GET
def provisioning_home(request: HttpRequest) -> HttpResponse:
    return _provisioning_page(request)


@worklist_required("provisioning")
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    """A person did a manual task from the pool: record it, and the order's plan goes on.
    Only the pool's (manual) tasks, on orders the person may see: any other is not found."""
    visible = restrict_by_order(FulfilmentTask.objects.filter(mode=TaskMode.MANUAL), request.user)
    task = get_object_or_404(visible.select_related("order"), pk=task_id)
    form = TaskDoneForm(request.POST)
    if not form.is_valid():
        return _provisioning_page(request, done_form=form, done_task_id=task.pk)
    label = task.get_task_type_display()
    try:
        task_complete_by_hand(
            task,
            actor=_acting_user(request),
            note=form.cleaned_data["note"],
            network_reference=form.cleaned_data["network_reference"],
        )
    except TaskError as exc:
        if exc.field_errors:
            form.add_service_errors(exc.field_errors)
            return _provisioning_page(request, done_form=form, done_task_id=task.pk)
        messages.error(request, f"Order {task.order.display_id}: {exc.message}")
    except REFUSALS as exc:
        messages.error(request, f"Order {task.order.display_id}: {refusal_message(exc)}")
    else:
        messages.success(
            request,
            f"Order {task.order.display_id}: {label.lower()} done under your name; "
            "its plan goes on.",
        )
    return redirect("portal:provisioning_home")


@worklist_required("provisioning")
@require_POST
def confirm_activation(request: HttpRequest, order_id: str) -> HttpResponse:
    """A person vouches that a whole order from the manual pool is live (an override of its
    plan's manual tasks, for a line set up outside them); billing then starts."""
    order = order_get_for_user(request.user, order_id)
    form = ConfirmActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Order {order.display_id}: {form.errors['reason'][0]}")
        return redirect("portal:provisioning_home")
    try:
        order_confirm_manual_activation(
            order,
            actor=_acting_user(request),
            reason=form.cleaned_data["reason"],
            source=EventSource.STAFF_PORTAL,
            expected_status=OrderStatus.AWAITING_MANUAL,
        )
    except REFUSALS as exc:
        messages.error(request, f"Order {order.display_id}: {refusal_message(exc)}")
    else:
        messages.success(
            request, f"Order {order.display_id} confirmed active; its billing starts now."
        )
    return redirect("portal:provisioning_home")


# --- provisioning lead ---------------------------------------------------------------------
class CaseFilterForm(forms.Form):
    """The lead's view of the queue: whose cases, how old. Unknown values mean 'any'."""

    owner = forms.ChoiceField(label="Owner", required=False)
    age = forms.ChoiceField(
        label="Age",
        required=False,
        choices=[
            ("", "Any age"),
            *(
                (key, label)
                for key, (label, _, _) in provisioning_selectors.CASE_AGE_BUCKETS.items()
            ),
        ],
    )

    def __init__(self, *args: Any, owners: Iterable[User] = (), **kwargs: Any) -> None:
        """``owners``: people holding cases now besides the provisioning teams (the superuser
        a case falls back to when no lead exists), so every owner can be picked."""
        super().__init__(*args, **kwargs)
        people = {person.pk: person for person in case_assignable_users()}
        for person in owners:
            people.setdefault(person.pk, person)
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", "Anyone"),
            ("mine", "Mine"),
            ("none", "Unassigned"),
            *((str(pk), person_label(person)) for pk, person in people.items()),
        ]

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {"owner": "", "age": ""}
        return {"owner": self.cleaned_data["owner"], "age": self.cleaned_data["age"]}


class CaseIdsField(forms.Field):
    """Case ids ticked on the page (``case`` repeated)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Tick at least one case."}

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids = []
        for raw in values:
            if not str(raw).isdigit():
                raise forms.ValidationError("Not a case number: %(value)s", params={"value": raw})
            ids.append(int(raw))
        return list(dict.fromkeys(ids))

    def validate(self, value: list[int]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class CaseSelectionForm(forms.Form):
    case = CaseIdsField()
    # The list's filters, to go back to the same view after acting.
    return_owner = forms.CharField(required=False)
    return_age = forms.CharField(required=False)

    def return_url(self) -> str:
        data = getattr(self, "cleaned_data", {})
        query = {
            "owner": data.get("return_owner", ""),
            "age": data.get("return_age", ""),
        }
        query = {key: value for key, value in query.items() if value}
        url = reverse("portal:lead_home")
        return f"{url}?{urlencode(query)}" if query else url


class AssignSelectedForm(CaseSelectionForm, AssignCaseForm):
    pass


@worklist_required("lead")
@require_GET
def lead_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    loads = provisioning_selectors.exception_case_load_by_owner(user)
    filter_form = CaseFilterForm(
        request.GET or None,
        owners=[load.owner for load in loads if load.owner is not None],
        auto_id="filter_%s",  # the assign form below has its own 'owner'
    )
    filters = filter_form.filters()
    return render(
        request,
        "portal/worklists/lead.html",
        {
            "filter_form": filter_form,
            "filters": filters,
            "cases": _linked(
                request,
                provisioning_selectors.exception_cases_active(
                    user,
                    owner=filters["owner"],
                    age=filters["age"],
                    after=_after(request, "cases_after"),
                ),
                "cases_after",
            ),
            "loads": loads,
            "age_buckets": [
                (key, label)
                for key, (label, _, _) in provisioning_selectors.CASE_AGE_BUCKETS.items()
            ],
            "assign_form": AssignCaseForm(),
            "escalations": escalations_to(user),
            "jeopardies": jeopardies_open(user, limit=JEOPARDIES_ON_WORKLIST, with_open_case=True),
        },
    )


def _cases_in_hand(request: HttpRequest, form: CaseSelectionForm) -> list[ExceptionCase]:
    """The ticked cases the person may see; a message for each one that is gone."""
    ids = form.cleaned_data["case"]
    found = provisioning_selectors.exception_cases_by_id(request.user, ids)
    for missing in (pk for pk in ids if pk not in found):
        messages.error(request, f"Case {missing}: no such case.")
    return [found[pk] for pk in ids if pk in found]


def _form_refused(request: HttpRequest, form: forms.Form) -> HttpResponseRedirect:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect(
        form.return_url() if isinstance(form, CaseSelectionForm) else "portal:lead_home"
    )


@worklist_required("lead")
@require_POST
def lead_assign(request: HttpRequest) -> HttpResponse:
    """Hand the ticked cases to one member of the provisioning teams."""
    form = AssignSelectedForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form)
    owner = form.cleaned_data["owner"]
    assigned = []
    for case in _cases_in_hand(request, form):
        try:
            exception_case_assign(
                case,
                owner=owner,
                acting_user=_acting_user(request),
                source=EventSource.STAFF_PORTAL,
            )
        except REFUSALS as exc:
            messages.error(request, f"Order {case.order.display_id}: {refusal_message(exc)}")
        else:
            assigned.append(case.order.display_id)
    if assigned:
        messages.success(request, f"Assigned to {person_label(owner)}: {', '.join(assigned)}.")
    return redirect(form.return_url())


@worklist_required("lead")
@require_POST
def lead_retry(request: HttpRequest) -> HttpResponse:
    """Retry activation for each ticked open case, and say how each one went."""
    form = CaseSelectionForm(request.POST)
    if not form.is_valid():
        return _form_refused(request, form)
    started = []
    for case in _cases_in_hand(request, form):
        try:
            exception_case_retry(
                case, acting_user=_acting_user(request), source=EventSource.STAFF_PORTAL
            )
        except REFUSALS as exc:
            messages.error(request, f"Order {case.order.display_id}: {refusal_message(exc)}")
        else:
            started.append(case)
    # Read back: with an eager or fast worker the retry may already have an outcome.
    now = provisioning_selectors.exception_cases_by_id(request.user, [c.pk for c in started])
    for case in started:
        after = now.get(case.pk, case)
        if after.state == ExceptionCase.State.RESOLVED:
            messages.success(
                request,
                f"Order {case.order.display_id}: the retry succeeded; case {case.pk} is resolved.",
            )
        elif after.state == ExceptionCase.State.OPEN:
            messages.error(
                request,
                f"Order {case.order.display_id}: the retry failed again ({after.reason_code}); "
                f"case {case.pk} is open.",
            )
        else:
            messages.success(
                request,
                f"Order {case.order.display_id}: retry started; case {case.pk} shows "
                "'retry in progress' until the attempt finishes.",
            )
    return redirect(form.return_url())


# --- billing -------------------------------------------------------------------------------
@worklist_required("billing")
@require_GET
def billing_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    return render(
        request,
        "portal/worklists/billing.html",
        {
            "today": today,
            "started_today": _linked(
                request,
                billing_accounts_started_on(user, day=today, after=_after(request, "today_after")),
                "today_after",
            ),
            "changed_today": _linked(
                request,
                billing_charges_changed_on(user, day=today, after=_after(request, "changed_after")),
                "changed_after",
            ),
            "not_started": _linked(
                request,
                activated_orders_without_billing(user, after=_after(request, "waiting_after")),
                "waiting_after",
            ),
            "mismatches": _linked(
                request,
                billing_mismatches(user, after=_after(request, "mismatch_after")),
                "mismatch_after",
            ),
        },
    )
