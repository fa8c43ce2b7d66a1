#!/usr/bin/env bash
# Interop with real peers that we did not write (STYLE.md §7), end to end:
#
#   python/  Python `websockets` client against examples/echo (sizes to 16 MiB, unicode,
#            fragments, ping/pong, close, declined deflate, 100 connections x 100 round
#            trips) and hand-made invalid frames (close codes 1002/1007/1009)
#   node/    Node `ws` client against examples/echo (the same basics, 20 connections)
#   client   examples/client against a Python `websockets` and a Node `ws` echo server
#   browser/ Chromium (playwright-core) against examples/echo and examples/chat
#
#   bash scripts/interop/run.sh            # everything
#   ONLY=python bash scripts/interop/run.sh  # suites: python node client browser
#
# Installs what it needs with pinned versions (a venv with python/requirements.txt under
# target/interop/venv, node/package-lock.json with npm ci; browser/run.sh installs
# playwright-core and Debian's chromium), builds the examples once (debug, or
# INTEROP_PROFILE=release), starts the echo server on a free port, and stops what it
# started. Every check prints `PASS suite/name` or `FAIL suite/name: reason` and is
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
stop_echo() {
  if [[ -n "$echo_pid" ]] && kill -0 "$echo_pid" 2>/dev/null; then
    kill -TERM "$echo_pid" 2>/dev/null || true
    for _ in $(seq 80); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$echo_pid" 2>/dev/null || true
  fi
  if [[ -n "$echo_pid" ]]; then wait "$echo_pid" 2>/dev/null || true; fi
  echo_pid=""
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
cargo_flags=(--features tokio --example echo --example client --example chat)
[[ "$profile" == release ]] && cargo_flags+=(--release)
echo "cargo build ${cargo_flags[*]}"
if ! (cd "$repo" && cargo build "${cargo_flags[@]}") >"$logs/build.log" 2>&1; then
  fail "setup/build" "cargo build failed; see $logs/build.log"
  finish
fi
bin="$target/$profile/examples"

# --- the echo server on a free port ---
"$bin/echo" --addr 127.0.0.1:0 >"$logs/echo.log" 2>&1 &
echo_pid=$!
echo_url=""
for _ in $(seq 100); do # 10 s
  echo_url="$(grep -o -m1 'ws://[^ ]*' "$logs/echo.log" 2>/dev/null || true)"
  [[ -n "$echo_url" ]] && break
  kill -0 "$echo_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$echo_url" ]]; then
  fail "setup/echo" "the echo server did not start within 10 s; see $logs/echo.log"
  finish
fi
hostport="${echo_url#ws://}"
if ! timeout 10 bash -c "until exec 3<>/dev/tcp/${hostport%:*}/${hostport##*:}; do sleep 0.1; done" 2>/dev/null; then
  fail "setup/echo" "$echo_url does not accept connections"
  finish
fi
echo "echo server at $echo_url (log: $logs/echo.log)"

# --- the suites ---
if wants python; then
  run_suite python 300 "$venv/bin/python" "$here/python/echo_checks.py" "$echo_url"
fi
if wants node; then
  run_suite node 300 node "$here/node/echo_checks.mjs" "$echo_url"
fi
if wants client; then
  run_suite client 240 "$venv/bin/python" "$here/python/client_checks.py" --client "$bin/client"
fi
if wants browser; then
  if [[ -f "$here/browser/run.sh" ]]; then
    # It installs chromium on a fresh machine (apt-get) and runs the debug chat server.
    run_suite browser 480 env ECHO_URL="$echo_url" bash "$here/browser/run.sh"
  else
    echo "--- browser: scripts/interop/browser/run.sh not present, skipped"
  fi
fi

# --- the echo server survived all of it, and shuts down cleanly (close 1001 to all) ---
echo "--- echo"
if kill -0 "$echo_pid" 2>/dev/null; then
  pass "echo/alive-after-suites"
  kill -TERM "$echo_pid"
  # It waits up to its close timeout (5 s) + 1 s for open connections; allow 10 s.
  timeout 10 tail --pid="$echo_pid" -f /dev/null || true
  if kill -0 "$echo_pid" 2>/dev/null; then
    fail "echo/sigterm-exit-0" "still running 10 s after SIGTERM"
    kill -KILL "$echo_pid" 2>/dev/null || true
    wait "$echo_pid" 2>/dev/null || true
  else
    status=0
    wait "$echo_pid" || status=$?
    if [[ $status -eq 0 ]]; then
      pass "echo/sigterm-exit-0"
    else
      fail "echo/sigterm-exit-0" "exit status $status after SIGTERM"
    fi
  fi
  echo_pid=""
else
  status=0
  wait "$echo_pid" || status=$?
  echo_pid=""
  fail "echo/alive-after-suites" "the echo server exited with status $status; see $logs/echo.log"
fi

finish
