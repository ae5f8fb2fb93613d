"""The index of billing's "activated, billing not started" list."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_customer_name_trigram_index")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(status="activated"),
                fields=["activated_at", "id"],
                name="order_activated_unbilled_idx",
            ),
        ),
    ]
