#!/usr/bin/env bash
# Chromium checks of the echo and chat examples, end to end:
#   installs playwright-core (pinned in package.json) and Debian's chromium if missing,
#   builds the examples, starts the echo server (unless ECHO_URL is given), runs
#   checks.mjs (which starts and restarts the chat server itself, unless CHAT_URL is
#   given), and stops what it started.
#
#   bash scripts/interop/browser/run.sh
#   ECHO_URL=ws://127.0.0.1:9001 CHAT_URL=http://127.0.0.1:9003/ bash scripts/interop/browser/run.sh
#
# Environment: ECHO_URL, CHAT_URL (use running servers), CHROMIUM (default
# /usr/bin/chromium), SCREENSHOT (default target/interop/chat.png).
# Prints PASS/FAIL lines and ends with `N passed, M failed`; exits non-zero on any failure.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
logs="$target/interop"
mkdir -p "$logs"
chromium="${CHROMIUM:-/usr/bin/chromium}"

setup_failed() {
  echo "FAIL browser setup: $1"
  echo "0 passed, 1 failed"
  exit 1
}

echo_pid=""
cleanup() {
  if [[ -n "$echo_pid" ]] && kill -0 "$echo_pid" 2>/dev/null; then
    kill -TERM "$echo_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$echo_pid" 2>/dev/null
    wait "$echo_pid" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---
command -v node >/dev/null && command -v npm >/dev/null || setup_failed "node and npm are needed"
if [[ ! -x "$chromium" ]]; then
  if [[ -z "${CHROMIUM:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium (log: $logs/apt.log)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
      >"$logs/apt.log" 2>&1 || setup_failed "apt-get install chromium failed; see $logs/apt.log"
  else
    setup_failed "no Chromium at $chromium (install Debian's chromium, or set CHROMIUM)"
  fi
fi
pinned="$(node -p "require('$here/package.json').dependencies['playwright-core']")"
installed="$(node -p "try { require('$here/node_modules/playwright-core/package.json').version } catch { '' }")"
if [[ "$installed" != "$pinned" ]]; then
  echo "installing playwright-core $pinned (log: $logs/npm.log)"
  (cd "$here" && npm ci --no-audit --no-fund) >"$logs/npm.log" 2>&1 \
    || setup_failed "npm ci failed; see $logs/npm.log"
fi

# --- servers ---
examples=(--features tokio,deflate --example chat)
[[ -z "${ECHO_URL:-}" ]] && examples+=(--example echo)
echo "building ${examples[*]} (log: $logs/build.log)"
(cd "$repo" && cargo build "${examples[@]}") >"$logs/build.log" 2>&1 \
  || setup_failed "cargo build failed; see $logs/build.log"

echo_url="${ECHO_URL:-}"
if [[ -z "$echo_url" ]]; then
  "$target/debug/examples/echo" --addr 127.0.0.1:0 >"$logs/echo.log" 2>&1 &
  echo_pid=$!
  for _ in $(seq 100); do
    echo_url="$(grep -o -m1 'ws://[^ ]*' "$logs/echo.log" 2>/dev/null || true)"
    [[ -n "$echo_url" ]] && break
    kill -0 "$echo_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$echo_url" ]] || setup_failed "the echo server did not start; see $logs/echo.log"
  echo "echo server at $echo_url (log: $logs/echo.log)"
fi

chat_args=(--chat-bin "$target/debug/examples/chat")
[[ -n "${CHAT_URL:-}" ]] && chat_args=(--chat "$CHAT_URL")

# --- checks ---
node "$here/checks.mjs" --echo "$echo_url" "${chat_args[@]}" --chromium "$chromium" \
  --screenshot "${SCREENSHOT:-$logs/chat.png}"
