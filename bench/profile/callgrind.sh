#!/usr/bin/env bash
# Instructions per request, by function, under valgrind's callgrind:
#   bench/profile/callgrind.sh gateway|floor <out-file> <switchyard-load args…>
# e.g. `… gateway /tmp/cg.gw --mode rate --rate 1000 --duration 5s --body-bytes 1024`.
# The counters are zeroed after a short warm-up, dumped after the run (<out-file>.1),
# and the total printed per request sent (warm-up second included). Counts are
# repeatable whatever else the machine does; `rep movsb` copies count one
# instruction per iteration, so large memcpys look costlier than they run.
# The gateway's dump waits for its log writer to drain the queue, so that
# every run counts the writing of every request's row.
# Read the dump with `callgrind_annotate --inclusive=yes <out-file>.1`.
# CG_CACHE=1 adds valgrind's cache simulation: L1 and last-level misses per
# function (the VM exposes no hardware counters to `perf stat`).
set -euo pipefail
target="$1" out="$2"; shift 2
wrap="valgrind --tool=callgrind ${CG_CACHE:+--cache-sim=yes} --separate-threads=no --callgrind-out-file=$out"
case "$target" in
  gateway) export GW_WRAP="$wrap" ;;
  floor) export GW_WRAP="" ;;
  *) echo "target: gateway or floor" >&2; exit 2 ;;
esac
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"
trap stop_all EXIT
if [ "$target" = floor ]; then
  kill "$FLOOR_PID"; wait "$FLOOR_PID" 2>/dev/null || true
  port="$(free_port)"
  taskset -c 1 $wrap "$BIN/switchyard-bare-proxy" --listen "127.0.0.1:$port" --upstream "${MOCK#http://}" >"$WORK/floor.out" 2>&1 &
  FLOOR_PID=$!; FLOOR="http://127.0.0.1:$port"; wait_http "$FLOOR/health"
  pid="$FLOOR_PID" base="$FLOOR" key=sk-mock
else
  pid="$GW_PID" base="$GW" key="$TOKEN"
fi
load "$base" "$key" --mode rate --rate 100 --duration 3s >/dev/null
callgrind_control -z "$pid" >/dev/null 2>&1
load "$base" "$key" "$@" >"$WORK/load.json"
if [ "$target" = gateway ]; then
  # The log writer runs behind the requests (more so under valgrind): wait until
  # every queued entry is written, so that each run counts the same rows.
  log_state() { curl -s "$base/metrics" | awk '/^switchyard_log_queue_depth /{q=$2} /^switchyard_log_entries_written_total /{w=$2} END{print q+0, w+0}'; }
  # Empty and unchanged for three seconds: a batch under valgrind can take
  # more than one.
  previous="" still=0
  for _ in $(seq 1 300); do
    current="$(log_state)"
    if [ "${current%% *}" = 0 ] && [ "$current" = "$previous" ]; then
      still=$((still + 1)); [ "$still" -ge 3 ] && break
    else
      still=0
    fi
    previous="$current"; sleep 1
  done
fi
callgrind_control -d "$pid" >/dev/null 2>&1
total="$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
jq -r '"\(.count) \(.warmup_s) \(.duration_s) \(.errors)"' "$WORK/load.json" | {
  read -r count warm dur errors
  python3 -c "n = round($count * ($warm + $dur) / $dur); print(f'$target: {n} requests, {$total / n:,.0f} instructions per request (all threads), $errors errors')"
}
