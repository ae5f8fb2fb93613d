"""Customers, the Order, its items and its history."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from orders import order_id
from orders.models.catalog import Plan, ServiceArea
from orders.states import (
    CANCELLABLE_STATES,
    OPEN_STATES,
    EventSource,
    ItemAction,
    ItemChange,
    ItemState,
    OrderStatus,
    change_title,
)

# The moves a privileged person may force (orders.overrides.order_force_status), by source state.
# They correct an order the normal road cannot: send it to the manual pool, release it now,
# re-check it from the start, activate or cancel it by decision. What is left out is left out on
# purpose: nothing leaves 'provisioning' (its tasks are in flight; a task whose worker died is
# recovered by the outbox), nothing leaves 'activated' (billing is on its way; waive it instead)
# and closed orders stay closed (take a new order). Nothing is forced into 'completed' or
# 'rejected': only billing completes an order, only eligibility rejects one. Forcing 'activated'
# is an activation like any other (billing starts from it; the plan's open tasks are recorded as
# done by that person); forcing 'provisioning' sends the plan's failed and manual tasks to the
# network; forcing 'awaiting_manual' hands the plan to people; forcing 'submitted' runs the
# eligibility checks again.
FORCED_MOVES: dict[str, tuple[str, ...]] = {
    OrderStatus.SUBMITTED: (OrderStatus.AWAITING_MANUAL, OrderStatus.CANCELLED),
    OrderStatus.SCHEDULED: (OrderStatus.SUBMITTED, OrderStatus.CANCELLED),
    OrderStatus.AWAITING_MANUAL: (
        OrderStatus.SUBMITTED,
        OrderStatus.PROVISIONING,
        OrderStatus.ACTIVATED,
        OrderStatus.CANCELLED,
    ),
    OrderStatus.EXCEPTION: (
        OrderStatus.PROVISIONING,
        OrderStatus.ACTIVATED,
        OrderStatus.CANCELLED,
    ),
}
FORCED_TARGETS = tuple(sorted({target for targets in FORCED_MOVES.values() for target in targets}))


class Customer(models.Model):
    """A residential customer: found again by e-mail address, never typed twice. A phone
    number may be a household's, so it is only ever a suggestion (orders.services)."""

    name = models.CharField(max_length=120)
    email = models.EmailField()
    phone = models.CharField(max_length=20, help_text="Digits with optional leading +.")
    address_line1 = models.CharField("service address", max_length=120)
    address_line2 = models.CharField("address line 2", max_length=120, blank=True)
    city = models.CharField(max_length=60)
    postcode = models.CharField(max_length=10)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The customer's reference in the legacy system they were imported from (imports), so that
    # importing the same file again finds them; null for customers taken on here (null, not
    # '': the partial unique index on IS NOT NULL then serves every lookup by reference).
    legacy_ref = models.CharField(max_length=60, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="customer_email_unique_ci",
                violation_error_message="A customer with this e-mail address already exists.",
            ),
            models.UniqueConstraint(
                fields=["legacy_ref"],
                condition=models.Q(legacy_ref__isnull=False),
                name="customer_legacy_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["phone"]),
            # The admin's list, by name. Support's search by part of a name uses a trigram index
            # on UPPER(name) that only PostgreSQL has (migration 0009).
            models.Index(fields=["name", "id"], name="customer_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class OrderGroup(models.Model):
    """Orders taken together for one customer request, whose actions are carried out together
    (TM Forum application 5.3.5: "grouping of order actions so they can be executed
    synchronously"). A move home (orders.moves): a new line at the new address, and the cease
    of the old line, which waits for the new one to go live (``Order.waits_for``)."""

    class Kind(models.TextChoices):
        MOVE = "move", "Move home"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="order_groups")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(blank=True, help_text="The customer's request, in words.")
    # The same request again (a double click, a client's retry) finds this group.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class Order(ConcurrentTransitionMixin, models.Model):
    """One residential internet order under its shared order ID, from intake to a started bill.

    ``status`` moves only through the transitions below, and only services call them
    (orders/services.py); each call writes an OrderEvent in the same transaction.
    """

    id = models.CharField(
        "order ID",
        primary_key=True,
        max_length=order_id.LENGTH,
        default=order_id.generate,
        editable=False,
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="orders")
    status = FSMField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.SUBMITTED, protected=True
    )
    # Service address as it was ordered (the customer's record may change later).
    service_address_line1 = models.CharField(max_length=120)
    service_address_line2 = models.CharField(max_length=120, blank=True)
    service_city = models.CharField(max_length=60)
    service_postcode = models.CharField(max_length=10, help_text="Normalized, no spaces.")
    service_area = models.ForeignKey(ServiceArea, on_delete=models.PROTECT, related_name="orders")
    # The line's plan is ``plan`` (the internet access item's offering); the order's items
    # (OrderItem) hold every offering and its price. Totals locked at order time (DESIGN
    # invariant 6): per month, and due now (one-time charges on the first bill).
    monthly_price = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="Per month, every item, as ordered."
    )
    one_time_price = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="One-time charges, every item, as ordered.",
    )
    currency = models.CharField(max_length=3)
    requested_activation_date = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=20, choices=EventSource.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submitted_orders",
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    external_id = models.CharField(max_length=100, blank=True)
    # The order's reference in the legacy system it was imported from (imports); null for
    # orders taken here (null, as Customer.legacy_ref). Importing the same file again finds the
    # order by it and changes nothing.
    legacy_ref = models.CharField(max_length=60, null=True, blank=True)  # noqa: DJ001
    submitted_at = models.DateTimeField(default=timezone.now)
    # When the order entered its current status: the time of its newest status event, kept in
    # step by a receiver in orders.events for every status event written, so that worklists
    # sort and page on an index instead of a subquery per candidate row.
    status_changed_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Rejected or cancelled.")
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency (DESIGN invariant 9): +1 on every status change and every edit. A
    # person's form carries the version they saw; a service refuses if it has moved since.
    version = models.PositiveIntegerField(default=1, editable=False)

    # The live product the order is about (add-ons for it, a plan change, a suspension, a cease),
    # kept as a value (orders sits below the inventory); None for a new line.
    product_ref = models.UUIDField(null=True, blank=True)
    # One customer request taken as several orders (a move home: orders.moves), and the order
    # of the group this one is held for: it starts only when that one's line is live.
    group = models.ForeignKey(
        OrderGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    waits_for = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waited_by",
        help_text="Held (scheduled) until this order's line is live.",
    )

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            # DESIGN invariant 4: the same customer, address and plan cannot be open twice.
            models.UniqueConstraint(
                fields=["customer", "plan", "service_postcode", "service_address_line1"],
                condition=models.Q(status__in=sorted(OPEN_STATES), product_ref__isnull=True),
                name="one_open_order_per_customer_address_plan",
            ),
            # One change in flight per live product: a second waits until the first is done.
            models.UniqueConstraint(
                fields=["product_ref"],
                condition=models.Q(status__in=sorted(OPEN_STATES), product_ref__isnull=False),
                name="one_open_order_per_product",
            ),
            models.UniqueConstraint(
                fields=["legacy_ref"],
                condition=models.Q(legacy_ref__isnull=False),
                name="order_legacy_ref_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["external_id"]),
            # Newest first everywhere (TMF622 list, admin, search results): the sort key and
            # its tie-break, so a page is an index range, not a sort of the table.
            models.Index(fields=["submitted_at", "id"], name="order_submitted_idx"),
            # Worklists by status, longest in it first (manual pool, activations in progress).
            models.Index(
                fields=["status", "status_changed_at", "id"], name="order_status_since_idx"
            ),
            # A sales rep's own orders, newest first.
            models.Index(
                fields=["submitted_by", "submitted_at", "id"], name="order_submitted_by_idx"
            ),
            # ... and those of them in a status that may need the rep (rejected, held).
            models.Index(
                fields=["submitted_by", "status", "status_changed_at"],
                name="order_submitted_by_status_idx",
            ),
            # Live orders waiting for their bill, longest waiting first (billing's worklist).
            models.Index(
                fields=["activated_at", "id"],
                condition=models.Q(status=OrderStatus.ACTIVATED),
                name="order_activated_unbilled_idx",
            ),
            # New lines activated in the cycle-time window (orders.cycle_times), newest last.
            models.Index(
                fields=["activated_at"],
                condition=models.Q(activated_at__isnull=False, product_ref__isnull=True),
                name="order_line_activated_idx",
            ),
        ]
        permissions = [
            ("override_order", "Can override an order's state with a reason"),
            ("activate_manually", "Can confirm that a manually provisioned line is live"),
            ("cancel_order", "Can cancel an order on the customer's behalf"),
        ]

    def __str__(self) -> str:
        return self.display_id

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        """Read the order again, status included, safely while other threads do the same.

        django-fsm lifts the status field's protection for the whole class while it refreshes
        and puts it back after; with two requests refreshing orders at once (the ASGI server
        runs each in a thread of its own) one puts it back while the other is still setting
        the status, which then fails. The field refuses a new value only where the instance
        holds one already: forgetting it first lets the refresh set it whatever the flag is
        (django-fsm reads every state field on a refresh, whatever ``fields`` says).
        """
        self.__dict__.pop("status", None)
        super().refresh_from_db(*args, **kwargs)

    @property
    def display_id(self) -> str:
        return order_id.display(self.id)

    @property
    def service_address(self) -> str:
        parts = [self.service_address_line1, self.service_address_line2, self.service_city]
        return ", ".join(p for p in parts if p) + f" {self.service_postcode_display}"

    @property
    def service_postcode_display(self) -> str:
        pc = self.service_postcode
        return f"{pc[:-3]} {pc[-3:]}" if len(pc) > 4 else pc

    # --- transitions: called only by orders.services and orders.overrides -------------------
    @transition(field=status, source=OrderStatus.SUBMITTED, target=OrderStatus.SCHEDULED)
    def schedule(self) -> None:
        """Future-dated: held until its requested activation date."""

    @transition(field=status, source=OrderStatus.SCHEDULED, target=OrderStatus.SUBMITTED)
    def release(self) -> None:
        """The requested activation date has come."""

    @transition(field=status, source=OrderStatus.SUBMITTED, target=OrderStatus.REJECTED)
    def reject(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=status, source=OrderStatus.SUBMITTED, target=OrderStatus.AWAITING_MANUAL)
    def route_to_manual(self) -> None:
        """Not eligible for automation: into the manual provisioning pool."""

    @transition(
        field=status,
        source=[OrderStatus.SUBMITTED, OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION],
        target=OrderStatus.PROVISIONING,
    )
    def start_provisioning(self) -> None:
        pass

    @transition(field=status, source=OrderStatus.PROVISIONING, target=OrderStatus.EXCEPTION)
    def hold(self) -> None:
        """Activation failed; an exception case carries it from here."""

    @transition(field=status, source=OrderStatus.PROVISIONING, target=OrderStatus.ACTIVATED)
    def activate(self) -> None:
        self.activated_at = timezone.now()

    @transition(
        field=status,
        source=[OrderStatus.AWAITING_MANUAL, OrderStatus.EXCEPTION],
        target=OrderStatus.ACTIVATED,
    )
    def confirm_manual_activation(self) -> None:
        """A person activated the line outside the automation and vouches for it."""
        self.activated_at = timezone.now()

    @transition(
        field=status,
        source=OrderStatus.ACTIVATED,
        target=RETURN_VALUE(OrderStatus.COMPLETED, OrderStatus.PARTIAL),
    )
    def complete(self, partial: bool = False) -> str:
        """Billing started for what was delivered. ``partial``: some items were not (cancelled
        or failed), and the order closes as partly completed."""
        self.completed_at = timezone.now()
        return OrderStatus.PARTIAL if partial else OrderStatus.COMPLETED

    @transition(field=status, source=list(CANCELLABLE_STATES), target=OrderStatus.CANCELLED)
    def cancel(self) -> None:
        """Cancelled at once: nothing was done on the network (orders.cancellation)."""
        self.closed_at = timezone.now()

    @transition(field=status, source=list(CANCELLABLE_STATES), target=OrderStatus.CANCELLING)
    def cancel_start(self) -> None:
        """Cancelled, but what the plan did on the network is being undone first."""

    @transition(field=status, source=OrderStatus.CANCELLING, target=OrderStatus.CANCELLED)
    def cancel_finish(self) -> None:
        """Every undo is done."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=OrderStatus.SUBMITTED,
        target=RETURN_VALUE(OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    )
    def close_as_imported(
        self,
        to_status: str,
        *,
        activated_at: datetime.datetime | None = None,
        closed_at: datetime.datetime | None = None,
    ) -> str:
        """An order brought in from the legacy system (imports) takes the state it had there,
        with its dates: a live service or a completed order completes as of its activation, a
        cancelled order closes as of its cancellation. Nothing runs: no provisioning, no bill."""
        if to_status == OrderStatus.COMPLETED:
            if activated_at is None:
                raise ValueError("an imported completed order needs its activation date")
            self.activated_at = activated_at
            self.completed_at = activated_at
        elif to_status == OrderStatus.CANCELLED:
            if closed_at is None:
                raise ValueError("an imported cancelled order needs its cancellation date")
            self.closed_at = closed_at
        else:
            raise ValueError(f"an imported order cannot be {to_status}")
        return to_status

    @transition(field=status, source=list(FORCED_MOVES), target=RETURN_VALUE(*FORCED_TARGETS))
    def force(self, to_status: str) -> str:
        """A privileged correction (orders.overrides.order_force_status): one of FORCED_MOVES."""
        if to_status not in FORCED_MOVES.get(self.status, ()):
            raise ValueError(f"{self.status} cannot be forced to {to_status}")
        if to_status == OrderStatus.ACTIVATED:
            self.activated_at = timezone.now()
        elif to_status == OrderStatus.CANCELLED:
            self.closed_at = timezone.now()
        return to_status

    def get_additional_data(self) -> dict[str, str] | None:
        """What django-auditlog stores beside the field changes: the override and its reason,
        when a person overrode the order (set by orders.overrides for that one save)."""
        return getattr(self, "_audit_note", None)

    @property
    def activation_date(self) -> datetime.date | None:
        if self.activated_at is None:
            return None
        return timezone.localdate(self.activated_at)


class OrderItem(models.Model):
    """One line of an order: an offering, what to do with it, its price as ordered, its own
    state, and the item it relies on (an add-on's internet access item).

    ``item_id`` is the item's id within its order (TMF622 productOrderItem.id: the client's, or
    "1", "2", ... in order). The state moves with its fulfilment tasks (provisioning.scheduler),
    each change an ``item_state_changed`` event of the order. ``network_identifiers`` are what
    its tasks recorded (port, subscriber, address, CPE serial): the installed base reads them.

    An item with action ``noChange`` is the customer's live line that the order's add-ons go on:
    ``product_ref`` is its product in the installed base (TMF622 productOrderItem.product.id),
    it is completed from the start with the line's identifiers, and it is neither planned,
    priced nor billed again (``delivers`` is False).
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField(default=1)
    offering = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="order_items")
    action = models.CharField(max_length=10, choices=ItemAction.choices, default=ItemAction.ADD)
    quantity = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="add_ons",
        help_text="The item this one relies on (TMF622 productOrderItemRelationship reliesOn).",
    )
    recurring_price = models.DecimalField(max_digits=8, decimal_places=2)
    one_time_price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=12, choices=ItemState.choices, default=ItemState.PENDING)
    state_changed_at = models.DateTimeField(default=timezone.now)
    network_identifiers = models.JSONField(default=dict, blank=True)
    # This one item's own characteristic values (the offering's are on the offering): what only
    # the item has, such as the router's ``serialNumber``, entered by staff before dispatch.
    characteristic_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Values of this item's own characteristics (a router's serialNumber).",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    # An id in the installed base (inventory.Product), kept as a value: orders sits below the
    # inventory and reads it only through orders.installed_base.
    product_ref = models.UUIDField(
        null=True,
        blank=True,
        help_text="The live product this item is about (TMF622 productOrderItem.product.id).",
    )
    change = models.CharField(
        max_length=10,
        choices=ItemChange.choices,
        blank=True,
        help_text="What a modify item changes on its product.",
    )
    from_offering = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A plan change: the offering the product had before.",
    )

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item_id"], name="order_item_id_unique"),
        ]
        indexes = [
            # The orders about a live product (a line's add-on orders), for its page and checks.
            models.Index(
                fields=["product_ref"],
                condition=models.Q(product_ref__isnull=False),
                name="order_item_product_ref_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} item {self.item_id}: {self.offering.name}"

    @property
    def customer_label(self) -> str:
        return self.offering.specification.customer_label

    @property
    def change_title(self) -> str:
        """Staff words for a change to a live product ("Speed change to Fibre 900", "Cease
        of the Fibre 500 line"); '' for an item that adds a product or names the line."""
        return change_title(
            self.action,
            self.change,
            self.offering.name,
            add_on=self.parent_id is not None,
            customer=False,
        )

    @property
    def customer_change_title(self) -> str:
        return change_title(
            self.action, self.change, self.offering.name, add_on=self.parent_id is not None
        )

    @property
    def delivers(self) -> bool:
        """This order delivers the item (and bills it); False for the live line it names."""
        return self.action != ItemAction.NO_CHANGE

    @property
    def plan_name(self) -> str:
        """Which of its specification's plans the item follows: '' for the fulfilment plan (a
        new product), the change plan's name for a change to a live one, None-like for none."""
        if self.action == ItemAction.MODIFY:
            return self.change
        if self.action == ItemAction.DELETE:
            return ItemAction.DELETE
        return ""

    @property
    def plan(self) -> list[dict[str, object]]:
        spec = self.offering.specification
        if self.action == ItemAction.NO_CHANGE:
            return []
        if self.plan_name:
            return list((spec.change_plans or {}).get(self.plan_name, []))
        return list(spec.fulfilment_plan)


class OrderEvent(models.Model):
    """Status history and the order's other notable events (DESIGN invariant 2).

    A status change writes one row with ``from_status``/``to_status`` in the same transaction as
    the change. The same row is what the event hub publishes.
    """

    class Kind(models.TextChoices):
        STATUS_CHANGED = "status_changed", "Status changed"
        ACTIVATION_ATTEMPT = "activation_attempt", "Activation attempt"
        ITEM_STATE_CHANGED = "item_state_changed", "Item state changed"
        TASK_DONE = "task_done", "Fulfilment task done"
        TASK_FAILED = "task_failed", "Fulfilment task failed"
        TASK_DONE_BY_HAND = "task_done_by_hand", "Fulfilment task done by hand"
        EXCEPTION_OPENED = "exception_opened", "Exception case opened"
        EXCEPTION_ASSIGNED = "exception_assigned", "Exception case assigned"
        EXCEPTION_RESOLVED = "exception_resolved", "Exception case resolved"
        BILLING_STARTED = "billing_started", "Billing started"
        BILLING_WAIVED = "billing_waived", "Billing waived"
        ORDER_EDITED = "order_edited", "Order edited"
        CUSTOMER_CONTACT = "customer_contact", "Customer contact"
        CANCELLATION_SCHEDULED = "cancel_scheduled", "Cancellation scheduled"
        CANCELLATION_WITHDRAWN = "cancel_withdrawn", "Scheduled cancellation withdrawn"
        CANCELLATION_REFUSED = "cancel_refused", "Scheduled cancellation refused"
        NOTE = "note", "Note"
        # A milestone in jeopardy: raised, raised to a higher level, cleared (orders.jeopardy).
        JEOPARDY = "jeopardy", "Jeopardy"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=20, choices=EventSource.choices)
    reason = models.TextField(blank=True, help_text="Why, in words; internal.")
    reason_code = models.CharField(
        max_length=40, blank=True, help_text="Internal; never shown to customers."
    )
    customer_message = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self) -> str:
        if self.kind == self.Kind.STATUS_CHANGED:
            return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
        return f"{self.order_id}: {self.get_kind_display()}"

    @property
    def is_status_change(self) -> bool:
        return self.kind == self.Kind.STATUS_CHANGED
