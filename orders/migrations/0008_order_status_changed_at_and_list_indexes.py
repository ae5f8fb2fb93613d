"""Order.status_changed_at (filled from each order's newest status event) and the indexes the
lists sort and filter on at a million orders."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_status_changed_at(apps, schema_editor):  # type: ignore[no-untyped-def]
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    newest = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind="status_changed")
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    Order.objects.filter(events__kind="status_changed").distinct().update(
        status_changed_at=Subquery(newest)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_customer_contact_event"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="status_changed_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(fill_status_changed_at, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["submitted_at", "id"], name="order_submitted_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["status", "status_changed_at", "id"], name="order_status_since_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["submitted_by", "submitted_at", "id"], name="order_submitted_by_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["submitted_by", "status", "status_changed_at"],
                name="order_submitted_by_status_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["name", "id"], name="customer_name_idx"),
        ),
    ]
