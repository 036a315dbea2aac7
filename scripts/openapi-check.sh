#!/usr/bin/env bash
# Checks `sourcing serve` against its own OpenAPI document with Schemathesis: every
# operation of /openapi.json gets generated requests (valid and invalid ones), and every
# answer must be no 5xx, a status the document lists, a body of the documented shape, and
# a refusal for what the document rules out. Every check runs but one: a request the
# document allows may still be refused (positive_data_acceptance), because an order's
# rules (contract section 3: known SKUs, positive quantities, a rule file that compiles)
# go beyond what a JSON schema says.
#
#   scripts/openapi-check.sh            # 20 examples per operation
#   EXAMPLES=100 scripts/openapi-check.sh
#
# Schemathesis is installed in a throwaway virtual environment (PyPI); the service runs
# on the bundled example data (../shared/spec/examples) on a loopback port, with a
# tokens file whose admin token every request carries, over a ledger in the same
# throwaway folder. The server is stopped on exit. Not part of .ci/run (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=../shared/spec/examples
EXAMPLES=${EXAMPLES:-20}
SEED=${SEED:-1}
WORK=$(mktemp -d)
SERVER=""

cleanup() {
    if [[ -n "$SERVER" ]]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

for f in network.json inventory.csv; do
    [[ -f "$DATA/$f" ]] || { echo "openapi-check: $DATA/$f is missing" >&2; exit 2; }
done

echo "== Schemathesis in $WORK/venv" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check schemathesis
"$WORK/venv/bin/schemathesis" --version >&2

echo "== sourcing (debug build)" >&2
cargo build --bin sourcing >&2
BIN=target/debug/sourcing

# An admin token and its line; the file keeps only the hash.
"$BIN" token --role admin > "$WORK/token.txt"
TOKEN=$(sed -n 1p "$WORK/token.txt")
sed -n 2p "$WORK/token.txt" > "$WORK/tokens"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$BIN" serve --network "$DATA/network.json" --inventory "$DATA/inventory.csv" \
    --ledger "$WORK/ledger.db" --tokens "$WORK/tokens" --listen "127.0.0.1:$PORT" \
    > "$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
        echo "openapi-check: the service did not start:" >&2
        cat "$WORK/serve.log" >&2
        exit 1
    fi
    sleep 0.2
done

echo "== schemathesis against http://127.0.0.1:$PORT/openapi.json ($EXAMPLES examples per operation)" >&2
status=0
# Run from the throwaway folder: Schemathesis keeps its files in the working directory.
(cd "$WORK" && "$WORK/venv/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$EXAMPLES" --seed "$SEED" --generation-database none \
    --request-timeout 10 --no-color) || status=$?

if grep -q -E "panicked|ERROR" "$WORK/serve.log"; then
    echo "openapi-check: the service logged errors:" >&2
    grep -E "panicked|ERROR" "$WORK/serve.log" | head -20 >&2
    status=1
fi
exit "$status"
