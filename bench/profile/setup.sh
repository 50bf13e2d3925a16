# Source this from bash (`source bench/profile/setup.sh`): starts the mock upstream
# (CPU 0), the bare proxy and the gateway (CPU 1), configured as bench/run.sh
# configures them, and defines helpers for the profiling scripts beside it.
#
#   BIN      binaries (default: target/profiling; build them with
#            `cargo build --profile profiling -p switchyard -p switchyard-bench-mock -p switchyard-bench-load`)
#   GW_WRAP  a command to run the gateway under (e.g. valgrind, as callgrind.sh does)
#   WORK     scratch directory (default: a new temporary one)
#   LOAD_PATH  the path `load` sends to (default /v1/chat/completions; /v1/messages with
#            an Anthropic body in --body-file and LOAD_MODEL=mock-claude profiles the
#            Anthropic-to-Anthropic stream)
#
# Defines: MOCK FLOOR GW (base URLs), MOCK_PID FLOOR_PID GW_PID, TOKEN (the
# gateway's), `load <base-url> <key> <switchyard-load args…>` (JSON on stdout),
# and `stop_all`.
ROOT="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
BIN="${BIN:-$ROOT/target/profiling}"
WORK="${WORK:-$(mktemp -d)}"; mkdir -p "$WORK/gw"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"

port="$(free_port)"
taskset -c 0 "$BIN/switchyard-mock" --listen "127.0.0.1:$port" --threads 1 --chunks 50 --chunk-delay-ms 20 >"$WORK/mock.out" 2>&1 &
MOCK_PID=$!; MOCK="http://127.0.0.1:$port"; wait_http "$MOCK/health"
port="$(free_port)"
taskset -c 1 "$BIN/switchyard-bare-proxy" --listen "127.0.0.1:$port" --upstream "${MOCK#http://}" >"$WORK/floor.out" 2>&1 &
FLOOR_PID=$!; FLOOR="http://127.0.0.1:$port"; wait_http "$FLOOR/health"
port="$(free_port)"
# shellcheck disable=SC2086 # GW_WRAP is a command line
( cd "$WORK/gw" && LISTEN="127.0.0.1:$port" ADMIN_KEY=bench-admin SQLITE_PATH="$WORK/gw/switchyard.db" RUST_LOG=warn \
  exec taskset -c 1 ${GW_WRAP:-} "$BIN/switchyard" ) >"$WORK/gateway.out" 2>&1 &
GW_PID=$!; GW="http://127.0.0.1:$port"; wait_http "$GW/api/status"
TOKEN="$(configure_gateway "$GW" bench-admin "$MOCK")"

load() {
  local base="$1" key="$2"; shift 2
  taskset -c 0 "$BIN/switchyard-load" --url "$base${LOAD_PATH:-/v1/chat/completions}" -H "Authorization: Bearer $key" \
    --model "${LOAD_MODEL:-mock-model}" --warmup 1s --json "$@"
}
stop_all() { kill "$GW_PID" "$FLOOR_PID" "$MOCK_PID" 2>/dev/null; wait "$GW_PID" "$FLOOR_PID" "$MOCK_PID" 2>/dev/null; }
