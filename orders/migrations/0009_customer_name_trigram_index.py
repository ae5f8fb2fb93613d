"""PostgreSQL only: a trigram index on UPPER(name), the expression Django's ``icontains``
compiles to, so support's search by part of a name reads an index (nothing on SQLite, the
embedded default, whose tables stay small)."""

from django.db import migrations

INDEX = "customer_name_trgm_idx"


def create_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON orders_customer "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    # The extension stays: other objects may use it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_order_status_changed_at_and_list_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
