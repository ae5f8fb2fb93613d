"""The indexes the provisioning worklist, the exception queue and the admin lists sort on."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="provisioningjob",
            index=models.Index(fields=["created_at", "id"], name="job_created_idx"),
        ),
        migrations.AddIndex(
            model_name="provisioningjob",
            index=models.Index(
                condition=models.Q(trigger__in=["auto_retry", "manual_retry"]),
                fields=["created_at", "id"],
                name="job_retry_log_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="exceptioncase",
            index=models.Index(
                condition=models.Q(state__in=["open", "retrying"]),
                fields=["opened_at", "id"],
                name="case_active_queue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="exceptioncase",
            index=models.Index(
                condition=models.Q(state__in=["open", "retrying"]),
                fields=["owner", "opened_at", "id"],
                name="case_active_owner_idx",
            ),
        ),
    ]
