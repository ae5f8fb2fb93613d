"""Ownership became object-level (django-guardian): grant what the data already says.

A customer linked to a sign-in gets ``view_customer`` on their record and ``view_order`` on each of
their orders; an exception case's owner gets ``change_exceptioncase`` on it. From here on the
services and orders.access keep the grants in step. Idempotent; nothing to do on a new database.
"""

from django.db import migrations


def _permission(apps, app_label: str, model: str, codename: str):  # type: ignore[no-untyped-def]
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    content_type = content_type_model.objects.filter(app_label=app_label, model=model).first()
    if content_type is None:
        return None, None
    permission = permission_model.objects.filter(
        content_type=content_type, codename=codename
    ).first()
    return content_type, permission


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    customer_model = apps.get_model("orders", "Customer")
    order_model = apps.get_model("orders", "Order")
    case_model = apps.get_model("provisioning", "ExceptionCase")
    grant_model = apps.get_model("guardian", "UserObjectPermission")

    wanted: list[tuple[str, str, str, list[tuple[int, str]]]] = [
        (
            "orders",
            "customer",
            "view_customer",
            [
                (user_id, str(pk))
                for pk, user_id in customer_model.objects.filter(user__isnull=False).values_list(
                    "pk", "user_id"
                )
            ],
        ),
        (
            "orders",
            "order",
            "view_order",
            [
                (user_id, str(pk))
                for pk, user_id in order_model.objects.filter(
                    customer__user__isnull=False
                ).values_list("pk", "customer__user_id")
            ],
        ),
        (
            "provisioning",
            "exceptioncase",
            "change_exceptioncase",
            [
                (user_id, str(pk))
                for pk, user_id in case_model.objects.filter(owner__isnull=False).values_list(
                    "pk", "owner_id"
                )
            ],
        ),
    ]
    for app_label, model, codename, pairs in wanted:
        if not pairs:
            continue
        content_type, permission = _permission(apps, app_label, model, codename)
        if permission is None:  # a database the permissions never reached has no such rows
            continue
        have = set(
            grant_model.objects.filter(permission=permission).values_list("user_id", "object_pk")
        )
        grant_model.objects.bulk_create(
            grant_model(
                user_id=user_id,
                permission=permission,
                content_type=content_type,
                object_pk=object_pk,
            )
            for user_id, object_pk in pairs
            if (user_id, object_pk) not in have
        )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_event_source_staff_portal"),
        ("provisioning", "0001_initial"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
