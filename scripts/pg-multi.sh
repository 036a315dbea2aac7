#!/usr/bin/env bash
# Several `sourcing serve` instances sharing one stock in PostgreSQL, tested as they will
# be used: a throwaway cluster (scripts/pg-cluster.sh), the PostgreSQL ledger's unit
# tests against it, then INSTANCES instances on one database, CLIENTS concurrent clients
# spread over all of them on a few hot SKUs for SECONDS, one instance killed with -9
# midway and restarted. At the end: the ledger audit clean (no unit promised beyond stock
# for any pair), every acknowledged change in the ledger exactly once, every instance
# seeing the same stock.
#
#   scripts/pg-multi.sh                      # the test (CI runs it)
#   BENCH=1 PROFILE=release scripts/pg-multi.sh   # throughput with 1, 2 and 3 instances
#
# Without PostgreSQL (and no way to install it) it says so loudly and exits 0, or 1 with
# PG_REQUIRED=1.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTANCES=${INSTANCES:-3}
SECONDS_RUN=${SECONDS_RUN:-20}
CLIENTS=${CLIENTS:-12}
PROFILE=${PROFILE:-debug}
UNIT=${UNIT:-1}
BENCH=${BENCH:-0}

source scripts/pg-cluster.sh

WORK=$(mktemp -d /tmp/sourcing-multi.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    pg_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! pg_cluster_start; then
    cat >&2 <<'MSG'
############################################################################
##  SKIPPED: PostgreSQL could not be installed or started on this machine.
##  The shared-ledger tests (scripts/pg-multi.sh) did NOT run.
############################################################################
MSG
    [ "${PG_REQUIRED:-0}" = 1 ] && exit 1
    exit 0
fi

if [ "$UNIT" = 1 ]; then
    echo "== PostgreSQL ledger unit tests" >&2
    SOURCING_PG_URL=$PG_ADMIN_URL cargo test -p sourcing-serve --lib pg_tests -- --test-threads 2
fi

if [ "$PROFILE" = release ]; then
    cargo build --release --bin sourcing >&2
    BIN=target/release/sourcing
else
    cargo build --bin sourcing >&2
    BIN=target/debug/sourcing
fi

# Little stock on the hot pairs, so the clients run it out and receipts refill it.
cat > "$WORK/inventory.csv" <<'CSV'
location,sku,on_hand,reserved,safety_stock
DC-KASSEL,TSHIRT-M,30,0,2
DC-KASSEL,JEANS-32,20,0,0
DC-LEIPZIG,TSHIRT-M,25,0,0
DC-LEIPZIG,SNEAKER-42,15,0,1
ST-HAMBURG,TSHIRT-M,6,0,0
ST-HAMBURG,SNEAKER-42,4,0,0
ST-MUNICH,JEANS-32,5,0,0
ST-MUNICH,SNEAKER-42,3,0,0
ST-BERLIN,JEANS-32,4,0,1
CSV

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# launch N URL PORT: one instance in the background.
launch() {
    local n=$1 url=$2 port=$3
    RUST_LOG=warn "$BIN" serve --network data/example/network.json --inventory "$WORK/inventory.csv" \
        --ledger "$url" --listen "127.0.0.1:$port" >>"$WORK/serve-$n.log" 2>&1 &
    PIDS[$n]=$!
}

# ready N PORT: waits until the instance answers /readyz.
ready() {
    local n=$1 port=$2
    for _ in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "${PIDS[$n]}" 2>/dev/null; then
            echo "instance $n exited:" >&2; cat "$WORK/serve-$n.log" >&2; return 1
        fi
        sleep 0.1
    done
    echo "instance $n not ready in 30 s" >&2; cat "$WORK/serve-$n.log" >&2; return 1
}

stop_all() {
    for n in "${!PIDS[@]}"; do kill -TERM "${PIDS[$n]}" 2>/dev/null || true; done
    for n in "${!PIDS[@]}"; do wait "${PIDS[$n]}" 2>/dev/null || true; done
    PIDS=()
}

# run COUNT KILL: COUNT instances on a new database; KILL=1 kills one midway.
run() {
    local count=$1 kill=$2 db url ports=()
    db="multi_${count}_$RANDOM"
    url=$(pg_createdb "$db")
    # All at once: one writes the snapshot, the others find it written.
    for n in $(seq 1 "$count"); do
        ports[$n]=$(free_port)
        launch "$n" "$url" "${ports[$n]}"
    done
    for n in $(seq 1 "$count"); do ready "$n" "${ports[$n]}"; done
    echo "== $count instance(s) on one database, $CLIENTS clients, ${SECONDS_RUN} s" >&2
    python3 scripts/pg_multi_driver.py drive "$WORK/run-$count.json" "$SECONDS_RUN" "$CLIENTS" \
        "${ports[@]:1}" > "$WORK/report-$count.json" &
    local driver=$!
    if [ "$kill" = 1 ] && [ "$count" -ge 2 ]; then
        sleep "$(( SECONDS_RUN / 2 ))"
        echo "== kill -9 instance 2 (pid ${PIDS[2]}), restart it" >&2
        kill -9 "${PIDS[2]}"
        sleep 1
        launch 2 "$url" "${ports[2]}"
        ready 2 "${ports[2]}"
    fi
    local driven=0
    wait "$driver" || driven=$?
    cat "$WORK/report-$count.json"
    # Reservations of 2 s expire; followers catch up.
    sleep 4
    "$BIN" ledger export --ledger "$url" > "$WORK/export-$count.jsonl"
    local checked=0 audited=0
    python3 scripts/pg_multi_driver.py check "$WORK/run-$count.json" "$WORK/export-$count.jsonl" \
        "${ports[@]:1}" || checked=$?
    stop_all
    "$BIN" ledger audit --ledger "$url" || audited=$?
    if [ "$driven" != 0 ] || [ "$checked" != 0 ] || [ "$audited" != 0 ]; then
        echo "FAILED: $count instances (clients $driven, acknowledged changes $checked, audit $audited)" >&2
        for n in $(seq 1 "$count"); do echo "-- instance $n log (tail)" >&2; tail -20 "$WORK/serve-$n.log" >&2; done
        return 1
    fi
}

if [ "$BENCH" = 1 ]; then
    for count in 1 2 3; do run "$count" 0; done
else
    run "$INSTANCES" 1
fi
echo "pg-multi: passed" >&2
