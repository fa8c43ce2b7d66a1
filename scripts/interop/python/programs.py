"""Python `websockets` against the README's four programs (tests/programs.rs runs it).

    programs.py page URL      # examples/page_and_echo: the page, a 404, echo at /ws
    programs.py hyper URL     # examples/hyper_echo: hyper's answer, echo at /ws
    programs.py room URL      # examples/broadcast_room: every message to all others
    programs.py server        # an echo server for examples/send_client: prints its port,
                              # then checks what one client sent and how it closed

Prints `OK ...` and exits 0 when every check passed; otherwise an assertion message and a
non-zero status. Every wait is bounded.
"""

import sys
import threading
import urllib.error
import urllib.request

from websockets.sync.client import connect
from websockets.sync.server import serve

TIMEOUT = 30


def page(url, not_found=True):
    base = url.rstrip("/")
    with urllib.request.urlopen(base + "/", timeout=TIMEOUT) as response:
        assert response.status == 200, response.status
        body = response.read().decode()
    try:
        if not not_found:
            raise urllib.error.HTTPError(base, 404, "not checked", None, None)
        urllib.request.urlopen(base + "/nowhere", timeout=TIMEOUT)
        raise AssertionError("/nowhere: expected 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404, e.code
    ws_url = base.replace("http://", "ws://", 1) + "/ws"
    with connect(ws_url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=None) as ws:
        for message in ["hello", "κόσμε", b"\x00\xff" * 1000, "x" * (1 << 20)]:
            ws.send(message)
            assert ws.recv(timeout=TIMEOUT) == message
        ws.close(1000)
        assert ws.close_code == 1000, ws.close_code
    print(f"OK page ({len(body)} bytes) and echo at {ws_url}")


def room(url):
    opts = dict(open_timeout=TIMEOUT, close_timeout=TIMEOUT)
    with connect(url, **opts) as a, connect(url, **opts) as b, connect(url, **opts) as c:
        # Everyone is in the room once the server has seen each connection's handshake:
        # a round through the room from each proves it (the others receive it).
        a.send("from a")
        assert b.recv(timeout=TIMEOUT) == "from a"
        assert c.recv(timeout=TIMEOUT) == "from a"
        b.send(b"from b")
        c.send("from c")
        # The sender never gets its own message: a's next messages are b's and c's.
        got_a = {a.recv(timeout=TIMEOUT), a.recv(timeout=TIMEOUT)}
        assert got_a == {b"from b", "from c"}, got_a
        assert b.recv(timeout=TIMEOUT) == "from c"
        assert c.recv(timeout=TIMEOUT) == b"from b"
    print("OK room: every message to all others, none back to its sender")


def server():
    received = []
    done = threading.Event()
    result = {}

    def handler(ws):
        for message in ws:
            received.append(message)
        result["code"] = ws.close_code
        done.set()

    with serve(handler, "127.0.0.1", 0, max_size=None) as srv:
        port = srv.socket.getsockname()[1]
        print(port, flush=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        assert done.wait(TIMEOUT), "no client in time"
        srv.shutdown()
    assert received[:3] == ["one", "two", "three"], received[:3]
    assert len(received) == 4 and received[3] == b"\x55" * (1 << 20), [len(m) for m in received]
    assert result["code"] == 1000, result
    print("OK server: 3 texts, 1 MiB binary, close 1000")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "page":
        page(sys.argv[2])
    elif command == "hyper":
        page(sys.argv[2], not_found=False)
    elif command == "room":
        room(sys.argv[2])
    elif command == "server":
        server()
    else:
        sys.exit(f"unknown command {command}")
