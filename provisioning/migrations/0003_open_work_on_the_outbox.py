"""Open provisioning work back on the outbox's record (see orders 0011): until now a message
counted as done once sent, and a sweeper looked for work that never happened."""

from django.db import migrations
from django.utils import timezone


def open_work_on_record(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OutboxMessage = apps.get_model("orders", "OutboxMessage")
    ProvisioningJob = apps.get_model("provisioning", "ProvisioningJob")
    now = timezone.now()
    messages = [
        OutboxMessage(
            task_name="provisioning.fulfil_order",
            order_id=pk,
            kwargs={"order_id": pk},
            not_before=now,
            created_at=now,
        )
        for pk in Order.objects.filter(status="submitted").values_list("pk", flat=True)
    ]
    messages += [
        OutboxMessage(
            task_name="provisioning.activation_attempt",
            order_id=order_id,
            kwargs={"order_id": order_id, "job_id": job_id},
            not_before=now,
            created_at=now,
        )
        for job_id, order_id in ProvisioningJob.objects.filter(
            status__in=["pending", "running"], order__status="provisioning"
        ).values_list("pk", "order_id")
    ]
    OutboxMessage.objects.bulk_create(messages, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0002_job_and_case_list_indexes"),
        ("orders", "0011_outbox_record_of_work"),
    ]

    operations = [migrations.RunPython(open_work_on_record, migrations.RunPython.noop)]
