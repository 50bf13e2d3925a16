#!/usr/bin/env python3
"""Turn a bench/run.sh work directory (raw/*.json + meta.json) into the Markdown report.

Figures are gateway minus direct-to-mock, per repeat; the report gives the median
across repeats and the [min .. max] spread. Latencies are the load driver's
`latency_us` (from each request's scheduled time, so coordinated omission is
corrected) unless stated otherwise.
"""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

BUDGET = {
    "added_p99_2000": 0.5,        # ms
    "saturation_ratio": 0.45,
    "stream_ttfb_p99": 1.0,       # ms, at 1000 streams
    "stream_gap_p99": 0.5,        # ms
    "size_delta_p99": 1.0,        # ms, 1 MB vs 1 KB
    "rss_idle_mb": 30,
    "rss_streams_mb": 150,
}


def load(work):
    runs = defaultdict(lambda: defaultdict(dict))  # name -> variant -> rep -> report
    for f in sorted((work / "raw").glob("*.json")):
        name, variant, rep = f.stem.split("__")
        try:
            runs[name][variant][int(rep[1:])] = json.loads(f.read_text())
        except json.JSONDecodeError:
            continue
    return runs, json.loads((work / "meta.json").read_text())


def load_steal(work):
    """CPU steal (%) per run from raw/steal.txt: name -> variant -> [pct per repeat]."""
    steal = defaultdict(lambda: defaultdict(list))
    path = work / "raw" / "steal.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 4:
                steal[parts[0]][parts[1]].append(float(parts[3]))
    return steal


def probe_text(probe):
    if not probe:
        return "n/a"
    rates = " / ".join(f"{r:.2f}" for r in probe.get("loop_mops", []))
    return f"{rates} M loops/s per CPU, steal {probe.get('steal_pct', 0):.1f} %"


def ms(us):
    return None if us is None else us / 1000.0


def pick(report, *path):
    v = report
    for p in path:
        if v is None:
            return None
        v = v.get(p) if isinstance(v, dict) else None
    return v


def added(runs, name, *path):
    """Per-repeat gateway - direct values (ms) for one metric."""
    out = []
    for rep, gw in runs[name].get("gateway", {}).items():
        d = runs[name].get("direct", {}).get(rep)
        a, b = pick(gw, *path), pick(d, *path) if d else None
        if a is not None and b is not None:
            out.append(ms(a - b))
    return out


def values(runs, name, variant, *path, scale=ms):
    return [scale(v) for v in (pick(r, *path) for r in runs[name].get(variant, {}).values()) if v is not None]


def fmt(xs, digits=3):
    if not xs:
        return "n/a"
    med = statistics.median(xs)
    if len(xs) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(xs):.{digits}f} .. {max(xs):.{digits}f}]"


def med(xs):
    return statistics.median(xs) if xs else None


def errors(runs, name):
    total = 0
    for variant in runs[name].values():
        for r in variant.values():
            total += (r.get("errors") or 0) + (r.get("dropped") or 0)
    return total


def meets(value, limit, lower_is_better=True):
    return value <= limit if lower_is_better else value >= limit


def verdict(value, limit, lower_is_better=True, floor=None):
    """Met or missed; a miss the floor (bare proxy) misses too says so."""
    if value is None:
        return "not measured"
    if meets(value, limit, lower_is_better):
        return "met"
    if floor is not None and not meets(floor, limit, lower_is_better):
        return "**missed**; the floor misses it too"
    return "**missed**"


def main():
    work = Path(sys.argv[1])
    runs, meta = load(work)
    lines = []
    w = lines.append
    w(f"# Switchyard benchmark — {meta['date']}")
    w("")
    if meta.get("smoke"):
        w("> Smoke run (CI): seconds-long runs with debug builds. It proves the harness works; its figures mean nothing.")
        w("")
    w(f"- Commit: `{meta['commit']}`{' (uncommitted changes)' if meta.get('dirty') else ''}, build profile `{meta['profile']}`")
    w(f"- Machine: {meta['cpu']}, {meta['cpus']} CPUs, {meta['mem_gb']} GiB, Linux {meta['kernel']} (shared, noisy VM)")
    w(f"- Placement: {meta['placement']}")
    w(f"- Runs: {meta['repeats']} repeats × {meta['duration_s']} s (+{meta['warmup_s']} s warm-up), direct and gateway alternating")
    w(f"- Gateway configuration: token auth, model config with RPM/TPM limits set, request logging to SQLite on")
    w(f"- Command: `{meta['command']}`")
    if "host_before" in meta:
        w(f"- Host speed (a fixed Python loop on every CPU at once; higher is faster): before the run "
          f"{probe_text(meta['host_before'])}; after {probe_text(meta['host_after'])}. "
          f"CPU steal over the whole run: {meta.get('run_steal_pct', 0):.1f} %")
    w("")
    w("Figures are **gateway minus direct-to-mock** in the same run: median over repeats, [min .. max] spread, in ms.")
    w("Latency is measured from each request's scheduled send time (open loop, coordinated omission corrected).")
    w("")

    # Scenario 1
    rate_names = sorted((n for n in runs if n.startswith("rate_")), key=lambda n: int(n.split("_")[1]))
    p99_2000 = None
    if rate_names:
        w("## 1. Non-stream chat, 1 KB body, fixed arrival rate")
        w("")
        w("| rate (req/s) | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | added p99 (service time) | errors |")
        w("|---|---|---|---|---|---|---|---|---|")
        for n in rate_names:
            rate = n.split("_")[1]
            a99 = added(runs, n, "latency_us", "p99")
            if rate == "2000":
                p99_2000 = med(a99)
            w(f"| {rate} | {fmt(values(runs, n, 'direct', 'latency_us', 'p50'))} | {fmt(values(runs, n, 'gateway', 'latency_us', 'p50'))} "
              f"| {fmt(added(runs, n, 'latency_us', 'p50'))} | {fmt(values(runs, n, 'direct', 'latency_us', 'p99'))} "
              f"| {fmt(values(runs, n, 'gateway', 'latency_us', 'p99'))} | {fmt(a99)} | {fmt(added(runs, n, 'service_time_us', 'p99'))} | {errors(runs, n)} |")
        w("")

    # Scenario 2
    ratio = None
    if "saturate" in runs:
        d = values(runs, "saturate", "direct", "achieved_rate", scale=float)
        g = values(runs, "saturate", "gateway", "achieved_rate", scale=float)
        ratios = [gv / dv for gv, dv in zip(g, d) if dv]
        ratio = med(ratios)
        w("## 2. Saturation (closed loop, 1 KB non-stream)")
        w("")
        w("| direct req/s | gateway req/s | gateway / direct | errors |")
        w("|---|---|---|---|")
        w(f"| {fmt(d, 0)} | {fmt(g, 0)} | {fmt(ratios, 3)} | {errors(runs, 'saturate')} |")
        w("")

    # Scenario 3
    stream_names = sorted((n for n in runs if n.startswith("streams_")), key=lambda n: int(n.split("_")[1]))
    ttfb_big = gap_big = None
    if stream_names:
        w("## 3. Streaming: concurrent streams of 50 chunks, 20 ms apart")
        w("")
        w("| streams | added TTFB p50 | added TTFB p99 | added inter-chunk p99 | events per stream (direct / gateway) | mismatched streams | errors |")
        w("|---|---|---|---|---|---|---|")
        for n in stream_names:
            t99 = added(runs, n, "ttfb_us", "p99")
            g99 = added(runs, n, "stream", "gap_us", "p99")
            if n == stream_names[-1]:
                ttfb_big, gap_big = med(t99), med(g99)
            ev_d = values(runs, n, "direct", "stream", "events_avg", scale=float)
            ev_g = values(runs, n, "gateway", "stream", "events_avg", scale=float)
            mism = sum(v for v in values(runs, n, "gateway", "stream", "events_mismatched", scale=float))
            w(f"| {n.split('_')[1]} | {fmt(added(runs, n, 'ttfb_us', 'p50'))} | {fmt(t99)} | {fmt(g99)} "
              f"| {fmt(ev_d, 1)} / {fmt(ev_g, 1)} | {int(mism)} | {errors(runs, n)} |")
        ms_ = meta.get("mock_stats") or {}
        w("")
        w(f"Chunk fidelity: every stream is checked for exactly 54 events (role, 50 content, finish, usage, `[DONE]`); "
          f"a stream with a different count is an error. Mock totals: {ms_.get('sse_events_sent', 'n/a')} events sent, "
          f"{ms_.get('streams_completed', 'n/a')} streams completed, {ms_.get('streams_aborted', 'n/a')} aborted.")
        w("")

    # Scenario 4
    size_names = sorted((n for n in runs if n.startswith("size_")), key=lambda n: int(n.split("_")[1]))
    size_delta = None
    if size_names:
        w("## 4. Body size, passthrough, 100 req/s")
        w("")
        w("| prompt body | direct p99 | gateway p99 | added p50 | added p99 | errors |")
        w("|---|---|---|---|---|---|")
        per = {}
        for n in size_names:
            size = int(n.split("_")[1])
            a99 = added(runs, n, "latency_us", "p99")
            per[size] = med(a99)
            label = f"{size // 1024} KB" if size < 1048576 else f"{size // 1048576} MB"
            w(f"| {label} | {fmt(values(runs, n, 'direct', 'latency_us', 'p99'))} | {fmt(values(runs, n, 'gateway', 'latency_us', 'p99'))} "
              f"| {fmt(added(runs, n, 'latency_us', 'p50'))} | {fmt(a99)} | {errors(runs, n)} |")
        if 1048576 in per and 1024 in per and per[1048576] is not None and per[1024] is not None:
            size_delta = per[1048576] - per[1024]
            w("")
            w(f"1 MB over 1 KB: **{size_delta:.3f} ms** added p99.")
        w("")

    # Scenario 6
    cross_names = sorted((n for n in runs if n.startswith("cross_")), key=lambda n: int(n.split("_")[1]))
    if cross_names:
        w("## 6. Cross-protocol: Anthropic client (`/v1/messages`, ~1 KB) converted to the mock's OpenAI API")
        w("")
        w("Direct is the OpenAI client on the mock (as in 1); the gateway converts the request, the answer and the usage.")
        w("")
        w("| rate (req/s) | direct p50 | gateway p50 | added p50 | direct p99 | gateway p99 | added p99 | errors |")
        w("|---|---|---|---|---|---|---|---|")
        for n in cross_names:
            w(f"| {n.split('_')[1]} | {fmt(values(runs, n, 'direct', 'latency_us', 'p50'))} | {fmt(values(runs, n, 'gateway', 'latency_us', 'p50'))} "
              f"| {fmt(added(runs, n, 'latency_us', 'p50'))} | {fmt(values(runs, n, 'direct', 'latency_us', 'p99'))} "
              f"| {fmt(values(runs, n, 'gateway', 'latency_us', 'p99'))} | {fmt(added(runs, n, 'latency_us', 'p99'))} | {errors(runs, n)} |")
        w("")

    # Scenario 7
    floor_rates = [n for n in runs if n.startswith("floor_rate_")]
    floor_streams = sorted((n for n in runs if n.startswith("floor_streams_")), key=lambda n: int(n.split("_")[2]))
    floor_p99 = floor_ratio = floor_ttfb = floor_gap = None
    if floor_rates or "floor_saturate" in runs or floor_streams:
        w("## 7. Floor: a bare reverse proxy on the gateway's CPU")
        w("")
        w("`switchyard-bare-proxy` (tokio + hyper server + hyper-util pooled client, the stack the gateway is built on) "
          "forwards each request to the mock and streams the answer back: no auth, routing, limits, logging or parsing. "
          "It is what any gateway on this stack adds on this machine; the gateway's figures above, minus these, are the "
          "cost of the gateway's own work.")
        w("")
        w("| figure | bare proxy | gateway (same run) |")
        w("|---|---|---|")
        for n in floor_rates:
            rate = n.split("_")[2]
            gw_name = f"rate_{rate}"
            for q in ("p50", "p99"):
                gw = fmt(added(runs, gw_name, "latency_us", q)) if gw_name in runs else "n/a"
                w(f"| added {q} at {rate} req/s (ms) | {fmt(added(runs, n, 'latency_us', q))} | {gw} |")
            if rate == "2000":
                floor_p99 = med(added(runs, n, "latency_us", "p99"))
        if "floor_saturate" in runs:
            d = values(runs, "floor_saturate", "direct", "achieved_rate", scale=float)
            g = values(runs, "floor_saturate", "gateway", "achieved_rate", scale=float)
            floor_ratios = [gv / dv for gv, dv in zip(g, d) if dv]
            floor_ratio = med(floor_ratios)
            w(f"| saturation, through / direct | {fmt(floor_ratios, 3)} | {'n/a' if ratio is None else f'{ratio:.3f}'} |")
        for n in floor_streams:
            count = n.split("_")[2]
            gw_name = f"streams_{count}"
            for label, path in (("TTFB p99", ("ttfb_us", "p99")), ("inter-chunk p99", ("stream", "gap_us", "p99"))):
                gw = fmt(added(runs, gw_name, *path)) if gw_name in runs else "n/a"
                w(f"| added {label} at {count} streams (ms) | {fmt(added(runs, n, *path))} | {gw} |")
            if n == floor_streams[-1]:
                floor_ttfb, floor_gap = med(added(runs, n, "ttfb_us", "p99")), med(added(runs, n, "stream", "gap_us", "p99"))
        w("")

    # Scenario 5
    w("## 5. Memory (gateway RSS)")
    w("")
    idle = meta["rss_idle_kb"] / 1024
    peak = meta["rss_streams_max_kb"] / 1024
    soak = [v / 1024 for v in meta.get("soak_rss_kb") or []]
    w("| idle | peak during the streaming scenario | soak: first sample | soak: last sample | drift | end of run |")
    w("|---|---|---|---|---|---|")
    drift = (soak[-1] - soak[1]) if len(soak) > 2 else None
    w(f"| {idle:.1f} MB | {peak:.1f} MB | {soak[0]:.1f} MB | {soak[-1]:.1f} MB | "
      f"{'n/a' if drift is None else f'{drift:+.1f} MB'} | {meta['rss_end_kb'] / 1024:.1f} MB |" if soak else
      f"| {idle:.1f} MB | {peak:.1f} MB | n/a | n/a | n/a | {meta['rss_end_kb'] / 1024:.1f} MB |")
    w("")
    if soak:
        w(f"Soak: {meta['soak_s']} s at 1000 req/s through the gateway, RSS sampled every 5 s: " + ", ".join(f"{v:.1f}" for v in soak) + " MB.")
        w("")

    steal = load_steal(work)
    if steal:
        w("## Host during the run")
        w("")
        w("CPU steal (time the hypervisor gave to other guests, both CPUs, from `/proc/stat`) while each "
          "scenario ran: median [min .. max] over repeats, in %. High steal makes every figure of that "
          "scenario, the direct ones included, slower and noisier.")
        w("")
        w("| scenario | direct | through the gateway (or the bare proxy) |")
        w("|---|---|---|")
        for name in sorted(steal):
            w(f"| {name} | {fmt(steal[name].get('direct', []), 1)} | {fmt(steal[name].get('gateway', []), 1)} |")
        w("")

    w("## Accounting check")
    w("")
    w(f"Log rows written by the gateway during the run: {meta['log_rows']} (every gateway request, warm-up included, leaves one).")
    w("")

    w("## Against the budget")
    w("")
    w("The last column is the bare proxy of scenario 7 measured the same way in the same run: "
      "a target the floor itself misses was out of reach in this run for any gateway on this stack; "
      "the host varies from hour to hour, so another run may differ.")
    w("")
    w("| target | budget | measured | verdict | floor (bare proxy) |")
    w("|---|---|---|---|---|")
    def row(label, budget, value, unit, lower=True, floor=None):
        shown = "n/a" if value is None else f"{value:.3f} {unit}".strip()
        floor_shown = "" if floor is None else f"{floor:.3f} {unit}".strip()
        w(f"| {label} | {budget} | {shown} | {verdict(value, float(budget.split()[1]), lower, floor)} | {floor_shown} |")
    row("added p99, 2000 req/s, 1 KB", f"≤ {BUDGET['added_p99_2000']} ms", p99_2000, "ms", floor=floor_p99)
    row("saturation, gateway / direct", f"≥ {BUDGET['saturation_ratio']}", ratio, "", lower=False, floor=floor_ratio)
    row("streams: added TTFB p99 (largest run)", f"≤ {BUDGET['stream_ttfb_p99']} ms", ttfb_big, "ms", floor=floor_ttfb)
    row("streams: added inter-chunk p99", f"≤ {BUDGET['stream_gap_p99']} ms", gap_big, "ms", floor=floor_gap)
    row("1 MB vs 1 KB prompt, added p99", f"≤ {BUDGET['size_delta_p99']} ms", size_delta, "ms")
    row("RSS idle", f"≤ {BUDGET['rss_idle_mb']} MB", idle, "MB")
    row("RSS at the largest stream run", f"≤ {BUDGET['rss_streams_mb']} MB", peak if peak else None, "MB")
    w("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
