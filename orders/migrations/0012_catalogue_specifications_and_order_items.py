"""The catalogue gets product specifications with their fulfilment plans, offerings point at
one, and every order holds items.

Existing plans are internet access offerings; every existing order becomes one item (its line,
at the price it was taken at, in the state its order is in), written by one INSERT ... SELECT
so that a database of a million orders migrates in one statement, not a million round trips.
The specifications written here are the standard ones of orders.catalogue, as they were when
this migration was written.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import django_fsm
from django.db import migrations, models

ACCESS_PLAN = [
    {"task": "reserve_port"},
    {"task": "create_subscriber", "depends_on": ["reserve_port"]},
    {"task": "apply_speed_profile", "depends_on": ["create_subscriber"]},
    {"task": "activate_line", "depends_on": ["apply_speed_profile"], "ponr": True},
]
SPECIFICATIONS = [
    {
        "code": "internet-access",
        "name": "Residential internet access",
        "kind": "internet_access",
        "parent_kind": "",
        "customer_label": "Internet line",
        "description": "A residential broadband line at a speed tier.",
        "characteristics": [
            {
                "name": "downloadSpeed",
                "valueType": "integer",
                "description": "Download speed, Mbit/s",
            },
            {"name": "uploadSpeed", "valueType": "integer", "description": "Upload speed, Mbit/s"},
            {
                "name": "technology",
                "valueType": "string",
                "description": "Access technology at the address",
                "values": ["fttp", "fttc", "fwa"],
            },
        ],
        "fulfilment_plan": ACCESS_PLAN,
    },
    {
        "code": "static-ipv4",
        "name": "Static IPv4 address",
        "kind": "static_ip",
        "parent_kind": "internet_access",
        "customer_label": "Static IP",
        "description": "One fixed public IPv4 address on the line.",
        "characteristics": [{"name": "ipVersion", "valueType": "string", "values": ["IPv4"]}],
        "fulfilment_plan": [
            {"task": "allocate_address", "depends_on": ["parent.create_subscriber"]},
            {
                "task": "bind_address",
                "depends_on": ["allocate_address"],
                "before": ["parent.activate_line"],
            },
        ],
    },
    {
        "code": "managed-router",
        "name": "Managed router",
        "kind": "router",
        "parent_kind": "internet_access",
        "customer_label": "Router",
        "description": "A router we configure and look after remotely.",
        "characteristics": [
            {"name": "model", "valueType": "string", "description": "Router model"}
        ],
        "fulfilment_plan": [{"task": "register_cpe", "before": ["parent.activate_line"]}],
    },
]

ITEMS_FROM_ORDERS = """
INSERT INTO orders_orderitem (
    order_id, item_id, position, offering_id, action, quantity, parent_id, recurring_price,
    one_time_price, currency, state, state_changed_at, network_identifiers, completed_at
)
SELECT o.id, '1', 1, o.plan_id, 'add', 1, NULL, o.monthly_price, 0, o.currency,
    CASE o.status
        WHEN 'completed' THEN 'completed'
        WHEN 'activated' THEN 'completed'
        WHEN 'cancelled' THEN 'cancelled'
        WHEN 'rejected' THEN 'rejected'
        WHEN 'exception' THEN 'held'
        WHEN 'provisioning' THEN 'in_progress'
        WHEN 'awaiting_manual' THEN 'in_progress'
        ELSE 'pending'
    END,
    o.status_changed_at, '{}', o.activated_at
FROM orders_order o
WHERE NOT EXISTS (SELECT 1 FROM orders_orderitem i WHERE i.order_id = o.id)
"""


def specifications_and_items(apps, schema_editor):
    specification = apps.get_model("orders", "ProductSpecification")
    plan = apps.get_model("orders", "Plan")
    by_code = {}
    for fields in SPECIFICATIONS:
        by_code[fields["code"]], _ = specification.objects.get_or_create(
            code=fields["code"], defaults={k: v for k, v in fields.items() if k != "code"}
        )
    plan.objects.filter(specification__isnull=True).update(specification=by_code["internet-access"])
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(ITEMS_FROM_ORDERS)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_outbox_record_of_work"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProductSpecification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.SlugField(
                        help_text="Stable id used by the APIs.", max_length=40, unique=True
                    ),
                ),
                ("name", models.CharField(max_length=80)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("internet_access", "Internet access"),
                            ("static_ip", "Static IPv4 address"),
                            ("router", "Managed router"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "parent_kind",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("internet_access", "Internet access"),
                            ("static_ip", "Static IPv4 address"),
                            ("router", "Managed router"),
                        ],
                        help_text="An add-on: sold only with an item of this kind on the order.",
                        max_length=20,
                    ),
                ),
                ("description", models.TextField(blank=True)),
                (
                    "customer_label",
                    models.CharField(
                        help_text="How the customer's pages name an item of it: 'Static IP'.",
                        max_length=60,
                    ),
                ),
                ("brand", models.CharField(blank=True, max_length=60)),
                ("version", models.CharField(default="1.0", max_length=20)),
                (
                    "lifecycle_status",
                    models.CharField(
                        choices=[
                            ("In design", "In design"),
                            ("Launched", "Launched"),
                            ("Retired", "Retired"),
                        ],
                        default="Launched",
                        max_length=20,
                    ),
                ),
                ("characteristics", models.JSONField(blank=True, default=list)),
                ("fulfilment_plan", models.JSONField()),
                ("last_update", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["kind", "code"],
            },
        ),
        migrations.AlterModelOptions(
            name="plan",
            options={
                "ordering": ["download_mbps", "monthly_price"],
                "verbose_name": "product offering",
            },
        ),
        migrations.AddField(
            model_name="order",
            name="one_time_price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                help_text="One-time charges, every item, as ordered.",
                max_digits=8,
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="characteristic_values",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Values of the specification's other characteristics.",
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="one_time_price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                max_digits=8,
                validators=[django.core.validators.MinValueValidator(Decimal("0.00"))],
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="technologies",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Access technologies it suits (fttp, fttc, fwa); empty: all of them.",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="monthly_price",
            field=models.DecimalField(
                decimal_places=2, help_text="Per month, every item, as ordered.", max_digits=8
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=django_fsm.FSMField(
                choices=[
                    ("submitted", "Submitted"),
                    ("rejected", "Rejected"),
                    ("scheduled", "Scheduled"),
                    ("awaiting_manual", "Awaiting manual provisioning"),
                    ("provisioning", "Provisioning"),
                    ("exception", "Exception"),
                    ("activated", "Activated"),
                    ("completed", "Completed"),
                    ("partial", "Partly completed"),
                    ("cancelled", "Cancelled"),
                ],
                default="submitted",
                max_length=20,
                protected=True,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="from_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("submitted", "Submitted"),
                    ("rejected", "Rejected"),
                    ("scheduled", "Scheduled"),
                    ("awaiting_manual", "Awaiting manual provisioning"),
                    ("provisioning", "Provisioning"),
                    ("exception", "Exception"),
                    ("activated", "Activated"),
                    ("completed", "Completed"),
                    ("partial", "Partly completed"),
                    ("cancelled", "Cancelled"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("status_changed", "Status changed"),
                    ("activation_attempt", "Activation attempt"),
                    ("item_state_changed", "Item state changed"),
                    ("task_failed", "Fulfilment task failed"),
                    ("task_done_by_hand", "Fulfilment task done by hand"),
                    ("exception_opened", "Exception case opened"),
                    ("exception_assigned", "Exception case assigned"),
                    ("exception_resolved", "Exception case resolved"),
                    ("billing_started", "Billing started"),
                    ("billing_waived", "Billing waived"),
                    ("order_edited", "Order edited"),
                    ("customer_contact", "Customer contact"),
                    ("note", "Note"),
                ],
                max_length=24,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="to_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("submitted", "Submitted"),
                    ("rejected", "Rejected"),
                    ("scheduled", "Scheduled"),
                    ("awaiting_manual", "Awaiting manual provisioning"),
                    ("provisioning", "Provisioning"),
                    ("exception", "Exception"),
                    ("activated", "Activated"),
                    ("completed", "Completed"),
                    ("partial", "Partly completed"),
                    ("cancelled", "Cancelled"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="plan",
            name="download_mbps",
            field=models.PositiveIntegerField(
                blank=True, null=True, validators=[django.core.validators.MinValueValidator(1)]
            ),
        ),
        migrations.AlterField(
            model_name="plan",
            name="upload_mbps",
            field=models.PositiveIntegerField(
                blank=True, null=True, validators=[django.core.validators.MinValueValidator(1)]
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="specification",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="offerings",
                to="orders.productspecification",
            ),
        ),
        migrations.CreateModel(
            name="OrderItem",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("item_id", models.CharField(max_length=40)),
                ("position", models.PositiveSmallIntegerField(default=1)),
                (
                    "action",
                    models.CharField(choices=[("add", "Add")], default="add", max_length=10),
                ),
                ("quantity", models.PositiveSmallIntegerField(default=1)),
                ("recurring_price", models.DecimalField(decimal_places=2, max_digits=8)),
                (
                    "one_time_price",
                    models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=8),
                ),
                ("currency", models.CharField(max_length=3)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("in_progress", "In progress"),
                            ("held", "Held (a task failed)"),
                            ("completed", "Completed"),
                            ("cancelled", "Cancelled"),
                            ("rejected", "Rejected"),
                        ],
                        default="pending",
                        max_length=12,
                    ),
                ),
                ("state_changed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("network_identifiers", models.JSONField(blank=True, default=dict)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "offering",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="order_items",
                        to="orders.plan",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="orders.order",
                    ),
                ),
                (
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        help_text="The item this one relies on (TMF622 productOrderItemRelationship reliesOn).",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="add_ons",
                        to="orders.orderitem",
                    ),
                ),
            ],
            options={
                "ordering": ["order", "position"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("order", "item_id"), name="order_item_id_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(specifications_and_items, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="plan",
            name="specification",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="offerings",
                to="orders.productspecification",
            ),
        ),
    ]
