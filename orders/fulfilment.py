"""Fulfilment plans, declared as data on each product specification, and their decomposition
into one task graph per order.

A specification's plan is a list of steps::

    {"task": "allocate_address",            # a TaskType
     "depends_on": ["parent.create_subscriber"],   # steps of this plan, or "parent.<task>":
                                                   #   a step of the item this one relies on
     "before": ["parent.activate_line"],    # steps that wait for this one (same notation)
     "mode": "automatic",                   # or "manual": a person does it (the manual pool)
     "ponr": false}                         # the point of no return (one per plan at most)

Decomposition turns an order's items into tasks keyed ``"<item id>.<task>"`` (``"1.reserve_port"``),
with every dependency resolved to such a key, so plans link across items into one graph. This
module is pure: it reads items and specifications and returns task drafts; provisioning writes
them as rows and schedules them. A task is ready when every task it depends on is done (or was
cancelled with its item: Airflow's ``none_failed`` rule, so cancelling an add-on releases what
waited for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import models

PARENT = "parent."


class TaskType(models.TextChoices):
    """What the network (or a person) can be asked to do. Provisioning has one handler each."""

    RESERVE_PORT = "reserve_port", "Reserve access port"
    CREATE_SUBSCRIBER = "create_subscriber", "Create subscriber"
    APPLY_SPEED_PROFILE = "apply_speed_profile", "Apply speed profile"
    ACTIVATE_LINE = "activate_line", "Activate line"
    ALLOCATE_ADDRESS = "allocate_address", "Allocate static IPv4 address"
    BIND_ADDRESS = "bind_address", "Bind address to subscriber"
    REGISTER_CPE = "register_cpe", "Pre-register router (CPE)"
    SUSPEND_SERVICE = "suspend_service", "Bar the service (suspend)"
    RESUME_SERVICE = "resume_service", "Lift the bar (resume)"


class TaskMode(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual (a person does it)"


@dataclass(frozen=True)
class PlanStep:
    task: str
    depends_on: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    mode: str = TaskMode.AUTOMATIC
    ponr: bool = False
    # Take back what the task type does (a cease: release the port, remove the subscriber).
    undo: bool = False


# The plans a specification has besides its fulfilment plan, for orders that change a live
# product (ProductSpecification.change_plans): a plan change, a suspension, its resumption, a
# cease (TMF622 item actions modify and delete).
CHANGE_PLAN, SUSPEND, RESUME, CEASE = "modify", "suspend", "resume", "delete"
CHANGE_PLAN_NAMES = (CHANGE_PLAN, SUSPEND, RESUME, CEASE)


def plan_steps(raw: Sequence[Mapping[str, Any]]) -> list[PlanStep]:
    """Read a plan (already validated by ``plan_validate``)."""
    return [
        PlanStep(
            task=str(step["task"]),
            depends_on=tuple(step.get("depends_on", ())),
            before=tuple(step.get("before", ())),
            mode=str(step.get("mode", TaskMode.AUTOMATIC)),
            ponr=bool(step.get("ponr", False)),
            undo=bool(step.get("undo", False)),
        )
        for step in raw
    ]


def plan_validate(raw: Any, *, parent_plan: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Raise ValidationError listing every problem in a plan: unknown tasks or modes, a task
    twice, dependencies on steps that do not exist (here, or in the parent's plan), more than
    one point of no return, a cycle."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError("A fulfilment plan is a non-empty list of steps.")
    problems: list[str] = []
    names: list[str] = []
    for position, step in enumerate(raw, start=1):
        if not isinstance(step, dict) or "task" not in step:
            problems.append(f"Step {position} must be an object with a 'task'.")
            continue
        unknown = set(step) - {"task", "depends_on", "before", "mode", "ponr", "undo"}
        if unknown:
            problems.append(f"Step {position} has unknown keys: {', '.join(sorted(unknown))}.")
        if step["task"] not in TaskType.values:
            problems.append(f"Step {position}: '{step['task']}' is not a known task type.")
        if step.get("mode", TaskMode.AUTOMATIC) not in TaskMode.values:
            problems.append(f"Step {position}: mode must be automatic or manual.")
        for key in ("depends_on", "before"):
            if not isinstance(step.get(key, []), list):
                problems.append(f"Step {position}: '{key}' must be a list.")
        names.append(step["task"])
    if problems:
        raise ValidationError(problems)
    if len(set(names)) != len(names):
        problems.append("A task appears twice in the plan.")
    parent_names = {step["task"] for step in parent_plan or ()}
    for step in raw:
        for ref in [*step.get("depends_on", []), *step.get("before", [])]:
            if ref.startswith(PARENT):
                if parent_plan is None:
                    problems.append(
                        f"'{step['task']}' refers to {ref}, but this specification has no parent."
                    )
                elif ref[len(PARENT) :] not in parent_names:
                    problems.append(f"'{step['task']}' refers to {ref}: no such parent step.")
            elif ref not in names:
                problems.append(f"'{step['task']}' refers to '{ref}': no such step in the plan.")
    if sum(1 for step in raw if step.get("ponr")) > 1:
        problems.append("A plan has at most one point of no return.")
    if problems:
        raise ValidationError(problems)
    local = {
        s["task"]: {d for d in s.get("depends_on", []) if not d.startswith(PARENT)} for s in raw
    }
    for step in raw:
        for later in step.get("before", []):
            if not later.startswith(PARENT):
                local[later].add(step["task"])
    if _cycle(local):
        raise ValidationError("The plan's dependencies form a cycle.")


def _cycle(graph: Mapping[str, Iterable[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(up) for up in graph.get(node, ())):
            return True
        state[node] = 2
        return False

    return any(visit(node) for node in graph)


class PlannedItem(Protocol):
    """What decomposition needs of an order item."""

    @property
    def item_id(self) -> str: ...

    @property
    def parent_item_id(self) -> str | None: ...

    @property
    def parent_in_service(self) -> bool:
        """The item goes on a line that is live already (not planned with it): its ``parent.*``
        steps are done."""
        ...

    @property
    def plan(self) -> Sequence[Mapping[str, Any]]: ...


@dataclass
class TaskDraft:
    item_id: str
    key: str
    task_type: str
    mode: str
    is_ponr: bool
    undo: bool = False
    depends_on: list[str] = field(default_factory=list)


UNDO_SUFFIX = ".undo"


def task_key(item_id: str, task: str) -> str:
    return f"{item_id}.{task}"


def decompose(items: Sequence[PlannedItem], *, manual: bool = False) -> list[TaskDraft]:
    """One task per step of each item's plan, dependencies resolved across items into one graph
    per order. ``manual``: the network here is not automated, so every step is a person's. An
    item on a line in service has its ``parent.*`` dependencies met (the line was reserved,
    subscribed and activated by the order that delivered it)."""
    drafts, _ = decompose_into(items, existing={}, manual=manual)
    return drafts


def decompose_into(
    items: Sequence[PlannedItem],
    *,
    existing: Mapping[tuple[str, str], str],
    manual: bool = False,
) -> tuple[list[TaskDraft], dict[str, list[str]]]:
    """``decompose`` for items added to a plan that has tasks already (an amended order):
    ``existing`` maps (item id, task type) to the key of each task there, which the new items'
    references may name. Returns the new tasks and, for existing tasks that must now wait for
    new ones (a ``before``), the keys they gain."""
    drafts: dict[str, TaskDraft] = {}
    keys: dict[tuple[str, str], str] = dict(existing)
    for item in items:
        for step in plan_steps(item.plan):
            key = task_key(item.item_id, step.task) + (UNDO_SUFFIX if step.undo else "")
            keys[item.item_id, step.task] = key
            drafts[key] = TaskDraft(
                item_id=item.item_id,
                key=key,
                task_type=step.task,
                mode=TaskMode.MANUAL if manual else step.mode,
                is_ponr=step.ponr,
                undo=step.undo,
            )
    gained: dict[str, list[str]] = {}
    for item in items:
        for step in plan_steps(item.plan):
            key = keys[item.item_id, step.task]
            for ref in step.depends_on:
                if not (ref.startswith(PARENT) and item.parent_in_service):
                    drafts[key].depends_on.append(_resolve(ref, item, keys))
            for ref in step.before:
                if not (ref.startswith(PARENT) and item.parent_in_service):
                    later = _resolve(ref, item, keys)
                    if later in drafts:
                        drafts[later].depends_on.append(key)
                    else:
                        gained.setdefault(later, []).append(key)
    known = set(drafts) | set(existing.values())
    graph = {key: draft.depends_on for key, draft in drafts.items()}
    if _cycle(graph) or any(up not in known for ups in graph.values() for up in ups):
        raise ValueError("the order's items do not form a valid task graph")
    return list(drafts.values()), gained


def _resolve(ref: str, item: PlannedItem, keys: Mapping[tuple[str, str], str]) -> str:
    if ref.startswith(PARENT):
        if item.parent_item_id is None:
            raise ValueError(f"item {item.item_id} refers to {ref} but relies on no item")
        owner, task = item.parent_item_id, ref[len(PARENT) :]
    else:
        owner, task = item.item_id, ref
    if (owner, task) not in keys:
        raise ValueError(f"item {item.item_id} refers to {ref}, which its plans do not have")
    return keys[owner, task]


def ready_keys(states: Mapping[str, str], depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """The waiting tasks whose every dependency is done or cancelled."""
    released = {"done", "cancelled"}
    return [
        key
        for key, state in states.items()
        if state == "waiting" and all(states.get(up) in released for up in depends_on[key])
    ]
