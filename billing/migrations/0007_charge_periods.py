"""Charges with an end: a change to a live line (billing.changes) ends a charge (``end_date``,
``ended_by``, its prorated ``last_period_amount``) and may start another for the same item
(``started_by``: a resumption), so an item has one charge from its delivery and one per change
that starts it again; ``changed_on`` (the change's date) lists the charges changed on a day.
Existing charges are running and unchanged: nothing to fill in."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_billing_charges_per_item"),
        ("orders", "0016_live_changes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="billingcharge",
            options={"ordering": ["account", "start_date", "item__position", "id"]},
        ),
        migrations.AddField(
            model_name="billingcharge",
            name="changed_on",
            field=models.DateField(
                blank=True,
                help_text="The date of the change to the line that last started or ended this charge.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="billingcharge",
            name="end_date",
            field=models.DateField(
                blank=True,
                help_text="The last day charged; empty while the charge runs.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="billingcharge",
            name="ended_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The change that ended this charge (a plan change, suspension, cease).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.orderitem",
            ),
        ),
        migrations.AddField(
            model_name="billingcharge",
            name="last_period_amount",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The recurring charge for the month it ends in, to its end date, prorated.",
                max_digits=8,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="billingcharge",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The change that started this charge (a plan change, a resumption).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.orderitem",
            ),
        ),
        migrations.AlterField(
            model_name="billingcharge",
            name="item",
            field=models.ForeignKey(
                help_text="The order item billed: the one that delivered the product, or a plan change.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="billing_charges",
                to="orders.orderitem",
            ),
        ),
        migrations.AddIndex(
            model_name="billingcharge",
            index=models.Index(
                condition=models.Q(("changed_on__isnull", False)),
                fields=["changed_on", "id"],
                name="billing_charge_changed_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="billingcharge",
            constraint=models.UniqueConstraint(
                condition=models.Q(("started_by__isnull", True)),
                fields=("item",),
                name="billing_charge_one_per_item",
            ),
        ),
        migrations.AddConstraint(
            model_name="billingcharge",
            constraint=models.UniqueConstraint(
                condition=models.Q(("started_by__isnull", False)),
                fields=("item", "started_by"),
                name="billing_charge_one_per_item_and_start",
            ),
        ),
    ]
