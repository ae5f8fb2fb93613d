"""The order's terms on each billing account (copied from its order, as billing read them), a
partial index of the accounts that disagree with them, and the worklist's and admin's sort
indexes."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, Q

MISMATCH = (
    Q(ordered_activation_date__isnull=True)
    | ~Q(plan=F("ordered_plan"))
    | ~Q(monthly_price=F("ordered_monthly_price"))
    | ~Q(currency=F("ordered_currency"))
    | ~Q(start_date=F("ordered_activation_date"))
)


def copy_order_terms(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    BillingAccount = apps.get_model("billing", "BillingAccount")
    accounts = BillingAccount.objects.select_related("order").iterator(chunk_size=2000)
    batch = []
    for account in accounts:
        order = account.order
        account.ordered_plan_id = order.plan_id
        account.ordered_monthly_price = order.monthly_price
        account.ordered_currency = order.currency
        account.ordered_activation_date = (
            timezone.localdate(order.activated_at) if order.activated_at else None
        )
        batch.append(account)
        if len(batch) == 2000:
            BillingAccount.objects.bulk_update(batch, _FIELDS)
            batch = []
    BillingAccount.objects.bulk_update(batch, _FIELDS)


_FIELDS = ["ordered_plan", "ordered_monthly_price", "ordered_currency", "ordered_activation_date"]


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_work_billingaccount_permission"),
        ("orders", "0008_order_status_changed_at_and_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingaccount",
            name="ordered_plan",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.plan",
            ),
        ),
        migrations.AddField(
            model_name="billingaccount",
            name="ordered_monthly_price",
            field=models.DecimalField(decimal_places=2, max_digits=8, null=True),
        ),
        migrations.AddField(
            model_name="billingaccount",
            name="ordered_currency",
            field=models.CharField(max_length=3, null=True),
        ),
        migrations.AddField(
            model_name="billingaccount",
            name="ordered_activation_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunPython(copy_order_terms, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="billingaccount",
            name="ordered_plan",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.plan",
            ),
        ),
        migrations.AlterField(
            model_name="billingaccount",
            name="ordered_monthly_price",
            field=models.DecimalField(decimal_places=2, max_digits=8),
        ),
        migrations.AlterField(
            model_name="billingaccount",
            name="ordered_currency",
            field=models.CharField(max_length=3),
        ),
        migrations.AddIndex(
            model_name="billingaccount",
            index=models.Index(
                fields=["start_date", "created_at", "id"], name="billing_started_on_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="billingaccount",
            index=models.Index(fields=["start_date", "id"], name="billing_start_date_idx"),
        ),
        migrations.AddIndex(
            model_name="billingaccount",
            index=models.Index(
                condition=MISMATCH, fields=["created_at", "id"], name="billing_mismatch_idx"
            ),
        ),
    ]
