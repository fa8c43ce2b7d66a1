#!/usr/bin/env python3
"""Medians from criterion's output, one table per bench, with ours / fastest peer.

Usage: python3 benches/medians.py [CRITERION_DIR] [PREFIX...]
  CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion or target/criterion;
  PREFIX filters groups (e.g. workloads send).

Reads <group>/<function>/new/{benchmark,estimates}.json, as left by the last
`cargo bench` run of each function. Each function whose name starts with
"rfc6455" is divided by the fastest of the others (memcpy excluded).
"""
import json, os, sys
from pathlib import Path

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
prefixes = sys.argv[2:] or [""]
groups = {}
for bench in root.glob("**/new/benchmark.json"):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    group = meta["group_id"]
    if not any(group.startswith(p) for p in prefixes):
        continue
    tp = meta.get("throughput") or {}
    groups.setdefault(group, {})[meta["function_id"]] = (est["median"]["point_estimate"], tp)

def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

for group in sorted(groups):
    fns = groups[group]
    print(f"\n{group}")
    for name, (ns, tp) in sorted(fns.items(), key=lambda kv: kv[1][0]):
        extra = ""
        if "Bytes" in tp:
            extra = f"  {tp['Bytes'] / ns:.2f} GB/s"
        elif "Elements" in tp:
            extra = f"  {ns / tp['Elements']:.1f} ns/msg"
        print(f"  {name:28} {fmt_time(ns):>10}{extra}")
    peers = {k: v[0] for k, v in fns.items() if not k.startswith("rfc6455") and k != "memcpy"}
    if peers:
        p = min(peers, key=peers.get)
        for o in sorted(k for k in fns if k.startswith("rfc6455")):
            print(f"  {o} / fastest peer ({p}): {fns[o][0] / peers[p]:.2f}")
