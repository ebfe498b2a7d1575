#!/usr/bin/env bash
# PostgreSQL, Redis and RabbitMQ, the servers the service and its tests need.
#
#   .ci/services.sh check   say which one does not answer, and the command that starts it
#   .ci/services.sh start   start each local one that does not answer, wait until it does
#
# Addresses come from the service's own settings (environment and .env) when the venv is
# installed, else the defaults 127.0.0.1:5432, 127.0.0.1:6379 and 127.0.0.1:5672.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEADLINE_SECONDS=${SERVICES_DEADLINE_SECONDS:-90}

endpoints() {
    local out=""
    if [[ -x .venv/bin/python ]]; then
        out=$(.venv/bin/python - 2>/dev/null <<'EOF'
from urllib.parse import urlsplit

from service.settings import load_settings

s = load_settings()
pg = urlsplit(s.dsn)
print("PostgreSQL", pg.hostname or "127.0.0.1", pg.port or 5432)
print("Redis", s.redis_host, s.redis_port)
print("RabbitMQ", s.rabbitmq_host, s.rabbitmq_port)
EOF
        ) || out=""
    fi
    if [[ -z $out ]]; then
        out=$'PostgreSQL 127.0.0.1 5432\nRedis 127.0.0.1 6379\nRabbitMQ 127.0.0.1 5672'
    fi
    echo "$out"
}

start_command() {
    case $1 in
        PostgreSQL) echo "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" ;;
        Redis) echo "redis-server --daemonize yes --bind 127.0.0.1 --port $2 --save '' --appendonly no" ;;
        RabbitMQ) echo "rabbitmq-server -detached" ;;
    esac
}

answers() {
    local name=$1 host=$2 port=$3
    case $name in
        PostgreSQL)
            if command -v pg_isready >/dev/null; then
                pg_isready -q -h "$host" -p "$port" -t 2
                return
            fi
            ;;
        Redis)
            if command -v redis-cli >/dev/null; then
                [[ $(timeout 3 redis-cli -h "$host" -p "$port" ping 2>/dev/null) == PONG ]]
                return
            fi
            ;;
    esac
    timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }

check() {
    local name host port down=0 line lines
    mapfile -t lines < <(endpoints)
    for line in "${lines[@]}"; do
        read -r name host port <<<"$line"
        if answers "$name" "$host" "$port"; then
            echo "ok: $name on $host:$port"
        else
            down=1
            echo "DOWN: $name does not answer on $host:$port" >&2
            if is_local "$host"; then
                echo "      start it with: $(start_command "$name" "$port")" >&2
            fi
        fi
    done
    if ((down)); then
        echo "      (or 'make services' starts every local one that is down)" >&2
        return 1
    fi
}

start() {
    local name host port line lines
    mapfile -t lines < <(endpoints)
    for line in "${lines[@]}"; do
        read -r name host port <<<"$line"
        if answers "$name" "$host" "$port"; then
            echo "ok: $name on $host:$port"
            continue
        fi
        is_local "$host" || { echo "$name on $host:$port is down and not local" >&2; return 1; }
        local cmd
        cmd=$(start_command "$name" "$port")
        echo "starting $name: $cmd"
        bash -c "$cmd" </dev/null
        local deadline=$((SECONDS + DEADLINE_SECONDS))
        until answers "$name" "$host" "$port"; do
            if ((SECONDS >= deadline)); then
                echo "$name did not answer on $host:$port within ${DEADLINE_SECONDS}s" >&2
                return 1
            fi
            sleep 1
        done
        echo "ok: $name on $host:$port (started)"
    done
}

case ${1:-check} in
    check) check ;;
    start) start ;;
    *) echo "usage: $0 check|start" >&2; exit 2 ;;
esac
