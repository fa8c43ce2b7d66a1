#!/usr/bin/env bash
# Runs the Autobahn|Testsuite against examples/echo (server role, the suite's
# fuzzingclient) and examples/autobahn_client (client role, the suite's fuzzingserver):
# categories 1-10 plain, then cases of 12 and 13 (permessage-deflate, RFC 7692) with
# --deflate on both programs; fails unless every case is OK (or INFORMATIONAL, which the
# suite does not grade). Reports go to
# $CARGO_TARGET_DIR (or target)/autobahn/{servers,clients}-{plain,deflate}/index.html.
#
#   bash scripts/autobahn/run.sh                      # CI: 1-10, and 27 cases of 12/13
#   AUTOBAHN_PLAIN_CASES=none AUTOBAHN_DEFLATE_CASES='12.*,13.*' AUTOBAHN_TIMEOUT=7200 \
#     bash scripts/autobahn/run.sh                    # all of 12 and 13 (about 40 minutes)
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

cargo build --release --features tokio,deflate --example echo --example autobahn_client

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

# Two passes, each in both roles: categories 1-10 without compression, then 12 and 13
# (permessage-deflate) with --deflate on both programs. AUTOBAHN_DEFLATE_CASES narrows
# the second pass (e.g. "12.1.*,13.1.*"), AUTOBAHN_PLAIN_CASES the first; "none" skips
# a pass. AUTOBAHN_TIMEOUT bounds each role of each pass, in seconds (the suite writes
# its report only at the end of a role). AUTOBAHN_PORT (9031) is the first of the four
# ports the passes listen on, so that two runs on one machine need not collide.
role_timeout="${AUTOBAHN_TIMEOUT:-1200}"
rm -rf "$out/servers" "$out/clients" "$out"/servers-* "$out"/clients-*
# CI's deflate cases, about 2 minutes in both roles (all 216 of 12.* and 13.* take about
# 40 minutes on a loaded 2-core machine; docs/DEFLATE.md has that run): every 13.x variant of
# context takeover and window bits (13.1-13.7) with 16 B messages, 16 KiB messages and
# 16 KiB in 256-byte fragments; and each 12.x data set (JSON, a bitmap, German text,
# HTML, a PDF) at one size, from 4 KiB to 128 KiB, fragmented and not. Case ids are
# listed one by one: the suite matches a pattern with '*' as a prefix, so "13.*.1"
# would also pick 13.x.10 to 13.x.18.
ci_deflate_cases="12.1.10,12.1.11,12.2.7,12.3.6,12.4.5,12.5.12"
for variant in 1 2 3 4 5 6 7; do
  ci_deflate_cases+=",13.$variant.1,13.$variant.7,13.$variant.12"
done
deflate_cases="${AUTOBAHN_DEFLATE_CASES:-$ci_deflate_cases}"
json_list() { # "a,b" -> "a", "b"
  local items first=1
  IFS=, read -ra items <<<"$1"
  for item in "${items[@]}"; do
    [ $first = 1 ] || printf ', '; first=0
    printf '"%s"' "$item"
  done
}

# run_pass NAME PORT_BASE CASES EXCLUDE [FLAGS...]: the suite against our echo server
# (server role), then our client against the suite's server (client role).
run_pass() {
  local name=$1 port=$2 cases=$3 exclude=$4; shift 4
  local started=$SECONDS
  "$target/release/examples/echo" --addr "127.0.0.1:$port" --quiet "$@" >"$out/echo-$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
  cat >"$out/fuzzingclient-$name.json" <<JSON
{"outdir": "$out/servers-$name", "servers": [{"agent": "rfc6455", "url": "ws://127.0.0.1:$port"}],
 "cases": [$(json_list "$cases")], "exclude-cases": [$(json_list "$exclude")], "exclude-agent-cases": {}}
JSON
  timeout "$role_timeout" "$wstest" -m fuzzingclient -s "$out/fuzzingclient-$name.json" >"$out/fuzzingclient-$name.log" 2>&1 \
    || { tail -20 "$out/fuzzingclient-$name.log"; echo "FAIL autobahn: the fuzzing client did not finish ($name)"; exit 1; }
  echo "autobahn $name: server role took $((SECONDS - started)) s"

  started=$SECONDS
  cat >"$out/fuzzingserver-$name.json" <<JSON
{"url": "ws://127.0.0.1:$((port + 1))", "outdir": "$out/clients-$name",
 "cases": [$(json_list "$cases")], "exclude-cases": [$(json_list "$exclude")], "exclude-agent-cases": {}}
JSON
  "$wstest" -m fuzzingserver --webport 0 -s "$out/fuzzingserver-$name.json" >"$out/fuzzingserver-$name.log" 2>&1 &
  pids+=($!)
  wait_port $((port + 1))
  timeout "$role_timeout" "$target/release/examples/autobahn_client" --url "ws://127.0.0.1:$((port + 1))" --agent rfc6455 "$@" \
    >"$out/autobahn_client-$name.log" 2>&1 \
    || { tail -20 "$out/autobahn_client-$name.log"; echo "FAIL autobahn: the client run did not finish ($name)"; exit 1; }
  echo "autobahn $name: client role took $((SECONDS - started)) s"
}

plain_cases="${AUTOBAHN_PLAIN_CASES:-*}"
passes=()
if [ "$plain_cases" != none ]; then
  run_pass plain "${AUTOBAHN_PORT:-9031}" "$plain_cases" '12.*,13.*'
  passes+=(plain)
fi
if [ "$deflate_cases" != none ]; then
  run_pass deflate "$(( ${AUTOBAHN_PORT:-9031} + 2 ))" "$deflate_cases" '' --deflate
  passes+=(deflate)
fi

# Every case the suite said it would run has a verdict, and every verdict is OK (or
# INFORMATIONAL); a case missing from a report (our client never reached it) fails too.
python3 - "$out" "${passes[@]}" <<'PY'
import json, os, re, sys
out, passes = sys.argv[1], sys.argv[2:]
passed = failed = 0
def key(case):
    return [int(part) for part in case.split(".")]
for name in passes:
    for role, suite_log in ((f"servers-{name}", f"fuzzingclient-{name}.log"),
                            (f"clients-{name}", f"fuzzingserver-{name}.log")):
        log = f"{out}/{suite_log}"
        planned = re.search(r"Cases = (\[.*\])", open(log).read() if os.path.exists(log) else "")
        planned = set(json.loads(planned.group(1).replace("'", '"'))) if planned else set()
        report = f"{out}/{role}/index.json"
        cases = json.load(open(report))["rfc6455"] if os.path.exists(report) else {}
        counts = {}
        for case in sorted(cases, key=key):
            r = cases[case]
            verdict = (r["behavior"], r["behaviorClose"])
            counts[verdict] = counts.get(verdict, 0) + 1
            if all(v in ("OK", "INFORMATIONAL") for v in verdict):
                passed += 1
            else:
                failed += 1
                print(f"FAIL autobahn/{role}/{case}: {verdict[0]} / close {verdict[1]}")
        for case in sorted(planned - set(cases), key=key):
            failed += 1
            print(f"FAIL autobahn/{role}/{case}: no verdict in {report}")
        if not planned:
            failed += 1
            print(f"FAIL autobahn/{role}: no case list in {out}/{suite_log}")
        summary = ", ".join(f"{n} {b}/{c}" for (b, c), n in sorted(counts.items()))
        print(f"autobahn {role}: {len(cases)} of {len(planned)} cases: {summary}")
print(f"{passed} passed, {failed} failed")
if failed:
    print(f"reports: {out}/<role>/index.html; logs: {out}/autobahn_client-*.log (our client, a line per"
          f" case with its time), {out}/fuzzingserver-*.log, {out}/fuzzingclient-*.log")
sys.exit(1 if failed or passed == 0 else 0)
PY
