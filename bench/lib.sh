# Shared by bench/run.sh and bench/profile/setup.sh (sourced, not run): ports,
# readiness, and the gateway's benchmark configuration, so every measurement
# configures the gateway the same way.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Wait (up to 20 s) until `url` answers 2xx.
wait_http() { for _ in $(seq 1 400); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "not up: $1" >&2; return 1; }

# configure_gateway <gateway-url> <admin-key> <mock-url>: the realistic
# configuration (model config with RPM/TPM limits and a price, one channel to
# the mock, a token with its group); prints the token's key. `mock-claude` is
# served by an Anthropic channel on the same mock (Anthropic clients are
# forwarded to it; the profiling scripts use it with LOAD_PATH=/v1/messages).
configure_gateway() {
  local gw="$1" admin="$2" mock="$3" limits='"rpm":1000000,"tpm":100000000000,"price":{"input_price":0.001,"output_price":0.002}'
  api_call() { curl -fsS -X "$1" "$gw$2" -H "Authorization: Bearer $admin" -H 'content-type: application/json' ${3:+-d "$3"}; }
  api_call POST /api/model_config/mock-model "{\"owner\":\"bench\",\"type\":1,$limits}" >/dev/null
  api_call POST /api/channel/ "{\"type\":1,\"name\":\"mock\",\"key\":\"sk-mock\",\"base_url\":\"$mock/v1\",\"models\":[\"mock-model\"]}" >/dev/null
  api_call POST /api/model_config/mock-claude "{\"owner\":\"bench\",\"type\":1,$limits}" >/dev/null
  api_call POST /api/channel/ "{\"type\":14,\"name\":\"mock-anthropic\",\"key\":\"sk-mock\",\"base_url\":\"$mock/v1\",\"models\":[\"mock-claude\"]}" >/dev/null
  api_call POST '/api/token/bench?auto_create_group=true' '{"name":"bench"}' | jq -r .data.key
}

# CPU ticks of the whole machine: "<steal> <total>" from /proc/stat (user to
# steal; guest time is already counted in user).
cpu_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }

# steal_pct "<steal> <total>" "<steal> <total>": the share of CPU time the
# hypervisor gave to other guests between two cpu_ticks readings, in %.
steal_pct() { echo "$1 $2" | awk '{ d = $4 - $2; printf "%.1f", (d > 0 ? 100 * ($3 - $1) / d : 0) }'; }

# host_probe <seconds>: how fast the host is right now, as JSON. A fixed
# Python loop runs on every CPU at once (pinned when taskset exists) and
# reports millions of iterations per second per CPU, with the CPU steal over
# the same seconds. Same machine, same loop: runs at different hours compare.
host_probe() {
  local secs="$1" before after cpu rates=() pids=() dir
  dir="$(mktemp -d)"; before="$(cpu_ticks)"
  for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
    $(command -v taskset >/dev/null && echo "taskset -c $cpu") python3 -c '
import sys, time
n, end = 0, time.perf_counter() + float(sys.argv[1])
while time.perf_counter() < end:
    for _ in range(20000):
        n += 1
print(f"{n / float(sys.argv[1]) / 1e6:.2f}")' "$secs" >"$dir/$cpu" &
    pids+=($!)
  done
  wait "${pids[@]}"; after="$(cpu_ticks)"
  for cpu in $(seq 0 $(( $(nproc) - 1 ))); do rates+=("$(cat "$dir/$cpu")"); done
  rm -rf "$dir"
  printf '{"loop_mops":[%s],"steal_pct":%s}' "$(IFS=,; echo "${rates[*]}")" "$(steal_pct "$before" "$after")"
}
