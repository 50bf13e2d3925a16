#!/usr/bin/env bash
# Switchyard benchmark harness: the gateway against direct-to-mock, in the same run.
#
#   bench/run.sh                 full run (~20 min), report in bench/results/<date>.md and latest.md
#   bench/run.sh --smoke         a few seconds with debug builds, report in a temp dir (CI)
#
# Options: --repeats N (3)  --duration S (10)  --warmup S (2)  --soak S (300)
#          --scenarios "1 2 3 4 5 6 7" (all)  --profile release|dev  --out DIR
#
# Every scenario runs direct-to-mock and through the gateway, alternating, repeated;
# the report gives medians and spread of the gateway-minus-direct figures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

SMOKE=0; REPEATS=3; DURATION=10; WARMUP=2; SOAK=300; SCENARIOS="1 2 3 4 5 6 7"; PROFILE=release; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --repeats) REPEATS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --warmup) WARMUP="$2"; shift ;;
    --soak) SOAK="$2"; shift ;;
    --scenarios) SCENARIOS="$2"; shift ;;
    --profile) PROFILE="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$SMOKE" = 1 ]; then
  REPEATS=1; DURATION=1; WARMUP=0.5; SOAK=3; PROFILE=dev
fi
RATES="500 1000 2000 4000"; STREAMS="100 1000"; SIZES="1024 102400 1048576"; SAT_WORKERS=64; FLOOR_RATE=2000
if [ "$SMOKE" = 1 ]; then RATES="200"; STREAMS="20"; SIZES="1024 102400"; SAT_WORKERS=8; FLOOR_RATE=200; fi

WORK="$(mktemp -d)"; RAW="$WORK/raw"; mkdir -p "$RAW"
DATE="$(date -u +%Y-%m-%d)"
[ -n "$OUT" ] || OUT="$([ "$SMOKE" = 1 ] && echo "$WORK" || echo "$ROOT/bench/results")"
mkdir -p "$OUT"

log() { printf '[bench] %s\n' "$*" >&2; }
has() { case " $SCENARIOS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- build once -------------------------------------------------------------
log "building ($PROFILE)"
cargo build --quiet --profile "$PROFILE" -p switchyard -p switchyard-bench-mock -p switchyard-bench-load
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")"

# --- CPU placement ----------------------------------------------------------
CPUS="$(nproc)"
if [ "$CPUS" -ge 3 ]; then GW_CPUS=0; MOCK_CPUS=1; LOAD_CPUS=2; PLACEMENT="gateway on CPU 0, mock on CPU 1, load driver on CPU 2 (disjoint)"
elif [ "$CPUS" -eq 2 ]; then GW_CPUS=1; MOCK_CPUS=0; LOAD_CPUS=0; PLACEMENT="gateway on CPU 1; mock and load driver share CPU 0 (only 2 CPUs)"
else GW_CPUS=0; MOCK_CPUS=0; LOAD_CPUS=0; PLACEMENT="everything on the only CPU"; fi
pin() { local cpus="$1"; shift; if command -v taskset >/dev/null && [ "$CPUS" -gt 1 ]; then taskset -c "$cpus" "$@"; else "$@"; fi; }
# Prefix that pins an exec'd process (keeps its PID, unlike a shell function).
pin_prefix() { if command -v taskset >/dev/null && [ "$CPUS" -gt 1 ]; then echo "taskset -c $1"; fi; }

# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"

# --- how fast the host is (before anything else runs, and again at the end) --
PROBE_S=3; [ "$SMOKE" = 1 ] && PROBE_S=0.5
log "host probe (${PROBE_S}s)"
HOST_BEFORE="$(host_probe "$PROBE_S")"
RUN_TICKS_START="$(cpu_ticks)"

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# --- mock upstream ----------------------------------------------------------
MOCK_PORT="$(free_port)"
$(pin_prefix "$MOCK_CPUS") "$BIN/switchyard-mock" --listen "127.0.0.1:$MOCK_PORT" --threads 1 --chunks 50 --chunk-delay-ms 20 >"$WORK/mock.out" 2>&1 &
PIDS+=($!); MOCK="http://127.0.0.1:$MOCK_PORT"
wait_http "$MOCK/health"

# --- the floor: a bare reverse proxy on the gateway's CPU (scenario 7) --------
if has 7; then
  FLOOR_PORT="$(free_port)"
  $(pin_prefix "$GW_CPUS") "$BIN/switchyard-bare-proxy" --listen "127.0.0.1:$FLOOR_PORT" --upstream "127.0.0.1:$MOCK_PORT" >"$WORK/floor.out" 2>&1 &
  PIDS+=($!); FLOOR="http://127.0.0.1:$FLOOR_PORT"
  wait_http "$FLOOR/health"
fi

# --- gateway in its realistic configuration --------------------------------
GW_PORT="$(free_port)"; ADMIN=bench-admin
mkdir -p "$WORK/gw"
( cd "$WORK/gw" && LISTEN="127.0.0.1:$GW_PORT" ADMIN_KEY="$ADMIN" SQLITE_PATH="$WORK/gw/switchyard.db" RUST_LOG=warn \
  exec $(pin_prefix "$GW_CPUS") "$BIN/switchyard" ) >"$WORK/gateway.out" 2>&1 &
GW_PID=$!; PIDS+=($GW_PID); GW="http://127.0.0.1:$GW_PORT"
wait_http "$GW/api/status"
TOKEN="$(configure_gateway "$GW" "$ADMIN" "$MOCK")"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status"; }
# The gateway's peak RSS into $WORK/rss_peak, every 0.2 s until it exits. Started in the
# background during the streaming scenario, on the load driver's CPU, and it starts no
# process per sample (bash builtins only; a FIFO nobody writes times the wait): a sampler
# forking `awk` and `sleep` five times a second landed on the gateway's CPU, and its
# exec's took up to 3 ms there, in the gateway's measured runs only.
rss_peak_sampler() {
  [ "$CPUS" -gt 1 ] && command -v taskset >/dev/null && taskset -cp "$LOAD_CPUS" "$BASHPID" >/dev/null
  local tick="$WORK/sampler_tick" fd peak=0 key value _
  rm -f "$tick"; mkfifo "$tick"; exec {fd}<>"$tick"
  while [ -e "/proc/$GW_PID/status" ]; do
    value=0
    while read -r key value _; do [ "$key" = VmRSS: ] && break; done <"/proc/$GW_PID/status"
    if [ "${value:-0}" -gt "$peak" ]; then peak="$value"; echo "$peak" >"$WORK/rss_peak"; fi
    read -r -t 0.2 -u "$fd" _ || true
  done
}
sleep 1
RSS_IDLE="$(rss_kb)"

# --- runs -------------------------------------------------------------------
# run <name> <variant direct|gateway> <repeat> <load args…>
run() {
  local name="$1" variant="$2" rep="$3"; shift 3
  local url auth=()
  if [ "$variant" = direct ]; then url="$MOCK/v1/chat/completions"; auth=(-H "Authorization: Bearer sk-mock")
  else url="${TARGET_BASE:-$GW}${GW_PATH:-/v1/chat/completions}"; auth=(-H "Authorization: Bearer ${TARGET_KEY:-$TOKEN}"); fi
  local ticks; ticks="$(cpu_ticks)"
  pin "$LOAD_CPUS" "$BIN/switchyard-load" --url "$url" "${auth[@]}" --model mock-model \
    --duration "${DURATION}s" --warmup "${WARMUP}s" --json --label "$name/$variant" "$@" >"$RAW/${name}__${variant}__r${rep}.json"
  echo "$name $variant $rep $(steal_pct "$ticks" "$(cpu_ticks)")" >>"$RAW/steal.txt"
}
# both <name> <repeat> <load args…>: direct and gateway, alternating which goes first.
both() {
  local name="$1" rep="$2"; shift 2
  if [ $((rep % 2)) -eq 0 ]; then run "$name" direct "$rep" "$@"; run "$name" gateway "$rep" "$@"
  else run "$name" gateway "$rep" "$@"; run "$name" direct "$rep" "$@"; fi
}
# cross <name> <repeat> <rate>: an Anthropic client through the gateway (converted to
# the mock's OpenAI API) against the OpenAI client direct to the mock.
ANTHROPIC_BODY="$WORK/messages_1k.json"
python3 - "$ANTHROPIC_BODY" <<'PY'
import json, sys
pad = "lorem ipsum dolor sit amet " * 30
body = {"model": "mock-model", "max_tokens": 256, "system": "You are a benchmark.",
        "messages": [{"role": "user", "content": pad[:900]}]}
open(sys.argv[1], "w").write(json.dumps(body))
PY
cross() {
  local name="$1" rep="$2" rate="$3"
  local gateway=(--mode rate --rate "$rate" --body-file "$ANTHROPIC_BODY") direct=(--mode rate --rate "$rate" --body-bytes 1024)
  if [ $((rep % 2)) -eq 0 ]; then run "$name" direct "$rep" "${direct[@]}"; GW_PATH=/v1/messages run "$name" gateway "$rep" "${gateway[@]}"
  else GW_PATH=/v1/messages run "$name" gateway "$rep" "${gateway[@]}"; run "$name" direct "$rep" "${direct[@]}"; fi
}

RSS_STREAMS_MAX=0
for rep in $(seq 1 "$REPEATS"); do
  if has 1; then for rate in $RATES; do log "1 non-stream ${rate}/s (repeat $rep)"; both "rate_${rate}" "$rep" --mode rate --rate "$rate" --body-bytes 1024; done; fi
  if has 2; then log "2 saturation (repeat $rep)"; both saturate "$rep" --mode saturate --workers "$SAT_WORKERS" --body-bytes 1024; fi
  if has 3; then
    for n in $STREAMS; do
      log "3 streams ×$n (repeat $rep)"
      rss_peak_sampler &
      SAMPLER=$!
      # Pacing (50 chunks, 20 ms apart) is set on the mock itself: the gateway
      # does not forward client headers upstream.
      both "streams_${n}" "$rep" --mode streams --streams "$n" --include-usage --expect-events 54 --body-bytes 1024
      kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
      peak="$(cat "$WORK/rss_peak" 2>/dev/null || echo 0)"; [ "$peak" -gt "$RSS_STREAMS_MAX" ] && RSS_STREAMS_MAX="$peak"
      rm -f "$WORK/rss_peak"
    done
  fi
  if has 4; then for size in $SIZES; do log "4 body ${size} B (repeat $rep)"; both "size_${size}" "$rep" --mode rate --rate 100 --body-bytes "$size"; done; fi
  if has 6; then for rate in $RATES; do log "6 Anthropic client to OpenAI mock ${rate}/s (repeat $rep)"; cross "cross_${rate}" "$rep" "$rate"; done; fi
  if has 7; then
    log "7 floor: bare proxy at ${FLOOR_RATE}/s and saturated (repeat $rep)"
    TARGET_BASE="$FLOOR" TARGET_KEY=sk-mock both "floor_rate_${FLOOR_RATE}" "$rep" --mode rate --rate "$FLOOR_RATE" --body-bytes 1024
    TARGET_BASE="$FLOOR" TARGET_KEY=sk-mock both floor_saturate "$rep" --mode saturate --workers "$SAT_WORKERS" --body-bytes 1024
    for n in $STREAMS; do
      log "7 floor: bare proxy, streams ×$n (repeat $rep)"
      TARGET_BASE="$FLOOR" TARGET_KEY=sk-mock both "floor_streams_${n}" "$rep" --mode streams --streams "$n" --include-usage --expect-events 54 --body-bytes 1024
    done
  fi
done

SOAK_SAMPLES=""
if has 5; then
  log "5 soak ${SOAK}s at 1000/s"
  ( for _ in $(seq 1 $(( ${SOAK%.*} / 5 + 1 ))); do echo "$(date +%s) $(rss_kb)"; sleep 5; done ) >"$WORK/soak_rss" &
  SAMPLER=$!
  pin "$LOAD_CPUS" "$BIN/switchyard-load" --url "$GW/v1/chat/completions" -H "Authorization: Bearer $TOKEN" --model mock-model \
    --mode rate --rate 1000 --duration "${SOAK}s" --warmup 1s --body-bytes 1024 --json --label soak >"$RAW/soak__gateway__r1.json"
  kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
  SOAK_SAMPLES="$(awk '{print $2}' "$WORK/soak_rss" | paste -sd, -)"
fi
RSS_END="$(rss_kb)"
RUN_STEAL="$(steal_pct "$RUN_TICKS_START" "$(cpu_ticks)")"
log "host probe (${PROBE_S}s)"
HOST_AFTER="$(host_probe "$PROBE_S")"
LOG_ROWS="$(curl -fsS "$GW/api/logs/search?per_page=1" -H "Authorization: Bearer $ADMIN" | jq .data.total)"
MOCK_STATS="$(curl -fsS "$MOCK/stats")"

# --- report -----------------------------------------------------------------
cat >"$WORK/meta.json" <<JSON
{"date":"$DATE","commit":"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)","dirty":$([ -n "$(git status --porcelain 2>/dev/null)" ] && echo true || echo false),
 "cpu":"$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')","cpus":$CPUS,"mem_gb":$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo),
 "kernel":"$(uname -r)","placement":"$PLACEMENT","profile":"$PROFILE","smoke":$SMOKE,"repeats":$REPEATS,"duration_s":$DURATION,"warmup_s":$WARMUP,
 "soak_s":$SOAK,"scenarios":"$SCENARIOS","rss_idle_kb":${RSS_IDLE:-0},"rss_streams_max_kb":${RSS_STREAMS_MAX:-0},"rss_end_kb":${RSS_END:-0},
 "soak_rss_kb":[${SOAK_SAMPLES}],"log_rows":${LOG_ROWS:-0},"mock_stats":$MOCK_STATS,
 "host_before":$HOST_BEFORE,"host_after":$HOST_AFTER,"run_steal_pct":$RUN_STEAL,
 "command":"bench/run.sh $([ "$SMOKE" = 1 ] && echo --smoke) --repeats $REPEATS --duration $DURATION --soak $SOAK --scenarios '$SCENARIOS' --profile $PROFILE"}
JSON
REPORT="$OUT/$DATE.md"
python3 "$ROOT/bench/report.py" "$WORK" >"$REPORT"
if [ "$SMOKE" = 0 ]; then cp "$REPORT" "$OUT/latest.md"; mkdir -p "$OUT/raw/$DATE"; cp "$RAW"/*.json "$RAW/steal.txt" "$WORK/meta.json" "$OUT/raw/$DATE/"; fi
log "report: $REPORT"
echo "$REPORT"
