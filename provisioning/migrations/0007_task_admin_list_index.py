"""An index for the fulfilment task admin's list (newest first): at a million orders, four
million tasks, its page sorted them all (11 s a page in make bench-scale)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_catalogue_specifications_and_order_items"),
        ("provisioning", "0006_remove_provisioning_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="fulfilmenttask",
            index=models.Index(fields=["created_at", "id"], name="task_created_idx"),
        ),
    ]
