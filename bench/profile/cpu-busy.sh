#!/usr/bin/env bash
# How busy each CPU, and the proxy under test, is during a load:
#   bench/profile/cpu-busy.sh direct|floor|gateway <switchyard-load args…>
# e.g. `… floor --mode streams --streams 1000 --include-usage --expect-events 54 --duration 8s`.
# Processes are placed as bench/run.sh places them (setup.sh): mock and load driver on CPU 0,
# the bare proxy and the gateway on CPU 1. Samples /proc/stat and the proxy's own
# user+system ticks over the middle of the run (from 2 s after the warm-up to 2 s before
# the end), so that connection set-up and tear-down are left out. A CPU near 100 % busy
# is a queue: whatever runs on it waits its turn, and the load's latencies show it.
set -euo pipefail
target="$1"; shift
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"
trap stop_all EXIT
case "$target" in
  direct) pid="" base="$MOCK" key=sk-mock ;;
  floor) pid="$FLOOR_PID" base="$FLOOR" key=sk-mock ;;
  gateway) pid="$GW_PID" base="$GW" key="$TOKEN" ;;
  *) echo "target: direct, floor or gateway" >&2; exit 2 ;;
esac
duration="$(printf '%s\n' "$@" | awk 'prev == "--duration" { sub(/s$/, ""); print } { prev = $0 }')"
duration="${duration:-8}"
window=$((duration - 4))
if [ "$window" -lt 1 ]; then echo "--duration must be at least 5s" >&2; exit 2; fi
# cpuN user nice system idle iowait irq softirq steal
cpus() { grep -E '^cpu[0-9]' /proc/stat; }
proc_ticks() { if [ -n "$pid" ]; then awk '{print $14+$15}' "/proc/$pid/stat"; else echo 0; fi; }
load "$base" "$key" "$@" >"$WORK/load.json" &
load_pid=$!
sleep $((1 + 2))   # warm-up, then 2 s into the run
before="$(cpus)"; proc_before="$(proc_ticks)"
sleep "$window"
after="$(cpus)"; proc_after="$(proc_ticks)"
wait "$load_pid"
hz="$(getconf CLK_TCK)"
printf '%s, %s s sampled in the middle of the run:\n' "$target" "$window"
join <(echo "$before") <(echo "$after") | awk '{
  # each side: user nice system idle iowait irq softirq steal guest guest_nice
  busy = ($12 - $2) + ($13 - $3) + ($14 - $4) + ($17 - $7) + ($18 - $8)
  idle = ($15 - $5) + ($16 - $6); steal = $19 - $9; all = busy + idle + steal
  if (all > 0) printf "  %-5s busy %5.1f %%  idle %5.1f %%  steal %5.1f %%\n", $1, 100 * busy / all, 100 * idle / all, 100 * steal / all
}'
if [ -n "$pid" ]; then
  awk -v d="$((proc_after - proc_before))" -v hz="$hz" -v w="$window" -v t="$target" \
    'BEGIN { printf "  %s process: %.1f %% of one CPU\n", t, 100 * d / hz / w }'
fi
jq -r '"  load: \(.count) requests, \(.errors // 0) errors"' "$WORK/load.json"
jq -r '"  TTFB p99 \(.ttfb_us.p99) us" + (if .stream then ", inter-chunk p99 \(.stream.gap_us.p99) us" else "" end)' "$WORK/load.json"
