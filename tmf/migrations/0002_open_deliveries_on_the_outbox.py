"""Pending hub deliveries go back on the outbox's record (see orders 0011): until now a
message counted as done once sent, and a due sweep looked for deliveries to try."""

from django.db import migrations


def open_work_on_record(apps, schema_editor):
    EventDelivery = apps.get_model("tmf", "EventDelivery")
    OutboxMessage = apps.get_model("orders", "OutboxMessage")
    pending = EventDelivery.objects.filter(status="pending").values_list(
        "pk", "order_id", "next_attempt_at", "created_at"
    )
    messages = []
    for pk, order_id, due, created in pending.iterator():
        kwargs = {"delivery_id": pk}
        if order_id:
            kwargs["order_id"] = order_id
        messages.append(
            OutboxMessage(
                task_name="tmf.deliver_event",
                order_id=order_id,
                kwargs=kwargs,
                not_before=due,
                created_at=created,
            )
        )
    OutboxMessage.objects.bulk_create(messages, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("tmf", "0001_initial"),
        ("orders", "0011_outbox_record_of_work"),
    ]

    operations = [migrations.RunPython(open_work_on_record, migrations.RunPython.noop)]
