"""The exception case of a router that could not be registered with the ACS, in the admin: the
person working it enters the router's serial number, which is saved on the router item and the
registration retried (provisioning.cpe). Mixed into provisioning.admin.ExceptionCaseAdmin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import path

from orders.admin_helpers import SERVICE_REFUSALS
from orders.router_serials import router_serial
from provisioning.cpe import case_needs_router_serial, exception_case_router_serial_enter
from provisioning.models import ExceptionCase


class RouterSerialForm(forms.Form):
    serial = forms.CharField(
        label="Router serial number",
        max_length=64,
        error_messages={"required": "Enter the serial number from the router's label."},
        help_text="As printed on the label under the router sent to the customer. It is saved "
        "on the order's router item and the router's registration is tried again.",
    )

    def add_service_errors(self, field_errors: dict[str, str]) -> None:
        for name, message in field_errors.items():
            self.add_error(name if name in self.fields else None, message)


class RouterSerialCaseMixin:
    """Adds ``<case>/work/router-serial/`` and what the case page needs to show its form. Relies
    on ExceptionCaseAdmin's ``_case_to_work``, ``_case_page``, ``_back_to`` and ``_refused``."""

    def router_serial_urls(self, work: Any, info: str) -> list[Any]:
        return [
            path(
                "<path:object_id>/work/router-serial/",
                work(self.router_serial_view),
                name=f"{info}_router_serial",
            )
        ]

    def router_serial_context(self, case: ExceptionCase, *, can_work: bool) -> dict[str, Any]:
        shown = (
            can_work and case.state == ExceptionCase.State.OPEN and case_needs_router_serial(case)
        )
        known = router_serial(case.task.item) if shown and case.task is not None else ""
        return {
            "router_serial": shown,
            "router_serial_form": RouterSerialForm(initial={"serial": known}),
        }

    def router_serial_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        admin: Any = self
        case = admin._case_to_work(request, object_id)
        form = RouterSerialForm(request.POST)
        if form.is_valid():
            try:
                exception_case_router_serial_enter(
                    case,
                    serial=form.cleaned_data["serial"],
                    acting_user=request.user,  # type: ignore[arg-type]
                )
            except SERVICE_REFUSALS as exc:
                field_errors = getattr(exc, "field_errors", None)
                if not field_errors:
                    admin._refused(request, case, exc)
                    return admin._back_to(case)  # type: ignore[no-any-return]
                form.add_service_errors(field_errors)
            else:
                admin.message_user(
                    request,
                    f"Order {case.order.display_id}: router serial {form.cleaned_data['serial']} "
                    f"saved; case {case.pk} is being retried.",
                    messages.SUCCESS,
                )
                return admin._back_to(case)  # type: ignore[no-any-return]
        return admin._case_page(  # type: ignore[no-any-return]
            request,
            [case],
            title="Enter the router's serial number",
            form=form,
            submit_label="Save and retry",
            form_url=request.path,
        )
