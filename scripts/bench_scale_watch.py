"""The watch over `make bench-scale`'s orders (scripts.bench_scale_data): each order's milestones
(orders.milestones plans them at submission and meets them as the order moves), the jeopardies
and escalations the scan would have left (orders.jeopardy: open on the open orders past their
milestones' time, cleared on those cancelled late), the jeopardy events on the timeline, the
customer notices (notices.receivers) of the recent orders, the contact tasks a late order opens
(support.contact_tasks) and a few scheduled cancellations.

Rows are what the services write, computed for ``now``: a milestone is met when the status that
meets it was entered, dropped when the order was cancelled or rejected; a milestone still to
reach has a jeopardy at the level its share of allowed time reaches (raised at the at-risk
threshold, moved at each next), and each level the order reached was escalated once per person
(the case owner or the lead at risk, the lead when late, the operations managers when critical).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from scripts.bench_scale_shape import CHAINS, Copier

OPEN_DELIVERED = ("awaiting_manual", "exception", "provisioning", "activated")
NOTICE_WINDOW = datetime.timedelta(days=180)  # notices began this long ago
CONTACT_OPEN_WINDOW = datetime.timedelta(days=60)  # older late orders' contacts are done
ACK_AFTER = datetime.timedelta(days=14)  # escalations older than this were acknowledged

MILESTONE_COLUMNS = [
    "id", "order_id", "item_id", "kind", "anchor_at", "due_at", "met_at", "dropped_at", "target",
]  # fmt: skip
JEOPARDY_COLUMNS = [
    "id", "order_id", "milestone_id", "level", "rank", "share", "raised_at", "level_at",
    "expected_at", "cleared_at", "cleared_because",
]  # fmt: skip
ESCALATION_COLUMNS = [
    "jeopardy_id", "order_id", "level", "to_id", "because", "created_at", "acknowledged_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "order_id", "kind", "from_status", "to_status", "actor_id", "source", "reason",
    "reason_code", "customer_message", "data", "created_at",
]  # fmt: skip
NOTICE_COLUMNS = [
    "order_id", "kind", "key", "channel", "\"to\"", "subject", "body", "created_at", "sent_at",
]  # fmt: skip
CONTACT_COLUMNS = [
    "order_id", "reason", "detail", "created_at", "taken_by_id", "taken_at", "outcome", "note",
    "done_at",
]  # fmt: skip
SCHEDULED_COLUMNS = [
    "order_id", "due_at", "reason", "channel", "state", "outcome", "created_at", "settled_at",
    "requested_by_id", "settled_by_id",
]  # fmt: skip


@dataclass
class _Milestone:
    id: int
    kind: str
    item: int | None
    name: str
    anchor: datetime.datetime
    due: datetime.datetime
    met: datetime.datetime | None
    dropped: datetime.datetime | None
    target: str


@dataclass
class _Jeopardy:
    id: int
    milestone: _Milestone
    levels: list[tuple[str, int, datetime.datetime]]  # (level, share, reached at), in order
    expected: datetime.datetime | None
    cleared: datetime.datetime | None


@dataclass
class People:
    lead: int
    support: int
    managers: list[int]
    case_owner: dict[int, tuple[int, int]] = field(default_factory=dict)  # j -> (case, owner)


class Watch:
    """Milestones and what watches them, for order ``j`` of the dataset at ``now``."""

    def __init__(
        self,
        *,
        ids: list[str],
        statuses: list[str],
        minutes: Callable[[int, int], datetime.datetime],
        fulfilment: Any,  # scripts.bench_scale_plans.Fulfilment
        technician: Callable[[int], bool],
        now: datetime.datetime,
    ) -> None:
        from orders.jeopardy import thresholds
        from orders.milestones import _target_hours
        from orders.models import MilestoneTarget
        from orders.models.jeopardy import LEVEL_RANK
        from orders.models.milestones import Fulfilment, MilestoneKind, OrderKind

        self.ids, self.statuses, self.minutes, self.now = ids, statuses, minutes, now
        self.fulfilment, self.technician = fulfilment, technician
        self.kinds = MilestoneKind
        self.rank = LEVEL_RANK
        self.thresholds = sorted(thresholds())  # lowest first
        targets = list(MilestoneTarget.objects.filter(active=True))
        self.targets: dict[tuple[str, str], tuple[int, str]] = {
            (kind, how): _target_hours(targets, kind, how, OrderKind.PROVIDE)
            for kind in MilestoneKind
            for how in (Fulfilment.AUTOMATIC, Fulfilment.TECHNICIAN)
        }
        self.how = (Fulfilment.AUTOMATIC, Fulfilment.TECHNICIAN)
        self.base = [0] * len(ids)
        count = 0
        for j in range(len(ids)):
            self.base[j] = count
            count += 4 + fulfilment.shape(j).items
        self.n_milestones = count
        self.n_jeopardies = 0
        # Scheduled orders are due on this day (the generator's requested_activation_date).
        from orders.milestones import start_of_day

        self.requested_start = start_of_day((now + datetime.timedelta(days=30)).date())

    # --- milestones -----------------------------------------------------------------------------
    def milestones(self, j: int) -> list[_Milestone]:
        status, k = self.statuses[j], self.kinds
        how = self.how[1] if self.technician(j) else self.how[0]
        anchor = self.minutes(j, 0)
        offerings = self.fulfilment.offerings(j)
        planned: list[tuple[str, int | None, str]] = [
            (k.ACCEPTED, None, k.ACCEPTED.label),
            (k.PROVISIONING_STARTED, None, k.PROVISIONING_STARTED.label),
            (k.BILLING_STARTED, None, k.BILLING_STARTED.label),
            (k.COMPLETED, None, k.COMPLETED.label),
        ]
        planned += [
            (k.ITEM_ACTIVE, self.fulfilment.item_base[j] + n, f"Item {n} active ({o.name})")
            for n, o in enumerate(offerings, start=1)
        ]
        delivered = status in ("activated", "completed")
        met_at: dict[str, datetime.datetime | None] = {
            k.ACCEPTED: self.minutes(j, 0 if status == "scheduled" else 1)
            if status not in ("cancelled", "rejected")
            else None,
            k.PROVISIONING_STARTED: self.minutes(j, 1)
            if status in (*OPEN_DELIVERED, "completed")
            else None,
            k.ITEM_ACTIVE: self.minutes(j, 20) if delivered else None,
            k.BILLING_STARTED: self.minutes(j, 21) if status == "completed" else None,
            k.COMPLETED: self.minutes(j, 21) if status == "completed" else None,
        }
        closed = CHAINS[status].events[-1][4] if status in ("cancelled", "rejected") else None
        rows = []
        for n, (kind, item, name) in enumerate(planned, start=1):
            hours, words = self.targets[(kind, how)]
            # A future-dated order's work is due from the start of its requested day.
            start = anchor
            if status == "scheduled" and kind != k.ACCEPTED:
                start = self.requested_start
            met = met_at[kind]
            rows.append(
                _Milestone(
                    id=self.base[j] + n,
                    kind=kind,
                    item=item,
                    name=name,
                    anchor=start,
                    due=start + datetime.timedelta(hours=hours),
                    met=met,
                    dropped=self.minutes(j, closed) if closed is not None and met is None else None,
                    target=words[:200],
                )
            )
        return rows

    def milestone_rows(self) -> Iterator[tuple[Any, ...]]:
        for j in range(len(self.ids)):
            for m in self.milestones(j):
                yield (
                    m.id, self.ids[j], m.item, m.kind, m.anchor, m.due, m.met, m.dropped, m.target
                )  # fmt: skip

    # --- jeopardies -----------------------------------------------------------------------------
    def _at(self, m: _Milestone, share: int) -> datetime.datetime:
        return m.anchor + (m.due - m.anchor) * share / 100

    def jeopardies(self, j: int) -> list[_Jeopardy]:
        """What the scan left on order ``j``: open on an open order, cleared on one cancelled
        with its milestones late."""
        from orders.jeopardy import expected_after

        status = self.statuses[j]
        if status not in (*OPEN_DELIVERED, "cancelled"):
            return []
        cancelled = self.minutes(j, CHAINS[status].events[-1][4]) if status == "cancelled" else None
        until = cancelled or self.now
        found = []
        for m in self.milestones(j):
            if m.met is not None and m.met <= until:
                continue
            levels = [
                (level, share, self._at(m, share))
                for share, level in self.thresholds
                if self._at(m, share) <= until
            ]
            if not levels:
                continue
            late = next((at for level, _, at in levels if self.rank[level] >= 2), None)
            expected = (
                expected_after(SimpleNamespace(anchor_at=m.anchor, due_at=m.due), late)  # type: ignore[arg-type]
                if late is not None
                else None
            )
            found.append(_Jeopardy(0, m, levels, expected, cancelled))
        return found

    def watch_rows(
        self, people: People, jeopardy_base: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(jeopardies, escalations, jeopardy events) of every order; jeopardy ids follow
        ``jeopardy_base``."""
        from django.utils import timezone

        jeopardies, escalations, events = [], [], []
        next_id = jeopardy_base
        for j in range(len(self.ids)):
            found = self.jeopardies(j)
            if not found:
                continue
            order = self.ids[j]
            first_at: dict[str, tuple[datetime.datetime, int]] = {}
            for jeopardy in found:
                next_id += 1
                jeopardy.id = next_id
                m = jeopardy.milestone
                level, share, level_at = jeopardy.levels[-1]
                jeopardies.append(
                    (
                        jeopardy.id, order, m.id, level, self.rank[level], share,
                        jeopardy.levels[0][2], level_at, jeopardy.expected, jeopardy.cleared,
                        "cancelled" if jeopardy.cleared else "",
                    )
                )  # fmt: skip
                for n, (lvl, pct, at) in enumerate(jeopardy.levels):
                    due = timezone.localtime(m.due)
                    label = {"at_risk": "at risk", "late": "late", "critical": "critical"}[lvl]
                    events.append(
                        (
                            order, "jeopardy", "", "", None, "scheduler",
                            f"{m.name}: {label} ({pct} % of its time used, "
                            f"due {due:%Y-%m-%d %H:%M}).",
                            f"JEOPARDY_{lvl.upper()}", "",
                            _json(jeopardy.id, m.id, lvl, "raised" if n == 0 else "escalated"),
                            at,
                        )
                    )  # fmt: skip
                    if lvl not in first_at or at < first_at[lvl][0]:
                        first_at[lvl] = (at, jeopardy.id)
                if jeopardy.cleared is not None:
                    events.append(
                        (
                            order, "jeopardy", "", "", None, "scheduler",
                            f"{m.name}: jeopardy cleared (Order cancelled).", "", "",
                            _json(jeopardy.id, m.id, level, "cleared"), jeopardy.cleared,
                        )
                    )  # fmt: skip
            for lvl, (at, jeopardy_id) in first_at.items():
                acked = (
                    at + datetime.timedelta(hours=2)
                    if self.statuses[j] == "cancelled" or self.now - at > ACK_AFTER
                    else None
                )
                for person, because in self._recipients(j, lvl, people):
                    escalations.append((jeopardy_id, order, lvl, person, because, at, acked))
        self.n_jeopardies = next_id - jeopardy_base
        return jeopardies, escalations, events

    @staticmethod
    def _recipients(j: int, level: str, people: People) -> list[tuple[int, str]]:
        if level == "critical":
            return [(pk, "operations manager") for pk in people.managers]
        if level == "at_risk" and j in people.case_owner:
            case, owner = people.case_owner[j]
            return [(owner, f"owner of exception case {case}")]
        return [(people.lead, "provisioning lead on duty")]

    # --- what a late order tells the customer and support -------------------------------------
    def late(self, j: int) -> tuple[_Jeopardy, datetime.datetime] | None:
        """The order's first jeopardy to go late, and when (orders.jeopardy.order_delayed)."""
        gone = [
            (at, jeopardy)
            for jeopardy in self.jeopardies(j)
            for level, _, at in jeopardy.levels
            if level == "late"
        ]
        if not gone:
            return None
        at, jeopardy = min(gone, key=lambda pair: (pair[0], pair[1].milestone.id))
        return jeopardy, at

    def contact_rows(self, people: People) -> Iterator[tuple[Any, ...]]:
        from django.utils import timezone

        for j in range(len(self.ids)):
            late = self.late(j)
            if late is None:
                continue
            jeopardy, at = late
            expected = timezone.localtime(jeopardy.expected) if jeopardy.expected else None
            when = f" now expected by {expected:%-d %B %Y}" if expected else ""
            detail = f"{jeopardy.milestone.name} is late{when}: apologise, give the new date."
            done = self.statuses[j] == "cancelled" or self.now - at > CONTACT_OPEN_WINDOW
            taken = done or j % 2 == 0
            yield (
                self.ids[j], "delayed", detail[:300], at,
                people.support if taken else None,
                at + datetime.timedelta(hours=1) if taken else None,
                "reached" if done else "",
                "Gave the new date; they are happy to wait." if done else "",
                at + datetime.timedelta(hours=2) if done else None,
            )  # fmt: skip

    def scheduled_rows(self, reps: Callable[[int], int | None]) -> Iterator[tuple[Any, ...]]:
        """A few cancellations asked for a later date: still scheduled on one scheduled order in
        ten (due the day before its activation), carried out on one cancelled order in ten."""
        for j, status in enumerate(self.statuses):
            if j % 10 != 1 or status not in ("scheduled", "cancelled"):
                continue
            channel = "api" if j % 5 < 2 else "sales_portal"
            asked = self.minutes(j, 60)
            if status == "scheduled":
                due = self.requested_start - datetime.timedelta(days=1)
                yield (
                    self.ids[j], due, "Moving house before the line goes live.", channel,
                    "scheduled", "", asked, None, reps(j), None,
                )  # fmt: skip
            else:
                done = self.minutes(j, CHAINS[status].events[-1][4])
                yield (
                    self.ids[j], done, "No longer needed.", channel, "carried_out",
                    "Cancelled on its date.", self.minutes(j, 0), done, reps(j), None,
                )  # fmt: skip


def _json(jeopardy: int, milestone: int, level: str, action: str) -> str:
    return (
        f'{{"jeopardy": {jeopardy}, "milestone": {milestone}, "level": "{level}", '
        f'"action": "{action}"}}'
    )


def notice_rows(
    watch: Watch,
    *,
    emails: Callable[[int], str],
    event_id: Callable[[int, int], int],
    render: Callable[[int, str, datetime.datetime | None], tuple[str, str]],
) -> Iterator[tuple[Any, ...]]:
    """The notices of the orders taken since notices began (NOTICE_WINDOW): taken, scheduled,
    active, cancelled, delayed, as notices.receivers sends them; ``render(j, kind, expected)``
    gives the subject and body."""
    from django.utils import timezone

    since = watch.now - NOTICE_WINDOW
    minute = datetime.timedelta(minutes=1)
    for j, status in enumerate(watch.statuses):
        taken = watch.minutes(j, 0)
        if taken < since:
            continue
        sent: list[tuple[str, str, datetime.datetime, datetime.datetime | None]] = [
            ("taken", "taken", taken, None)
        ]
        if status == "scheduled":
            sent.append(("scheduled", f"event:{event_id(j, 1)}", taken, None))
        if status in ("activated", "completed"):
            sent.append(("active", "active", watch.minutes(j, 20), None))
        late = watch.late(j)
        if late is not None and late[0].expected is not None:
            day = timezone.localdate(late[0].expected)
            sent.append(("delayed", f"delayed:{day.isoformat()}", late[1], late[0].expected))
        if status == "cancelled":
            sent.append(("cancelled", "cancelled", watch.minutes(j, 600), None))
        for kind, key, at, new_date in sent:
            subject, body = render(j, kind, new_date)
            yield (watch.ids[j], kind, key, "email", emails(j), subject, body, at, at + minute)


def watch_generate(
    copy: Copier,
    cur: Any,
    watch: Watch,
    people: People,
    reps: Callable[[int], int | None],
    **notices: Any,
) -> None:
    """COPY the milestones, jeopardies, escalations, their events, notices, contact tasks and
    scheduled cancellations; print what was written."""
    import time

    t = time.monotonic()
    copy("orders_ordermilestone", MILESTONE_COLUMNS, watch.milestone_rows())
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('orders_ordermilestone', 'id'), %s)",
        [max(1, watch.n_milestones)],
    )
    print(f"  {watch.n_milestones:,} milestones ({time.monotonic() - t:.0f} s)", flush=True)
    t = time.monotonic()
    jeopardies, escalations, events = watch.watch_rows(people, 0)
    copy("orders_jeopardy", JEOPARDY_COLUMNS, iter(jeopardies))
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('orders_jeopardy', 'id'), %s)",
        [max(1, len(jeopardies))],
    )
    copy("orders_escalation", ESCALATION_COLUMNS, iter(escalations))
    copy("orders_orderevent", EVENT_COLUMNS, iter(events))
    n_open = sum(1 for row in jeopardies if row[9] is None)
    n_unacked = sum(1 for row in escalations if row[6] is None)
    print(
        f"  {len(jeopardies):,} jeopardies ({n_open:,} open), {len(escalations):,} escalations "
        f"({n_unacked:,} not acknowledged), {len(events):,} jeopardy events "
        f"({time.monotonic() - t:.0f} s)",
        flush=True,
    )
    t = time.monotonic()
    # Rendered before the COPY: the templates query the database, which a COPY holds.
    rows = list(notice_rows(watch, **notices))
    n_notices = copy("notices_customernotice", NOTICE_COLUMNS, iter(rows))
    del rows
    n_contacts = copy("support_contacttask", CONTACT_COLUMNS, watch.contact_rows(people))
    n_scheduled = copy(
        "orders_scheduledcancellation", SCHEDULED_COLUMNS, watch.scheduled_rows(reps)
    )
    print(
        f"  {n_notices:,} customer notices, {n_contacts:,} contact tasks, "
        f"{n_scheduled:,} scheduled cancellations "
        f"({time.monotonic() - t:.0f} s)",
        flush=True,
    )


def watch_fill(
    copy: Copier,
    cur: Any,
    *,
    fulfilment: Any,
    minutes: Callable[[int, int], datetime.datetime],
    technician: Callable[[int], bool],
    n_customers: int,
    owners: list[int | None],
    lead: int,
    support: int,
    managers: list[int],
    reps: Callable[[int], int | None],
    now: datetime.datetime,
) -> None:
    """Everything above for the dataset's orders (``fulfilment`` holds their ids and statuses;
    ``owners`` is the owner of each exception case by order index, as Fulfilment.cases deals
    them)."""
    from notices.services import notice_context
    from orders import order_id
    from orders.models import Order
    from orders.notifications import email_render

    ids, statuses = fulfilment.ids, fulfilment.statuses
    watch = Watch(
        ids=ids,
        statuses=statuses,
        minutes=minutes,
        fulfilment=fulfilment,
        technician=technician,
        now=now,
    )
    people = People(lead=lead, support=support, managers=managers)
    case = 0
    event_base = [0] * len(ids)
    events = 0
    for j, status in enumerate(statuses):
        event_base[j] = events
        events += len(CHAINS[status].events) + (1 if j % 3 == 0 else 0)
        if status == "exception" or (status == "completed" and j % 50 == 3):
            case += 1
            owner = owners[j % len(owners)]
            if status == "exception" and owner is not None:
                people.case_owner[j] = (case, owner)

    sample = Order.objects.select_related("customer", "plan").get(pk=ids[0])
    sample_id = sample.display_id
    rendered: dict[tuple[str, Any], tuple[str, str]] = {}

    def render(j: int, kind: str, expected: datetime.datetime | None) -> tuple[str, str]:
        from django.utils import timezone

        day = timezone.localdate(expected) if expected is not None else None
        if (kind, day) not in rendered:
            context = notice_context(sample, {"expected": day} if day else None)
            rendered[(kind, day)] = email_render(template=f"notice_{kind}", context=context)
        subject, body = rendered[(kind, day)]
        shown = order_id.display(ids[j])
        return subject.replace(sample_id, shown)[:200], body.replace(sample_id, shown)

    watch_generate(
        copy,
        cur,
        watch,
        people,
        reps,
        emails=lambda j: f"customer{1 + j % n_customers}@example.net",
        event_id=lambda j, k: event_base[j] + k + 1,
        render=render,
    )
