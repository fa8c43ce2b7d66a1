#!/usr/bin/env bash
# Runs the Autobahn|Testsuite (categories 1-10) against examples/echo (server role, the
# suite's fuzzingclient) and examples/autobahn_client (client role, the suite's
# fuzzingserver), and fails unless every case is OK (or INFORMATIONAL, which the suite
# does not grade). Reports go to $CARGO_TARGET_DIR (or target)/autobahn/{servers,clients}/index.html.
#
# The suite is Python 2 only. It is installed from the Python package index into target/autobahn/py with the
# machine's Python 2.7 (pyenv's, or python2.7 on PATH); without one, the run is skipped
# with a SKIP line and exit 0, since no registry here serves a Python 2 interpreter.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
target="$(mkdir -p "$target" && cd "$target" && pwd)"
out="$target/autobahn"
mkdir -p "$out"

py2=""
for candidate in "$(command -v python2.7 2>/dev/null || true)" "$HOME"/.pyenv/versions/2.7*/bin/python; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; sys.exit(sys.version_info[0] != 2)' 2>/dev/null; then
    py2=$candidate
    break
  fi
done
if [ -z "$py2" ]; then
  echo "SKIP autobahn: no Python 2.7 interpreter on this machine"
  exit 0
fi

if [ ! -f "$out/py/autobahntestsuite/__init__.py" ]; then
  echo "installing autobahntestsuite 25.10.1 with $py2"
  "$py2" -m pip install --quiet --disable-pip-version-check --target "$out/py" \
    'autobahntestsuite==25.10.1' >"$out/pip.log" 2>&1 || { cat "$out/pip.log"; exit 1; }
  # --target skips namespace-package .pth files; zope.interface needs its namespace.
  touch "$out/py/zope/__init__.py"
fi
wstest="$out/wstest"
cat >"$wstest" <<SH
#!/bin/sh
PYTHONPATH="$out/py" exec "$py2" -c 'import sys; from autobahntestsuite.wstest import run; sys.argv[0] = "wstest"; run()' "\$@"
SH
chmod +x "$wstest"

cargo build --release --features tokio --example echo --example autobahn_client

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { # wait until 127.0.0.1:$1 accepts, at most 20 s
  for _ in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "FAIL autobahn: nothing listening on port $1"; exit 1
}

# Server role: the suite connects to our echo server.
rm -rf "$out/servers" "$out/clients"
"$target/release/examples/echo" --addr 127.0.0.1:9031 --quiet >"$out/echo.log" 2>&1 &
pids+=($!)
wait_port 9031
cat >"$out/fuzzingclient.json" <<JSON
{"outdir": "$out/servers", "servers": [{"agent": "rfc6455", "url": "ws://127.0.0.1:9031"}],
 "cases": ["*"], "exclude-cases": ["12.*", "13.*"], "exclude-agent-cases": {}}
JSON
timeout 1200 "$wstest" -m fuzzingclient -s "$out/fuzzingclient.json" >"$out/fuzzingclient.log" 2>&1 \
  || { tail -20 "$out/fuzzingclient.log"; echo "FAIL autobahn: the fuzzing client did not finish"; exit 1; }

# Client role: our client connects to the suite's server.
cat >"$out/fuzzingserver.json" <<JSON
{"url": "ws://127.0.0.1:9032", "outdir": "$out/clients",
 "cases": ["*"], "exclude-cases": ["12.*", "13.*"], "exclude-agent-cases": {}}
JSON
"$wstest" -m fuzzingserver --webport 0 -s "$out/fuzzingserver.json" >"$out/fuzzingserver.log" 2>&1 &
pids+=($!)
wait_port 9032
timeout 1200 "$target/release/examples/autobahn_client" --url ws://127.0.0.1:9032 --agent rfc6455 \
  >"$out/autobahn_client.log" 2>&1 \
  || { tail -20 "$out/autobahn_client.log"; echo "FAIL autobahn: the client run did not finish"; exit 1; }

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
passed = failed = 0
for role in ("servers", "clients"):
    with open(f"{out}/{role}/index.json") as f:
        cases = json.load(f)["rfc6455"]
    counts = {}
    def key(case):
        return [int(part) for part in case.split(".")]
    for case in sorted(cases, key=key):
        r = cases[case]
        verdict = (r["behavior"], r["behaviorClose"])
        counts[verdict] = counts.get(verdict, 0) + 1
        if all(v in ("OK", "INFORMATIONAL") for v in verdict):
            passed += 1
        else:
            failed += 1
            print(f"FAIL autobahn/{role[:-1]}/{case}: {verdict[0]} / close {verdict[1]}")
    summary = ", ".join(f"{n} {b}/{c}" for (b, c), n in sorted(counts.items()))
    print(f"autobahn {role[:-1]} role: {len(cases)} cases: {summary}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
PY
