#!/usr/bin/env bash
# CI smoke of the benchmark harness: mock up, a handful of requests through the
# gateway, report produced. Asserts that it ran, not how fast.
set -euo pipefail
cd "$(dirname "$0")/.."
report="$(bench/run.sh --smoke | tail -n 1)"
test -s "$report" || { echo "no report produced" >&2; exit 1; }
grep -q "## 1. Non-stream chat" "$report"
grep -q "## 3. Streaming" "$report"
grep -q "## 6. Cross-protocol" "$report"
grep -q "## 7. Floor" "$report"
grep -q "added TTFB p99 at [0-9]* streams" "$report"
# Every gateway request left a log row, and runs completed without errors.
python3 - "$report" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rows = int(re.search(r"Log rows written by the gateway during the run: (\d+)", text).group(1))
assert rows > 0, "the gateway logged nothing"
errors = [int(x) for x in re.findall(r"\| (\d+) \|\n", text)]
assert all(e == 0 for e in errors), f"benchmark runs had errors: {errors}"
print(f"bench smoke ok: {rows} log rows")
PY
# The budget verdicts: a miss the floor misses too is marked as such, and only then.
python3 - <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, "bench")
from report import verdict
assert verdict(0.237, 0.5, floor=0.160) == "met"
assert verdict(0.333, 0.45, lower_is_better=False, floor=0.901) == "**missed**"
assert verdict(149.7, 1.0, floor=24.5) == "**missed**; the floor misses it too"
assert verdict(None, 1.0) == "not measured"
print("bench verdicts ok")
PY
