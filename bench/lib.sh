# Shared by bench/run.sh and bench/profile/setup.sh (sourced, not run): ports,
# readiness, and the gateway's benchmark configuration, so every measurement
# configures the gateway the same way.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Wait (up to 20 s) until `url` answers 2xx.
wait_http() { for _ in $(seq 1 400); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "not up: $1" >&2; return 1; }

# configure_gateway <gateway-url> <admin-key> <mock-url>: the realistic
# configuration (model config with RPM/TPM limits and a price, one channel to
# the mock, a token with its group); prints the token's key.
configure_gateway() {
  local gw="$1" admin="$2" mock="$3"
  api_call() { curl -fsS -X "$1" "$gw$2" -H "Authorization: Bearer $admin" -H 'content-type: application/json' ${3:+-d "$3"}; }
  api_call POST /api/model_config/mock-model '{"owner":"bench","type":1,"rpm":1000000,"tpm":100000000000,"price":{"input_price":0.001,"output_price":0.002}}' >/dev/null
  api_call POST /api/channel/ "{\"type\":1,\"name\":\"mock\",\"key\":\"sk-mock\",\"base_url\":\"$mock/v1\",\"models\":[\"mock-model\"]}" >/dev/null
  api_call POST '/api/token/bench?auto_create_group=true' '{"name":"bench"}' | jq -r .data.key
}
