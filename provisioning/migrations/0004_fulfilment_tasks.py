"""The fulfilment plan's tables: a task per step of each item's plan, and each task's attempts.

The old provisioning jobs and steps stay until 0005 has turned them into tasks and attempts;
0006 removes them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_catalogue_specifications_and_order_items"),
        ("provisioning", "0003_open_work_on_the_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="exceptioncase",
            name="reason_code",
            field=models.CharField(
                choices=[
                    ("PORT_UNAVAILABLE", "No free port at the exchange"),
                    ("PROFILE_REJECTED", "Network rejected the subscriber profile"),
                    ("SPEED_PROFILE_FAILED", "Speed profile could not be applied"),
                    ("LINE_TEST_FAILED", "Line test failed"),
                    ("NETWORK_TIMEOUT", "Network did not answer in time"),
                    ("WORKER_LOST", "Activation worker stopped mid-attempt"),
                    ("ADAPTER_ERROR", "Unexpected error in the network adapter"),
                    ("ADDRESS_POOL_EXHAUSTED", "No free static address in the pool"),
                    ("ADDRESS_BIND_FAILED", "Address could not be bound to the subscriber"),
                    ("CPE_REJECTED", "Router registration rejected"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="exceptioncase",
            name="resolution",
            field=models.CharField(
                blank=True,
                choices=[
                    ("retry_succeeded", "Retry succeeded"),
                    ("override_activated", "Override: activated by hand"),
                    ("override_cancelled", "Override: order cancelled"),
                    ("item_cancelled", "Item cancelled: the order goes on without it"),
                ],
                max_length=24,
            ),
        ),
        migrations.CreateModel(
            name="FulfilmentTask",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        help_text="'<item id>.<task type>', unique per order.", max_length=80
                    ),
                ),
                (
                    "task_type",
                    models.CharField(
                        choices=[
                            ("reserve_port", "Reserve access port"),
                            ("create_subscriber", "Create subscriber"),
                            ("apply_speed_profile", "Apply speed profile"),
                            ("activate_line", "Activate line"),
                            ("allocate_address", "Allocate static IPv4 address"),
                            ("bind_address", "Bind address to subscriber"),
                            ("register_cpe", "Pre-register router (CPE)"),
                        ],
                        max_length=24,
                    ),
                ),
                (
                    "mode",
                    models.CharField(
                        choices=[
                            ("automatic", "Automatic"),
                            ("manual", "Manual (a person does it)"),
                        ],
                        default="automatic",
                        max_length=10,
                    ),
                ),
                ("is_ponr", models.BooleanField(default=False, verbose_name="point of no return")),
                ("depends_on", models.JSONField(blank=True, default=list)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("waiting", "Waiting on other tasks"),
                            ("ready", "Ready"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="waiting",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("ready_at", models.DateTimeField(blank=True, null=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("state_changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("network_reference", models.CharField(blank=True, max_length=120)),
                (
                    "result",
                    models.JSONField(
                        blank=True, default=dict, help_text="Identifiers it recorded."
                    ),
                ),
                (
                    "error_code",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("PORT_UNAVAILABLE", "No free port at the exchange"),
                            ("PROFILE_REJECTED", "Network rejected the subscriber profile"),
                            ("SPEED_PROFILE_FAILED", "Speed profile could not be applied"),
                            ("LINE_TEST_FAILED", "Line test failed"),
                            ("NETWORK_TIMEOUT", "Network did not answer in time"),
                            ("WORKER_LOST", "Activation worker stopped mid-attempt"),
                            ("ADAPTER_ERROR", "Unexpected error in the network adapter"),
                            ("ADDRESS_POOL_EXHAUSTED", "No free static address in the pool"),
                            ("ADDRESS_BIND_FAILED", "Address could not be bound to the subscriber"),
                            ("CPE_REJECTED", "Router registration rejected"),
                        ],
                        max_length=40,
                    ),
                ),
                ("error_message", models.TextField(blank=True)),
                (
                    "note",
                    models.TextField(blank=True, help_text="A person's record of what they did."),
                ),
                (
                    "done_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="The person who did a manual task.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="orders.orderitem",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="orders.order",
                    ),
                ),
            ],
            options={
                "ordering": ["order", "id"],
            },
        ),
        migrations.AddField(
            model_name="exceptioncase",
            name="task",
            field=models.ForeignKey(
                blank=True,
                help_text="The task whose failure opened (or last re-opened) the case.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="exception_cases",
                to="provisioning.fulfilmenttask",
            ),
        ),
        migrations.CreateModel(
            name="TaskAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(help_text="1, 2, 3... per task.")),
                (
                    "trigger",
                    models.CharField(
                        choices=[
                            ("initial", "First attempt"),
                            ("auto_retry", "Automatic retry"),
                            ("manual_retry", "Retry by a person"),
                        ],
                        max_length=16,
                    ),
                ),
                ("worker", models.CharField(blank=True, max_length=200)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="running",
                        max_length=10,
                    ),
                ),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("network_reference", models.CharField(blank=True, max_length=120)),
                (
                    "error_code",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("PORT_UNAVAILABLE", "No free port at the exchange"),
                            ("PROFILE_REJECTED", "Network rejected the subscriber profile"),
                            ("SPEED_PROFILE_FAILED", "Speed profile could not be applied"),
                            ("LINE_TEST_FAILED", "Line test failed"),
                            ("NETWORK_TIMEOUT", "Network did not answer in time"),
                            ("WORKER_LOST", "Activation worker stopped mid-attempt"),
                            ("ADAPTER_ERROR", "Unexpected error in the network adapter"),
                            ("ADDRESS_POOL_EXHAUSTED", "No free static address in the pool"),
                            ("ADDRESS_BIND_FAILED", "Address could not be bound to the subscriber"),
                            ("CPE_REJECTED", "Router registration rejected"),
                        ],
                        max_length=40,
                    ),
                ),
                ("error_message", models.TextField(blank=True)),
                ("transient", models.BooleanField(default=False, help_text="A retry may succeed.")),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="task_attempts",
                        to="orders.order",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attempt_log",
                        to="provisioning.fulfilmenttask",
                    ),
                ),
            ],
            options={
                "ordering": ["task", "number"],
            },
        ),
        migrations.AddIndex(
            model_name="fulfilmenttask",
            index=models.Index(
                condition=models.Q(("mode", "manual"), ("state", "ready")),
                fields=["ready_at", "id"],
                name="task_manual_pool_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="fulfilmenttask",
            index=models.Index(
                condition=models.Q(("state", "running")),
                fields=["started_at", "id"],
                name="task_running_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="fulfilmenttask",
            constraint=models.UniqueConstraint(fields=("order", "key"), name="one_task_per_key"),
        ),
        migrations.AddIndex(
            model_name="taskattempt",
            index=models.Index(
                condition=models.Q(("trigger__in", ["auto_retry", "manual_retry"])),
                fields=["started_at", "id"],
                name="attempt_retry_log_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="taskattempt",
            index=models.Index(fields=["order", "started_at"], name="attempt_order_idx"),
        ),
        migrations.AddConstraint(
            model_name="taskattempt",
            constraint=models.UniqueConstraint(
                fields=("task", "number"), name="one_attempt_per_number"
            ),
        ),
    ]
