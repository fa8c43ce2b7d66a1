#!/usr/bin/env python3
"""Prints criterion's median times from target/criterion, one group per block, with each
function's ratio to the group's best peer. Usage: scripts/bench-table.py [GROUP_PREFIX]

Peers are the functions named `tungstenite` and `fastwebsockets`; `httparse*` counts as a
peer too (the handshake baseline)."""
import json, os, sys

root = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
prefix = sys.argv[1] if len(sys.argv) > 1 else ""
for group in sorted(os.listdir(root)):
    if not group.startswith(prefix) or group == "report":
        continue
    medians = {}
    for func in sorted(os.listdir(os.path.join(root, group))):
        est = os.path.join(root, group, func, "new", "estimates.json")
        if os.path.exists(est):
            with open(est) as f:
                medians[func] = json.load(f)["median"]["point_estimate"]
    peers = [v for k, v in medians.items() if k in ("tungstenite", "fastwebsockets") or k.startswith("httparse")]
    best = min(peers) if peers else None
    print(group)
    for func, ns in medians.items():
        ratio = f"  {ns / best:5.2f}x best peer" if best else ""
        print(f"  {func:28} {ns / 1e3:12.1f} µs{ratio}")
