"""The installed base against RADIUS: what FreeRADIUS would do with each line's subscriber.

Run only when the subscribers are in RADIUS (the configured adapter is the RadiusAdapter, or a
RoutedNetworkAdapter sending ``create_subscriber`` to it); with the simulator these checks
look at nothing and cost nothing.

- every active line has its subscriber, able to sign in, not barred, in its plan's group;
- every suspended line's subscriber is barred (per RADIUS_SUSPEND_MODE), every ceased line's
  subscriber cannot sign in;
- no open session (radacct without a stop time) of a ceased line, or of a suspended one where
  suspension rejects (in the walled garden a session may stay: it is fenced in by CoA).

Lines are read in chunks by status and creation (product_status_idx), as the other product
checks do; each chunk is compared with RADIUS in one batch (store.subscriber_states: three
queries by username; store.open_sessions: one). A RADIUS database that does not answer raises,
so the run marks the check failed and leaves its open mismatches as they were. The grace
period and lines with a change in flight are left alone, like every check.

The helpers of reconciliation.checks are imported in the functions: checks.py lists these
checks in CHECKS, so this module must load without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from django.conf import settings
from django.db.models import QuerySet

from inventory.models import Product, ProductStatus
from provisioning.adapters.radius import RadiusAdapter, store
from provisioning.adapters.radius import groups as radius_groups
from provisioning.adapters.routed import RoutedNetworkAdapter
from reconciliation.models import MismatchKind

if TYPE_CHECKING:
    from provisioning.adapters import NetworkAdapter
    from reconciliation.checks import Check, CheckContext, Finding


def radius_in_use(adapter: NetworkAdapter) -> bool:
    """Whether the subscribers are in RADIUS with this adapter."""
    if isinstance(adapter, RoutedNetworkAdapter):
        adapter = adapter.adapter_for("create_subscriber")
    return isinstance(adapter, RadiusAdapter)


def subscriber_of(product: Product) -> str:
    """The line's subscriber: the name its delivering order recorded (the same rule as
    provisioning.adapters.credentials for a line whose record predates it)."""
    return str((product.network_identifiers or {}).get("subscriber") or "") or (
        f"{store.USERNAME_PREFIX}{product.order_id.lower()}"
    )


def expected_group(product: Product) -> str:
    """The RADIUS group of the line's current plan (a plan change moves the product's
    offering)."""
    return radius_groups.plan_group(product.offering.code)


@dataclass(frozen=True)
class LineInRadius:
    """One settled line and what RADIUS holds of its subscriber."""

    product: Product
    username: str
    state: store.SubscriberState
    sessions: tuple[store.Session, ...] = ()


def lines_in_radius(
    ctx: CheckContext, statuses: tuple[str, ...], *, sessions: bool = False
) -> Iterator[list[LineInRadius]]:
    """Settled lines of ``statuses`` with their subscriber's state (and open sessions), a
    chunk at a time: one query for the chunk, one for what is in flight, one RADIUS batch."""
    from reconciliation.checks import chunks

    if not radius_in_use(ctx.adapter):
        return
    with closing(store.connect()) as conn:
        for status in statuses:
            for chunk in chunks(_lines_base().filter(status=status), size=ctx.chunk):
                lines = _in_radius(ctx, conn, chunk, sessions=sessions)
                if lines:
                    yield lines


def line_now(ctx: CheckContext, product_ref: uuid.UUID) -> tuple[LineInRadius | None, bool]:
    """One line as the checks would see it now (with its sessions), and whether it is settled
    (not changed within the grace period, no change in flight): ``(None, ...)`` if it is gone,
    not a line, or RADIUS is not in use."""
    from reconciliation.checks import _settled_products

    product = _lines_base().filter(pk=product_ref).first()
    if product is None or not radius_in_use(ctx.adapter):
        return None, False
    settled = bool(_settled_products(ctx, [product]))
    with closing(store.connect()) as conn:
        [line] = _in_radius(ctx, conn, [product], sessions=True, settled_only=False)
    return line, settled


def _lines_base() -> QuerySet[Product]:
    # A line is a product without a parent (add-ons hang off one).
    return (
        Product.objects.filter(parent__isnull=True)
        .select_related("order", "order_item", "offering")
        .order_by("created_at", "pk")
    )


def _in_radius(
    ctx: CheckContext,
    conn: psycopg.Connection,
    chunk: list[Product],
    *,
    sessions: bool,
    settled_only: bool = True,
) -> list[LineInRadius]:
    from reconciliation.checks import _settled_products

    products = _settled_products(ctx, chunk) if settled_only else chunk
    if not products:
        return []
    names = {product.pk: subscriber_of(product) for product in products}
    states = store.subscriber_states(conn, names.values())
    open_now: dict[str, list[store.Session]] = {}
    if sessions:
        for session in store.open_sessions(conn, names.values()):
            open_now.setdefault(session.username, []).append(session)
    conn.commit()  # end the read: no transaction stays open between chunks
    return [
        LineInRadius(
            product=product,
            username=names[product.pk],
            state=states[names[product.pk]],
            sessions=tuple(open_now.get(names[product.pk], ())),
        )
        for product in products
    ]


def _finding(kind: MismatchKind, line: LineInRadius, detail: str) -> Finding:
    from reconciliation.checks import Finding

    return Finding(
        kind=kind,
        subject=str(line.product.pk),
        order_id=line.product.order_id,
        product_ref=line.product.pk,
        detail=detail,
    )


def _name(line: LineInRadius) -> str:
    product = line.product
    status = product.get_status_display().lower()
    return f"{product.name} ({status}, order {product.order.display_id})"


# --- findings about one line (the checks and the repairs' second look share them) -----------
def missing(line: LineInRadius) -> Finding | None:
    if line.product.status != ProductStatus.ACTIVE or line.state.exists:
        return None
    from reconciliation.checks import _when

    return _finding(
        MismatchKind.RADIUS_SUBSCRIBER_MISSING,
        line,
        f"Subscriber {line.username} of {_name(line)}, active since "
        f"{_when(line.product.start_date)}, is missing from RADIUS: it cannot sign in.",
    )


def wrong_group(line: LineInRadius) -> Finding | None:
    if line.product.status != ProductStatus.ACTIVE or not line.state.exists:
        return None
    if line.product.offering.download_mbps is None:
        return None  # a plan without a speed has no group (the adapter puts it in none)
    expected = expected_group(line.product)
    if line.state.plan_group == expected:
        return None
    held = line.state.plan_group or "no plan group"
    return _finding(
        MismatchKind.RADIUS_WRONG_PLAN_GROUP,
        line,
        f"Subscriber {line.username} of {_name(line)} is in {held} in RADIUS, not in "
        f"{expected} of plan {line.product.offering.code}: its speed is not the plan's.",
    )


def _bar_wanted(state: store.SubscriberState) -> bool:
    """Whether a suspended subscriber is barred as the suspension mode bars it."""
    if settings.RADIUS_SUSPEND_MODE == "walled-garden":
        return state.barred
    return not state.can_sign_in


def barred_state(line: LineInRadius) -> Finding | None:
    state, status = line.state, line.product.status
    if status == ProductStatus.ACTIVE and state.exists and state.barred:
        how = "rejected" if state.rejected else "in the walled garden"
        said = f"is active, but its subscriber {line.username} is barred ({how}) in RADIUS"
    elif status == ProductStatus.SUSPENDED and state.exists and not _bar_wanted(state):
        mode = settings.RADIUS_SUSPEND_MODE
        said = (
            f"is suspended, but its subscriber {line.username} is not barred in RADIUS "
            f"({mode} mode): it can sign in"
            + ("" if state.walled or state.rejected else " with full access")
        )
    elif status == ProductStatus.TERMINATED and state.can_sign_in:
        from reconciliation.checks import _when

        said = (
            f"was ceased {_when(line.product.termination_date)}, but its subscriber "
            f"{line.username} can still sign in to RADIUS"
        )
    else:
        return None
    return _finding(MismatchKind.RADIUS_BARRED_STATE_DIFFERS, line, f"{_name(line)} {said}.")


def session_inactive(line: LineInRadius) -> Finding | None:
    status = line.product.status
    if not line.sessions or status == ProductStatus.ACTIVE:
        return None
    if status == ProductStatus.SUSPENDED and settings.RADIUS_SUSPEND_MODE == "walled-garden":
        return None
    from reconciliation.checks import _when

    listed = ", ".join(
        f"{s.session_id} at NAS {s.nas_ip} since {_when(s.started)}" for s in line.sessions
    )
    return _finding(
        MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER,
        line,
        f"{_name(line)}: subscriber {line.username} still has {len(line.sessions)} open "
        f"session(s) in radacct ({listed}).",
    )


# Each kind: the lines it reads, whether it needs their sessions, and what it finds in one.
@dataclass(frozen=True)
class RadiusCheck:
    statuses: tuple[str, ...]
    find: Callable[[LineInRadius], Finding | None]
    sessions: bool = False

    def __call__(self, ctx: CheckContext) -> Iterator[Finding]:
        for chunk in lines_in_radius(ctx, self.statuses, sessions=self.sessions):
            for line in chunk:
                finding = self.find(line)
                if finding is not None:
                    yield finding


RADIUS_LINE_CHECKS: dict[MismatchKind, RadiusCheck] = {
    MismatchKind.RADIUS_SUBSCRIBER_MISSING: RadiusCheck((ProductStatus.ACTIVE,), missing),
    MismatchKind.RADIUS_WRONG_PLAN_GROUP: RadiusCheck((ProductStatus.ACTIVE,), wrong_group),
    MismatchKind.RADIUS_BARRED_STATE_DIFFERS: RadiusCheck(
        (ProductStatus.ACTIVE, ProductStatus.SUSPENDED, ProductStatus.TERMINATED), barred_state
    ),
    MismatchKind.RADIUS_SESSION_FOR_INACTIVE_SUBSCRIBER: RadiusCheck(
        (ProductStatus.SUSPENDED, ProductStatus.TERMINATED), session_inactive, sessions=True
    ),
}
# What reconciliation.checks.CHECKS lists.
RADIUS_CHECKS: dict[MismatchKind, Check] = dict(RADIUS_LINE_CHECKS)
