#!/usr/bin/env bash
# Interop with real peers that we did not write (STYLE.md §7), end to end:
#
#   python/  Python `websockets` client against examples/echo (sizes to 16 MiB, unicode,
#            fragments, ping/pong, close, declined deflate, 100 connections x 100 round
#            trips) and hand-made invalid frames (close codes 1002/1007/1009); then, as
#            python-deflate, with permessage-deflate against examples/echo --deflate
#            (python/deflate_checks.py: the extension agreed, 1 B to 16 MiB text and
#            binary, compressible and random, every parameter, RFC 7692 frames on the wire)
#   node/    Node `ws` client against examples/echo (the same basics, 20 connections);
#            node-deflate: ws with perMessageDeflate against echo --deflate
#   client   examples/client against a Python `websockets` and a Node `ws` echo server
#   browser/ Chromium (playwright-core) against examples/echo and examples/chat;
#            browser-deflate: Chromium (which always offers permessage-deflate) against
#            echo --deflate (browser/deflate_checks.mjs)
#
#   bash scripts/interop/run.sh            # everything
#   ONLY=python bash scripts/interop/run.sh  # suites: python node client browser
#
# Installs what it needs with pinned versions (a venv with python/requirements.txt under
# target/interop/venv, node/package-lock.json with npm ci; browser/run.sh installs
# playwright-core and Debian's chromium), builds the examples once (debug, or
# INTEROP_PROFILE=release), starts the echo server on a free port, and stops what it
# started (a second echo server, with --deflate, for the *-deflate suites). Every check prints `PASS suite/name` or `FAIL suite/name: reason` and is
# bounded in time; each suite is bounded as a whole too. The last line is the total
# `N passed, M failed`; the exit status is 1 if anything failed. Logs: target/interop/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
logs="$target/interop"
mkdir -p "$logs"
profile="${INTEROP_PROFILE:-debug}"
only="${ONLY:-python node client browser}"
started=$SECONDS

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
finish() {
  echo "interop: $((SECONDS - started)) s; logs in $logs"
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
}
wants() { [[ " $only " == *" $1 "* ]]; }

echo_pid=""
deflate_pid=""
stop_pid() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
}
stop_echo() {
  stop_pid "$echo_pid"
  echo_pid=""
  stop_pid "$deflate_pid"
  deflate_pid=""
}
trap stop_echo EXIT
trap 'exit 130' INT TERM

# run_suite NAME SECONDS COMMAND...: runs a suite that prints PASS/FAIL lines and a
# closing `N passed, M failed`, adds its counts, and turns a missing summary, a crash or
# the suite's time limit into a failure.
run_suite() {
  local name="$1" limit="$2"
  shift 2
  echo "--- $name"
  local log="$logs/$name.out" rc=0
  timeout --kill-after=10 "$limit" "$@" 2>"$logs/$name.err" | tee "$log" || rc=$?
  local summary
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)"
  if [[ -n "$summary" ]]; then
    local p f
    read -r p _ f _ <<<"${summary//,/}"
    passed=$((passed + p))
    failed=$((failed + f))
  fi
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    fail "$name/suite" "not finished within $limit s (see $logs/$name.err)"
  elif [[ -z "$summary" ]]; then
    fail "$name/suite" "exited $rc without a summary line: $(tail -1 "$logs/$name.err" 2>/dev/null)"
  elif [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
    fail "$name/suite" "exited $rc with no failed check: $(tail -1 "$logs/$name.err" 2>/dev/null)"
  fi
}

# --- tools and pinned packages ---
echo "--- setup (logs in $logs)"
for tool in cargo python3 node npm timeout; do
  command -v "$tool" >/dev/null || { fail "setup/$tool" "$tool is not installed"; finish; }
done

venv="$target/interop/venv"
requirements="$here/python/requirements.txt"
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
  echo "installing $(tr '\n' ' ' <"$requirements")into $venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --disable-pip-version-check -q \
    -r "$requirements" && cp "$requirements" "$venv/requirements.txt"; } >"$logs/pip.log" 2>&1; then
    fail "setup/python" "pip install failed; see $logs/pip.log"
    finish
  fi
fi

pinned_ws="$(node -p "require('$here/node/package.json').dependencies.ws")"
installed_ws="$(node -p "try { require('$here/node/node_modules/ws/package.json').version } catch { '' }")"
if [[ "$installed_ws" != "$pinned_ws" ]]; then
  echo "installing ws $pinned_ws"
  if ! (cd "$here/node" && npm ci --no-audit --no-fund) >"$logs/npm.log" 2>&1; then
    fail "setup/node" "npm ci failed; see $logs/npm.log"
    finish
  fi
fi

# --- build once: browser/run.sh then finds the same debug binaries built ---
cargo_flags=(--features tokio,deflate --example echo --example client --example chat)
[[ "$profile" == release ]] && cargo_flags+=(--release)
echo "cargo build ${cargo_flags[*]}"
if ! (cd "$repo" && cargo build "${cargo_flags[@]}") >"$logs/build.log" 2>&1; then
  fail "setup/build" "cargo build failed; see $logs/build.log"
  finish
fi
bin="$target/$profile/examples"

# --- the echo servers on free ports: plain, and with --deflate ---
# start_echo NAME FLAGS...: starts $bin/echo, sets started_pid and started_url.
start_echo() {
  local name="$1"
  shift
  "$bin/echo" --addr 127.0.0.1:0 "$@" >"$logs/$name.log" 2>&1 &
  started_pid=$!
  started_url=""
  for _ in $(seq 100); do # 10 s
    started_url="$(grep -o -m1 'ws://[^ ]*' "$logs/$name.log" 2>/dev/null || true)"
    [[ -n "$started_url" ]] && break
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$started_url" ]]; then
    fail "setup/$name" "the echo server did not start within 10 s; see $logs/$name.log"
    finish
  fi
  local hostport="${started_url#ws://}"
  if ! timeout 10 bash -c "until exec 3<>/dev/tcp/${hostport%:*}/${hostport##*:}; do sleep 0.1; done" 2>/dev/null; then
    fail "setup/$name" "$started_url does not accept connections"
    finish
  fi
  echo "$name server at $started_url (log: $logs/$name.log)"
}
start_echo echo
echo_pid=$started_pid
echo_url=$started_url
start_echo echo-deflate --deflate
deflate_pid=$started_pid
deflate_url=$started_url

# --- the suites ---
if wants python; then
  run_suite python 300 "$venv/bin/python" "$here/python/echo_checks.py" "$echo_url"
  run_suite python-deflate 300 "$venv/bin/python" "$here/python/deflate_checks.py" "$deflate_url"
fi
if wants node; then
  run_suite node 300 node "$here/node/echo_checks.mjs" "$echo_url"
  run_suite node-deflate 240 node "$here/node/deflate_checks.mjs" "$deflate_url"
fi
if wants client; then
  run_suite client 240 "$venv/bin/python" "$here/python/client_checks.py" --client "$bin/client"
fi
if wants browser; then
  if [[ -f "$here/browser/run.sh" ]]; then
    # It installs chromium on a fresh machine (apt-get) and runs the debug chat server.
    run_suite browser 480 env ECHO_URL="$echo_url" bash "$here/browser/run.sh"
    # browser/run.sh installed playwright-core and Chromium.
    run_suite browser-deflate 400 node "$here/browser/deflate_checks.mjs" --echo "$deflate_url" \
      --chromium "${CHROMIUM:-/usr/bin/chromium}"
  else
    echo "--- browser: scripts/interop/browser/run.sh not present, skipped"
  fi
fi

# --- the echo servers survived all of it, and shut down cleanly (close 1001 to all) ---
# check_echo NAME PID
check_echo() {
  local name="$1" pid="$2" status
  echo "--- $name"
  if kill -0 "$pid" 2>/dev/null; then
    pass "$name/alive-after-suites"
    kill -TERM "$pid"
    # It waits up to its close timeout (5 s) + 1 s for open connections; allow 10 s.
    timeout 10 tail --pid="$pid" -f /dev/null || true
    if kill -0 "$pid" 2>/dev/null; then
      fail "$name/sigterm-exit-0" "still running 10 s after SIGTERM"
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    else
      status=0
      wait "$pid" || status=$?
      if [[ $status -eq 0 ]]; then
        pass "$name/sigterm-exit-0"
      else
        fail "$name/sigterm-exit-0" "exit status $status after SIGTERM"
      fi
    fi
  else
    status=0
    wait "$pid" || status=$?
    fail "$name/alive-after-suites" "the echo server exited with status $status; see $logs/$name.log"
  fi
}
check_echo echo "$echo_pid"
echo_pid=""
check_echo echo-deflate "$deflate_pid"
deflate_pid=""

finish
