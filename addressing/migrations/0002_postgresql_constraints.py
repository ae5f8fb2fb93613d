"""On PostgreSQL the database itself keeps the address rules (elsewhere, SQLite, the service and
the models' validation do, with the two partial unique constraints of 0001 that it can express):

- no two pools overlap: an exclusion constraint over the networks (GiST's built-in inet_ops, no
  extension needed);
- an address held now lies inside its pool's host range. A CHECK sees only its own row, so the
  assignment carries its pool's network (``pool_network``) and a foreign key on (pool, network)
  keeps that copy the pool's own: changing a pool's network cascades to its assignments, and
  the CHECK then refuses the change if an address held would fall outside. That is declarative
  and covers both sides, where a trigger would have to be written for each table;
- values are IPv4: a pool's network, and host addresses (/32).
"""

from typing import Any

from django.db import migrations

FORWARD = [
    """ALTER TABLE addressing_addresspool
       ADD CONSTRAINT address_pool_ipv4 CHECK (family(network) = 4),
       ADD CONSTRAINT address_pool_gateway_inside
           CHECK (gateway IS NULL OR (family(gateway) = 4 AND gateway << network)),
       ADD CONSTRAINT address_pools_never_overlap
           EXCLUDE USING gist (network inet_ops WITH &&),
       ADD CONSTRAINT address_pool_id_network UNIQUE (id, network)""",
    """ALTER TABLE addressing_addressassignment
       ADD CONSTRAINT address_is_ipv4_host CHECK (family(address) = 4 AND masklen(address) = 32),
       ADD CONSTRAINT address_network_is_pools
           FOREIGN KEY (pool_id, pool_network)
           REFERENCES addressing_addresspool (id, network)
           ON UPDATE CASCADE,
       ADD CONSTRAINT address_inside_pool CHECK (
           released_at IS NOT NULL
           OR (address << pool_network
               AND (masklen(pool_network) >= 31
                    OR address - pool_network
                       BETWEEN 1 AND (2 ^ (32 - masklen(pool_network)))::bigint - 2)))""",
]
BACKWARD = [
    """ALTER TABLE addressing_addressassignment
       DROP CONSTRAINT address_inside_pool,
       DROP CONSTRAINT address_network_is_pools,
       DROP CONSTRAINT address_is_ipv4_host""",
    """ALTER TABLE addressing_addresspool
       DROP CONSTRAINT address_pool_id_network,
       DROP CONSTRAINT address_pools_never_overlap,
       DROP CONSTRAINT address_pool_gateway_inside,
       DROP CONSTRAINT address_pool_ipv4""",
]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("addressing", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
