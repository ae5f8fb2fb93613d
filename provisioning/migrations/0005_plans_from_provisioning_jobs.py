"""Every order's old activation record becomes its fulfilment plan, with its history.

Until now an order had one fixed, linear plan of four steps, run by provisioning jobs (one per
attempt) that wrote a row per step. Each order that had jobs, and each order in provisioning,
exception, the manual pool, activated or completed, now gets its line's (item "1") four tasks
of the internet access plan, as the scheduler would have them:

- a step that succeeded is a done task, with its network reference and times;
- an order that is live (activated, completed) has every task done: one done without a step
  on record (a person confirmed it live) says so in its note;
- a cancelled or rejected order's tasks not done are cancelled;
- an open order's first task not done is ready (in the manual pool, for a person, when the
  order awaits manual provisioning; failed, with its error, when the order is in exception)
  and the rest wait on it;
- each run of a step (succeeded or failed; "already done" was not a run) is an attempt of its
  task, numbered per task, its trigger the job's (a task's first attempt is its initial one).

The old steps' references (the simulator's "RESERVE_PORT-1A2B3C4D") are what the network
answered then: they are kept as the port and subscriber identifiers, in the tasks' results
and on the delivered items, since they are the only ones on record; they are not port names.

Open work stays on record (DESIGN invariant 3): an order in provisioning whose ready task has
no pending message gets one for it; the old "activation_attempt" messages still open are
completed, as their task no longer exists. An open exception case names its order's failed
task (or, for a retry in progress, its ready one).

Set-based (INSERT ... SELECT, UPDATE with subqueries, portable between SQLite and
PostgreSQL) so that a million orders migrate in a few statements; Python only for the
messages of the few orders in provisioning. A submitted order gets no plan: the worker plans
it (provisioning 0003 put its message back on record).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

PLANNED_STATUSES = ("provisioning", "exception", "awaiting_manual", "activated", "completed")

# The internet access plan as it was when this migration was written, with each task's old
# step name and the task before it.
ACCESS_PLAN = (
    ("reserve_port", "reserve_port", None, False),
    ("create_subscriber", "subscriber_profile", "reserve_port", False),
    ("apply_speed_profile", "speed_profile", "create_subscriber", False),
    ("activate_line", "activate_line", "apply_speed_profile", True),
)
IDENTIFIER_OF = {"reserve_port": "port", "create_subscriber": "subscriber"}
NEW_TASK_TYPE = "CASE st.name WHEN 'subscriber_profile' THEN 'create_subscriber' " + (
    "WHEN 'speed_profile' THEN 'apply_speed_profile' ELSE st.name END"
)
PREVIOUS_KEY = (
    "CASE {t}.task_type WHEN 'create_subscriber' THEN '1.reserve_port' "
    "WHEN 'apply_speed_profile' THEN '1.create_subscriber' "
    "WHEN 'activate_line' THEN '1.apply_speed_profile' END"
)


def _json(vendor: str, expression: str) -> str:
    return f"CAST({expression} AS jsonb)" if vendor == "postgresql" else expression


def _quoted(expression: str) -> str:
    """A JSON string of a text expression."""
    return "'\"' || REPLACE(REPLACE(" + expression + ", '\\', '\\\\'), '\"', '\\\"') || '\"'"


def _plan_rows() -> str:
    rows = []
    for position, (task_type, old_name, previous, ponr) in enumerate(ACCESS_PLAN, start=1):
        depends = f'["1.{previous}"]' if previous else "[]"
        identifier = IDENTIFIER_OF.get(task_type, "")
        rows.append(
            f"SELECT {position} AS position, '{task_type}' AS task_type, "
            f"'{old_name}' AS old_name, '{depends}' AS depends_on, "
            f"{'TRUE' if ponr else 'FALSE'} AS is_ponr, '{identifier}' AS identifier"
        )
    return " UNION ALL ".join(rows)


STEP_RUNS = """
SELECT j.order_id AS order_id, st.name AS name,
    COUNT(CASE WHEN st.status IN ('succeeded', 'failed') THEN 1 END) AS runs,
    MIN(CASE WHEN st.status IN ('succeeded', 'failed') THEN st.started_at END) AS first_started,
    MAX(CASE WHEN st.status = 'succeeded' THEN st.network_reference END) AS ok_reference,
    MAX(CASE WHEN st.status = 'succeeded' THEN st.started_at END) AS ok_started,
    MAX(CASE WHEN st.status = 'succeeded' THEN st.finished_at END) AS ok_finished
FROM provisioning_provisioningstep st
JOIN provisioning_provisioningjob j ON j.id = st.job_id
GROUP BY j.order_id, st.name
"""


def _tasks_sql(vendor: str) -> str:
    done = "(s.ok_finished IS NOT NULL OR o.status IN ('activated', 'completed'))"
    result = (
        "CASE WHEN p.identifier <> '' AND COALESCE(s.ok_reference, '') <> '' THEN "
        "'{\"' || p.identifier || '\": ' || " + _quoted("s.ok_reference") + " || '}' "
        "ELSE '{}' END"
    )
    return f"""
INSERT INTO provisioning_fulfilmenttask (
    order_id, item_id, key, task_type, mode, is_ponr, depends_on, state, attempts, created_at,
    ready_at, started_at, finished_at, state_changed_at, network_reference, result, error_code,
    error_message, note
)
SELECT o.id, i.id, '1.' || p.task_type, p.task_type, 'automatic', p.is_ponr,
    {_json(vendor, "p.depends_on")},
    CASE WHEN {done} THEN 'done'
        WHEN o.status IN ('cancelled', 'rejected') THEN 'cancelled'
        ELSE 'waiting' END,
    COALESCE(s.runs, 0),
    COALESCE((SELECT MIN(j.created_at) FROM provisioning_provisioningjob j
              WHERE j.order_id = o.id), o.status_changed_at),
    CASE WHEN {done} THEN COALESCE(s.ok_started, o.activated_at, o.status_changed_at) END,
    s.first_started,
    CASE WHEN {done} THEN COALESCE(s.ok_finished, o.activated_at, o.status_changed_at)
        WHEN o.status IN ('cancelled', 'rejected') THEN o.status_changed_at END,
    COALESCE(s.ok_finished, o.status_changed_at),
    COALESCE(s.ok_reference, ''),
    {_json(vendor, result)},
    '', '',
    CASE WHEN s.ok_finished IS NULL AND o.status IN ('activated', 'completed')
        THEN 'No step on record: done when the order was confirmed live.' ELSE '' END
FROM orders_order o
JOIN orders_orderitem i ON i.order_id = o.id AND i.item_id = '1'
CROSS JOIN ({_plan_rows()}) p
LEFT JOIN ({STEP_RUNS}) s ON s.order_id = o.id AND s.name = p.old_name
WHERE (
    o.status IN {PLANNED_STATUSES}
    OR EXISTS (SELECT 1 FROM provisioning_provisioningjob j WHERE j.order_id = o.id)
)
AND NOT EXISTS (SELECT 1 FROM provisioning_fulfilmenttask t WHERE t.order_id = o.id)
"""  # noqa: S608 (every piece is a constant of this module)


ATTEMPTS = f"""
INSERT INTO provisioning_taskattempt (
    task_id, order_id, number, trigger, requested_by_id, worker, outcome, started_at,
    finished_at, network_reference, error_code, error_message, transient
)
SELECT task_id, order_id, number,
    CASE WHEN number = 1 THEN 'initial' ELSE job_trigger END,
    requested_by_id, '', outcome, started_at, finished_at, network_reference, error_code,
    error_message, transient
FROM (
    SELECT t.id AS task_id, j.order_id AS order_id,
        ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY st.started_at, st.id) AS number,
        j.trigger AS job_trigger, j.requested_by_id AS requested_by_id, st.status AS outcome,
        st.started_at AS started_at, st.finished_at AS finished_at,
        st.network_reference AS network_reference, st.error_code AS error_code,
        st.error_message AS error_message,
        CASE WHEN st.status = 'failed' THEN j.transient ELSE FALSE END AS transient
    FROM provisioning_provisioningstep st
    JOIN provisioning_provisioningjob j ON j.id = st.job_id
    JOIN provisioning_fulfilmenttask t
        ON t.order_id = j.order_id AND t.key = '1.' || {NEW_TASK_TYPE}
    WHERE st.status IN ('succeeded', 'failed')
) runs
"""  # noqa: S608

# The first task not done of an open order: every task before it is done.
FIRST_OPEN = f"""
provisioning_fulfilmenttask.state = 'waiting'
AND provisioning_fulfilmenttask.order_id IN (SELECT id FROM orders_order WHERE status = %s)
AND (
    provisioning_fulfilmenttask.task_type = 'reserve_port'
    OR EXISTS (
        SELECT 1 FROM provisioning_fulfilmenttask d
        WHERE d.order_id = provisioning_fulfilmenttask.order_id AND d.state = 'done'
        AND d.key = {PREVIOUS_KEY.format(t="provisioning_fulfilmenttask")}
    )
)
"""  # noqa: S608
# The task's newest failed run, or (a failure recorded on the job only) the order's newest
# failed job, or its newest exception case.
LAST_ERROR = """
COALESCE(
    (SELECT st.{field} FROM provisioning_provisioningstep st
     JOIN provisioning_provisioningjob j ON j.id = st.job_id
     WHERE j.order_id = provisioning_fulfilmenttask.order_id AND st.status = 'failed'
     AND '1.' || {new_task_type} = provisioning_fulfilmenttask.key
     ORDER BY st.finished_at DESC, st.id DESC LIMIT 1),
    {fallback}
)
"""
JOB_ERROR = """(SELECT j.{field} FROM provisioning_provisioningjob j
     WHERE j.order_id = provisioning_fulfilmenttask.order_id AND j.status = 'failed'
     ORDER BY j.attempt DESC LIMIT 1)"""
CASE_ERROR = """(SELECT c.{field} FROM provisioning_exceptioncase c
     WHERE c.order_id = provisioning_fulfilmenttask.order_id
     ORDER BY c.opened_at DESC, c.id DESC LIMIT 1)"""


def _last_error(field: str, *, case_field: str, with_fallback: bool) -> str:
    fallback = "''"
    if with_fallback:
        fallback = f"{JOB_ERROR.format(field=field)}, {CASE_ERROR.format(field=case_field)}, ''"
    return LAST_ERROR.format(field=field, new_task_type=NEW_TASK_TYPE, fallback=fallback)


def _open_tasks(cursor, now) -> None:  # type: ignore[no-untyped-def]
    for status, state, with_fallback in (
        ("provisioning", "ready", False),
        ("awaiting_manual", "ready", False),
        ("exception", "failed", True),
    ):
        code = _last_error("error_code", case_field="reason_code", with_fallback=with_fallback)
        message = _last_error(
            "error_message", case_field="reason_detail", with_fallback=with_fallback
        )
        cursor.execute(
            f"UPDATE provisioning_fulfilmenttask SET state = %s, ready_at = %s, "  # noqa: S608
            f"state_changed_at = %s, error_code = {code}, error_message = {message} "
            f"WHERE {FIRST_OPEN}",
            [state, now, now, status],
        )
    # The manual pool: a person does every task not done yet.
    cursor.execute(
        "UPDATE provisioning_fulfilmenttask SET mode = 'manual' "
        "WHERE state IN ('waiting', 'ready') "
        "AND order_id IN (SELECT id FROM orders_order WHERE status = 'awaiting_manual')"
    )


def _identifier_pair(name: str, key: str) -> str:
    reference = (
        "(SELECT NULLIF(t.network_reference, '') FROM provisioning_fulfilmenttask t "  # noqa: S608
        "WHERE t.order_id = orders_orderitem.order_id "
        f"AND t.key = '{key}' AND t.state = 'done')"
    )
    return f"', \"{name}\": ' || {_quoted(reference)}"


def _items_identifiers(cursor, vendor: str) -> None:  # type: ignore[no-untyped-def]
    pairs = " || ".join(
        f"COALESCE({_identifier_pair(name, '1.' + task)}, '')"
        for task, name in IDENTIFIER_OF.items()
    )
    cursor.execute(
        "UPDATE orders_orderitem SET network_identifiers = "  # noqa: S608
        + _json(vendor, f"'{{' || SUBSTR({pairs}, 3) || '}}'")
        + " WHERE item_id = '1' AND state = 'completed' AND EXISTS ("
        "SELECT 1 FROM provisioning_fulfilmenttask t WHERE t.order_id = orders_orderitem.order_id"
        " AND t.key IN ('1.reserve_port', '1.create_subscriber') AND t.state = 'done'"
        " AND t.network_reference <> '')"
    )


def _cases_name_their_task(cursor) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        "UPDATE provisioning_exceptioncase SET task_id = COALESCE("
        "(SELECT MIN(t.id) FROM provisioning_fulfilmenttask t "
        " WHERE t.order_id = provisioning_exceptioncase.order_id AND t.state = 'failed'),"
        "(SELECT MIN(t.id) FROM provisioning_fulfilmenttask t "
        " WHERE t.order_id = provisioning_exceptioncase.order_id AND t.state = 'ready')) "
        "WHERE state IN ('open', 'retrying') AND task_id IS NULL"
    )


def _open_work_on_record(apps, now) -> None:  # type: ignore[no-untyped-def]
    OutboxMessage = apps.get_model("orders", "OutboxMessage")
    Task = apps.get_model("provisioning", "FulfilmentTask")
    Job = apps.get_model("provisioning", "ProvisioningJob")
    OutboxMessage.objects.filter(
        task_name="provisioning.activation_attempt",
        completed_at__isnull=True,
        failed_at__isnull=True,
    ).update(completed_at=now, last_error="Replaced by the order's fulfilment tasks.")
    ready = list(
        Task.objects.filter(order__status="provisioning", state="ready", mode="automatic")
        .order_by("order_id", "pk")
        .values_list("pk", "order_id", "attempts")
    )
    pending: set[int] = set()
    for kwargs in OutboxMessage.objects.filter(
        task_name="provisioning.run_task",
        order__status="provisioning",
        completed_at__isnull=True,
        failed_at__isnull=True,
    ).values_list("kwargs", flat=True):
        pending.add(int(kwargs.get("task_id", 0)))
    # The trigger of the attempt the order was waiting for: its newest job's.
    newest_job: dict[str, tuple[str, int | None]] = {}
    for order_id, trigger, requested_by in (
        Job.objects.filter(order__status="provisioning")
        .order_by("order_id", "attempt")
        .values_list("order_id", "trigger", "requested_by_id")
    ):
        newest_job[order_id] = (trigger, requested_by)
    messages = []
    for task_id, order_id, attempts in ready:
        if task_id in pending:
            continue
        trigger, requested_by = newest_job.get(order_id, ("initial", None))
        if not attempts:
            trigger, requested_by = "initial", None
        messages.append(
            OutboxMessage(
                task_name="provisioning.run_task",
                order_id=order_id,
                kwargs={
                    "order_id": order_id,
                    "task_id": task_id,
                    "trigger": trigger,
                    "requested_by": requested_by,
                },
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                not_before=now,
                created_at=now,
            )
        )
    OutboxMessage.objects.bulk_create(messages, batch_size=1000)


def plans_from_jobs(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    now = timezone.now()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_tasks_sql(vendor))
        cursor.execute(ATTEMPTS)
        _open_tasks(cursor, now)
        _items_identifiers(cursor, vendor)
        _cases_name_their_task(cursor)
    _open_work_on_record(apps, now)


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0004_fulfilment_tasks"),
        ("orders", "0012_catalogue_specifications_and_order_items"),
    ]
    # The installed base is made from the items' identifiers written here.
    run_before = [("inventory", "0002_products_from_completed_orders")]

    operations = [migrations.RunPython(plans_from_jobs, migrations.RunPython.noop)]
