#!/bin/sh
# Point the stock configuration's SQL module at PostgreSQL, count Simultaneous-Use from radacct,
# accept the NASes of RADIUS_CLIENTS (a CIDR) with RADIUS_CLIENT_SECRET, then run in the
# foreground. Every value comes from the environment (docker-compose.yml); the password goes into
# a sed expression and a libpq conninfo: make it URL-safe (token_urlsafe), like POSTGRES_PASSWORD.
set -eu
raddb=${RADDB:-/etc/freeradius/3.0}
: "${RADIUS_DB_HOST:=postgres}" "${RADIUS_DB_PORT:=5432}" "${RADIUS_DB_NAME:=radius}"
: "${RADIUS_DB_USER:=radius}" "${RADIUS_DB_PASSWORD:?set RADIUS_DB_PASSWORD}"
: "${RADIUS_CLIENTS:=10.0.0.0/8}" "${RADIUS_CLIENT_SECRET:?set RADIUS_CLIENT_SECRET}"
sed -i -e 's|^\tdialect = "sqlite"|\tdialect = "postgresql"|' \
       -e 's|^\tdriver = "rlm_sql_null"|\tdriver = "rlm_sql_${dialect}"|' \
       -e "s|^\tradius_db = \"radius\"|\tradius_db = \"host=$RADIUS_DB_HOST port=$RADIUS_DB_PORT dbname=$RADIUS_DB_NAME user=$RADIUS_DB_USER password=$RADIUS_DB_PASSWORD\"|" \
       "$raddb/mods-available/sql"
ln -sf ../mods-available/sql "$raddb/mods-enabled/sql"
# The stock default site reads SQL in authorize and writes accounting; enable it for sessions too.
sed -i -e 's|^#\tsql[[:space:]]*$|\tsql|' "$raddb/sites-available/default"
cat > "$raddb/clients.conf" <<CLIENTS
client nas {
	ipaddr = $RADIUS_CLIENTS
	secret = $RADIUS_CLIENT_SECRET
}
CLIENTS
exec freeradius -f -l stdout
