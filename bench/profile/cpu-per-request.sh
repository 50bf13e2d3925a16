#!/usr/bin/env bash
# CPU time per request, by thread, of the gateway or the bare proxy under a load:
#   bench/profile/cpu-per-request.sh gateway|floor <switchyard-load args…>
# e.g. `… gateway --mode saturate --workers 64 --body-bytes 1024 --duration 6s`.
# Reads each thread's user+system ticks (/proc/<pid>/task/*/stat) before and after
# the run, warm-up included, and divides by every request sent (run and warm-up).
# CPU time is far steadier than throughput on a shared host: steal is not counted.
set -euo pipefail
target="$1"; shift
# shellcheck source=setup.sh
source "$(dirname "$0")/setup.sh"
trap stop_all EXIT
case "$target" in
  gateway) pid="$GW_PID" base="$GW" key="$TOKEN" ;;
  floor) pid="$FLOOR_PID" base="$FLOOR" key=sk-mock ;;
  *) echo "target: gateway or floor" >&2; exit 2 ;;
esac
ticks() { for t in /proc/"$pid"/task/*; do printf '%s %s %s\n' "${t##*/}" "$(tr ' ' '_' <"$t/comm")" "$(awk '{print $14+$15}' "$t/stat")"; done | sort; }
load "$base" "$key" --mode rate --rate 200 --duration 2s >/dev/null
before="$(ticks)"
load "$base" "$key" "$@" >"$WORK/load.json"
after="$(ticks)"
hz="$(getconf CLK_TCK)"
# Requests include the warm-up second, sent at the run's own rate.
jq -r '"\(.achieved_rate) \(.count) \(.warmup_s) \(.duration_s) \(.latency_us.p99)"' "$WORK/load.json" | {
  read -r rate count warm dur p99
  total="$(python3 -c "print(round($count * ($warm + $dur) / $dur))")"
  printf '%s: %.0f req/s, p99 %s us, %s requests with warm-up\n' "$target" "$rate" "$p99" "$total"
  join <(echo "$before") <(echo "$after") | awk -v n="$total" -v hz="$hz" '
    { d = $5 - $3; if (d > 0) { cpu[$2] += d; sum += d } }
    END { for (k in cpu) printf "  %-24s %7.1f us/request\n", k, cpu[k] * 1e6 / hz / n
          printf "  %-24s %7.1f us/request\n", "all threads", sum * 1e6 / hz / n }'
}
