#!/usr/bin/env bash
# System calls the proxy under test makes, per request and per streamed event:
#   bench/profile/syscalls.sh floor|gateway <switchyard-load args…>
# e.g. `… gateway --mode streams --streams 200 --include-usage --expect-events 54 --duration 8s`.
# Counts every `syscalls:sys_enter_*` tracepoint of the proxy's process with `perf stat`
# (Debian's linux-perf; needs root or a permissive perf_event_paranoid) while the load
# runs, warm-up included, and divides by the requests sent and the events received
# (scaled from the measured part to the warm-up, as callgrind.sh does). A count does not
# depend on the host's speed: a proxy that reads each streamed event twice shows 2 recvfrom
# per event however fast the machine is. The gateway's log writer is in its process, so its
# pwrite64/fcntl (SQLite) are in the gateway's figures. SYSCALLS_TOP (12) rows are printed.
set -euo pipefail
target="$1"; shift
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 2; }
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"
trap stop_all EXIT
case "$target" in
  floor) pid="$FLOOR_PID" base="$FLOOR" key=sk-mock ;;
  gateway) pid="$GW_PID" base="$GW" key="$TOKEN" ;;
  *) echo "target: floor or gateway" >&2; exit 2 ;;
esac
load "$base" "$key" --mode rate --rate 100 --duration 2s >/dev/null
perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o "$WORK/perf.csv" &
perf_pid=$!
sleep 0.5   # perf attaches to every thread before the load starts
load "$base" "$key" "$@" >"$WORK/load.json"
kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
jq -r '"\(.count) \(.warmup_s) \(.duration_s) \(.stream.events_total // 0) \(.errors)"' "$WORK/load.json" | {
  read -r count warm dur events errors
  echo "$target: $count requests ($errors errors), $events events, in the measured part"
  printf '%-28s %12s %12s %12s\n' "system call" total "per request" "per event"
  awk -F, -v count="$count" -v events="$events" -v warm="$warm" -v dur="$dur" '
    $3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 {
      name = $3; sub(/^syscalls:sys_enter_/, "", name)
      n = count * (warm + dur) / dur; e = events * (warm + dur) / dur
      printf "%-28s %12d %12.2f %12s\n", name, $1, $1 / n, (e > 0 ? sprintf("%.2f", $1 / e) : "-")
    }' "$WORK/perf.csv" | sort -k2,2nr | head -"${SYSCALLS_TOP:-12}"
}
