#!/usr/bin/env bash
# The chat's scale-out test: two examples/chat processes sharing one Redis.
#
#   bash scripts/chat/redis_test.sh
#
# Installs Debian's redis-server if it is missing (as root, with apt-get), then runs
# `scale_out_two_processes_share_rooms_names_and_history_through_redis` in tests/chat.rs
# (and `readme_chat_commands_start_as_written`, whose Redis block needs the server),
# which starts redis-server on a free port (no persistence, in a temporary directory) and
# two chat processes with --redis, and checks that users on different processes see each
# other in rooms, exchange private messages, and keep their names, rooms and history when
# one process is killed and they reconnect to the other. Everything it starts, it stops.
# Bounded: 10 minutes for the install, 10 for the build and test (about 10 s once built).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target/chat"

server="${RFC6455_REDIS_SERVER:-$(command -v redis-server || true)}"
if [[ -z "$server" ]]; then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "FAIL redis_test: no redis-server, and cannot install it (needs root and apt-get)"
    exit 1
  fi
  echo "installing Debian's redis-server (log: $target/chat/apt.log)"
  if ! timeout 600 bash -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server' \
    >"$target/chat/apt.log" 2>&1; then
    echo "FAIL redis_test: apt-get install redis-server failed; see $target/chat/apt.log"
    exit 1
  fi
  # The package starts a system service on 6379; the test runs its own server instead.
  if command -v systemctl >/dev/null; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null; then service redis-server stop >/dev/null 2>&1 || true; fi
  server="$(command -v redis-server)"
fi
echo "using $("$server" --version | head -1)"

RFC6455_REDIS_SERVER="$server" RFC6455_REQUIRE_REDIS=1 timeout 600 \
  cargo test --all-features --test chat -- --nocapture scale_out readme_chat_commands
