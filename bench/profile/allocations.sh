#!/usr/bin/env bash
# Heap allocations the gateway makes per request and per streamed event, by thread:
#   bench/profile/allocations.sh <switchyard-load args…>
# e.g. `… --mode rate --rate 1000 --body-bytes 1024 --duration 4s`.
# Puts uprobes on the gateway binary's jemalloc entry points (`_rjem_malloc`,
# `_rjem_calloc`, `_rjem_realloc`, `_rjem_mallocx`, `_rjem_rallocx` count as allocations,
# `_rjem_sdallocx` as frees) and counts them per thread with `perf stat` while the load
# runs, warm-up included (scaled as syscalls.sh does). Needs root (uprobes) and Debian's
# linux-perf. SQLite's own allocations go to glibc's malloc and are not counted. The count
# starts and ends with the log queue drained, so the log writer's figure is the writing of
# the load's rows. Like a system call count, an allocation count does not depend on the
# host's speed.
# ALLOC_SITES=<file> also records the call stacks of the allocations (perf record, DWARF)
# into <file>; read them with `perf script -i <file> --no-inline -F comm,ip,sym`.
set -euo pipefail
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 2; }
ROOT="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
binary="${BIN:-$ROOT/target/profiling}/switchyard"
group=switchyard_alloc
perf probe -q -d "$group:*" 2>/dev/null || true
for fn in _rjem_malloc _rjem_calloc _rjem_realloc _rjem_mallocx _rjem_rallocx _rjem_sdallocx; do
  perf probe -q -f -x "$binary" --add "$group:${fn#_rjem_}=$fn"
done
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"
trap 'stop_all; perf probe -q -d "$group:*" 2>/dev/null || true' EXIT
# Wait until the log writer has written every queued row and stopped (one second
# without a new row), so that the count holds the writing of exactly the load's rows.
drain_log() {
  local previous="" current
  for _ in $(seq 1 30); do
    current="$(curl -s "$GW/metrics" | awk '/^switchyard_log_queue_depth /{q=$2}
      /^switchyard_log_entries_written_total /{w=$2} END{print q+0, w+0}')"
    [ "${current%% *}" = 0 ] && [ "$current" = "$previous" ] && return
    previous="$current"; sleep 1
  done
}
load "$GW" "$TOKEN" --mode rate --rate 100 --duration 2s >/dev/null
drain_log
if [ -n "${ALLOC_SITES:-}" ]; then
  perf record -q -e "$group:*" --call-graph dwarf,8192 -p "$GW_PID" -o "$ALLOC_SITES" 2>/dev/null &
else
  perf stat -x, --per-thread -e "$group:*" -p "$GW_PID" -o "$WORK/perf.csv" &
fi
perf_pid=$!
sleep 0.5   # perf attaches to every thread before the load starts
load "$GW" "$TOKEN" "$@" >"$WORK/load.json"
drain_log
kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
[ -n "${ALLOC_SITES:-}" ] && { echo "call stacks in $ALLOC_SITES"; exit 0; }
jq -r '"\(.count) \(.warmup_s) \(.duration_s) \(.stream.events_total // 0) \(.errors)"' "$WORK/load.json" | {
  read -r count warm dur events errors
  echo "gateway: $count requests ($errors errors), $events events, in the measured part"
  printf '%-18s %14s %12s %12s %12s\n' thread allocations "per request" "per event" "frees/req"
  # perf names a thread `<comm>-<tid>`; threads of one name (sqlx's workers) are summed.
  awk -F, -v count="$count" -v events="$events" -v warm="$warm" -v dur="$dur" '
    $2 + 0 > 0 {
      thread = $1; sub(/-[0-9]+$/, "", thread); sub(/-+$/, "", thread)
      if ($4 ~ /:sdallocx$/) frees[thread] += $2; else allocs[thread] += $2
    }
    END {
      n = count * (warm + dur) / dur; e = events * (warm + dur) / dur
      for (t in allocs)
        printf "%-18s %14d %12.1f %12s %12.1f\n", t, allocs[t], allocs[t] / n,
          (e > 0 ? sprintf("%.2f", allocs[t] / e) : "-"), frees[t] / n
    }' "$WORK/perf.csv" | sort -k2,2nr
}
