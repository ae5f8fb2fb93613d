"""The installed base starts with what was delivered before it existed.

Every completed order's completed item (orders 0012: its line) becomes an active product,
as inventory.services.products_record would have made it on completion: the offering's name,
speeds and the area's technology as characteristics, the item's network identifiers (written
by provisioning 0005 from the old steps' references, the only identifiers on record), its
prices as ordered, the service address, and its start when the item was delivered. One
INSERT ... SELECT, portable between SQLite and PostgreSQL; only the product's random UUID is
made each database's own way.
"""

from django.db import migrations
from django.utils import timezone


def _uuid(vendor: str) -> str:
    if vendor == "postgresql":
        return "gen_random_uuid()"
    # Django keeps a UUID on SQLite as 32 hex digits; a version 4 (random) one ("%%": the
    # query has parameters).
    piece = "lower(hex(randomblob({})))"
    return (
        f"{piece.format(6)} || '4' || substr({piece.format(2)}, 2) || "
        f"substr('89ab', 1 + abs(random()) %% 4, 1) || substr({piece.format(8)}, 2)"
    )


def _json(vendor: str, expression: str) -> str:
    return f"CAST({expression} AS jsonb)" if vendor == "postgresql" else expression


def _pair(name: str, expression: str, *, text: bool) -> str:
    value = f"'\"' || {expression} || '\"'" if text else f"CAST({expression} AS VARCHAR(20))"
    return f"COALESCE(', \"{name}\": ' || {value}, '')"


def _products_sql(vendor: str) -> str:
    characteristics = " || ".join(
        [
            _pair("downloadSpeed", "p.download_mbps", text=False),
            _pair("uploadSpeed", "p.upload_mbps", text=False),
            _pair("technology", "NULLIF(a.technology, '')", text=True),
        ]
    )
    postcode = (
        "CASE WHEN LENGTH(o.service_postcode) > 4 THEN "
        "SUBSTR(o.service_postcode, 1, LENGTH(o.service_postcode) - 3) || ' ' || "
        "SUBSTR(o.service_postcode, LENGTH(o.service_postcode) - 2) "
        "ELSE o.service_postcode END"
    )
    address = (
        "o.service_address_line1 || COALESCE(', ' || NULLIF(o.service_address_line2, ''), '') "
        f"|| COALESCE(', ' || NULLIF(o.service_city, ''), '') || ' ' || {postcode}"
    )
    start = "COALESCE(i.completed_at, o.activated_at, o.completed_at, o.status_changed_at)"
    return f"""
INSERT INTO inventory_product (
    id, customer_id, order_id, order_item_id, offering_id, specification_id, parent_id, name,
    status, start_date, termination_date, characteristics, network_identifiers,
    recurring_price, one_time_price, currency, service_address, created_at, updated_at
)
SELECT {_uuid(vendor)}, o.customer_id, o.id, i.id, i.offering_id, p.specification_id, NULL,
    p.name, 'active', {start}, NULL,
    {_json(vendor, f"'{{' || SUBSTR({characteristics}, 3) || '}}'")},
    i.network_identifiers, i.recurring_price, i.one_time_price, i.currency, {address},
    {start}, %s
FROM orders_orderitem i
JOIN orders_order o ON o.id = i.order_id
JOIN orders_plan p ON p.id = i.offering_id
JOIN orders_servicearea a ON a.id = o.service_area_id
WHERE o.status = 'completed' AND i.state = 'completed' AND i.parent_id IS NULL
AND NOT EXISTS (SELECT 1 FROM inventory_product x WHERE x.order_item_id = i.id)
"""  # noqa: S608 (every piece is a constant of this module)


def products_from_completed_orders(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(_products_sql(vendor), [timezone.now()])


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("orders", "0012_catalogue_specifications_and_order_items"),
    ]

    operations = [migrations.RunPython(products_from_completed_orders, migrations.RunPython.noop)]
