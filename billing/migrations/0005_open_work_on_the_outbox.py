"""Activated orders whose bill has not started go back on the outbox's record (see orders
0011): until now a message counted as done once sent, and a sweeper looked for them."""

from django.db import migrations
from django.utils import timezone


def open_work_on_record(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OutboxMessage = apps.get_model("orders", "OutboxMessage")
    now = timezone.now()
    unbilled = Order.objects.filter(status="activated", billing_account__isnull=True)
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                task_name="billing.start_billing",
                order_id=pk,
                kwargs={"order_id": pk},
                not_before=now,
                created_at=now,
            )
            for pk in unbilled.values_list("pk", flat=True)
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_billingaccount_ordered_terms_and_indexes"),
        ("orders", "0011_outbox_record_of_work"),
    ]

    operations = [migrations.RunPython(open_work_on_record, migrations.RunPython.noop)]
