#!/bin/sh
# The Temporal server's two PostgreSQL databases (history and visibility), created and
# brought to the schema version of this admin-tools image (the server's own version):
#   create          no-op when the database exists
#   setup-schema    the schema version tables and version 0.0; skipped past it
#   update-schema   every versioned change not yet applied
# So it is idempotent, runs at every `docker compose up` (compose.yml, temporal-schema),
# and upgrades the schema when the image tag (the server version) moves. The password
# comes from SQL_PASSWORD, which temporal-sql-tool reads itself.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port=${DB_PORT:-5432}
schema=/etc/temporal/schema/postgresql/v12

sql() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" \
        -u "$POSTGRES_USER" "$@"
}

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    db=${pair%%:*}
    kind=${pair#*:}
    echo "temporal-schema: database $db ($kind)"
    sql --db "$db" create
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "$schema/$kind/versioned"
done
echo "temporal-schema: up to date"
