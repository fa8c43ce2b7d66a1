#!/usr/bin/env bash
# End-to-end comparison (issue 12): our echo server against echo servers on
# tokio-tungstenite, fastwebsockets, sockudo-ws and tokio-websockets, on this machine;
# in the closed-loop matrix also ours on io_uring (echo-uring: examples/echo_uring,
# built with --features uring).
#
#   scripts/bench/e2e.sh                 # the whole run (about 15 minutes with REPEATS=2)
#   SHORT=1 scripts/bench/e2e.sh         # a smoke test (about a minute)
#
# Builds the release binaries, then scripts/bench/e2e.py runs every case with the server
# pinned to CPU 0 and the load generator to CPU 1 (taskset), servers interleaved per
# cell, and prints medians and ratios. Settings (environment):
#
#   REPEATS=2  DURATION=4  WARMUP=1      runs per cell, measured and warm-up seconds
#   SERVERS="echo echo-uring tungstenite fastwebsockets sockudo tokio-websockets"
#                                        (add `ours`: rfc6455 in the bench server binary;
#                                        echo-uring runs in the matrix only)
#   PARTS="matrix pipelined fanout idle" which parts to run
#   OUT=target/e2e                       where results.jsonl and summary.md go
#   SERVER_CPU=0 CLIENT_CPU=1            the CPUs to pin to
#   BASELINE=DIR                         an earlier build's echo and e2e_server, run beside
#                                        ours as echo@base / ours@base (before/after)
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in taskset python3 cargo; do
    command -v "$tool" >/dev/null || { echo "e2e.sh: $tool is needed" >&2; exit 1; }
done

# 10,000 idle connections need 10,000 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
    echo "e2e.sh: warning: ulimit -n is $(ulimit -n); the idle case needs 10,100" >&2
fi

# Binaries: cargo prints their paths as JSON.
build() {
    cargo build --release "$@" --message-format=json-render-diagnostics |
        python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["target"]["name"], m["executable"])'
}
BINS=$(build --example echo --bench e2e_load --bench e2e_server)
# Apart, so that the feature leaves the other binaries as they were.
BINS+=$'\n'$(build --features uring --example echo_uring)
bin() { echo "$BINS" | awk -v n="$1" '$1 == n { print $2 }'; }

exec python3 scripts/bench/e2e.py \
    --echo "$(bin echo)" --load "$(bin e2e_load)" --server "$(bin e2e_server)" \
    --echo-uring "$(bin echo_uring)"
