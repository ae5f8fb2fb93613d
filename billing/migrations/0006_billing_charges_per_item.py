"""Billing per delivered item: each account's charges.

Every existing account billed one plan for its order's one item (orders 0012): that item gets
its charge, with the account's plan, price, start date and first period, in one
INSERT ... SELECT however many accounts there are.
"""

import django.db.models.deletion
from django.db import migrations, models

CHARGES_FROM_ACCOUNTS = """
INSERT INTO billing_billingcharge (
    account_id, item_id, offering_id, recurring_price, one_time_price, currency, start_date,
    first_period_end, first_period_amount
)
SELECT a.id, i.id, a.plan_id, a.monthly_price, 0, a.currency, a.start_date,
    a.first_period_end, a.first_period_amount
FROM billing_billingaccount a
JOIN orders_orderitem i ON i.order_id = a.order_id AND i.item_id = '1'
WHERE NOT EXISTS (SELECT 1 FROM billing_billingcharge c WHERE c.account_id = a.id)
"""


def charges_from_accounts(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(CHARGES_FROM_ACCOUNTS)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_open_work_on_the_outbox"),
        ("orders", "0012_catalogue_specifications_and_order_items"),
    ]

    operations = [
        migrations.CreateModel(
            name="BillingCharge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("recurring_price", models.DecimalField(decimal_places=2, max_digits=8)),
                ("one_time_price", models.DecimalField(decimal_places=2, max_digits=8)),
                ("currency", models.CharField(max_length=3)),
                ("start_date", models.DateField(help_text="The item's activation date.")),
                ("first_period_end", models.DateField()),
                (
                    "first_period_amount",
                    models.DecimalField(
                        decimal_places=2, help_text="The recurring charge, prorated.", max_digits=8
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="charges",
                        to="billing.billingaccount",
                    ),
                ),
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="billing_charge",
                        to="orders.orderitem",
                    ),
                ),
                (
                    "offering",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="orders.plan",
                    ),
                ),
            ],
            options={
                "ordering": ["account", "item__position"],
            },
        ),
        migrations.RunPython(charges_from_accounts, migrations.RunPython.noop),
    ]
