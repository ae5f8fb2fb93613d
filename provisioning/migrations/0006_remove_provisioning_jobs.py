"""The old provisioning jobs and steps are gone: 0005 made them the orders' tasks and
attempts."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0005_plans_from_provisioning_jobs"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="provisioningstep",
            name="job",
        ),
        migrations.DeleteModel(
            name="ProvisioningJob",
        ),
        migrations.DeleteModel(
            name="ProvisioningStep",
        ),
    ]
