"""A Python `websockets` echo server, the peer for `examples/client`.

    python echo_server.py [--port 0]

Prints `listening on ws://127.0.0.1:PORT`, then one line per connection that ended:
`end PATH CODE REASON` (CODE as the server received it; 1006: no close frame).
`node/echo_server.mjs` behaves the same way, path by path:

    /reject      HTTP 403 instead of the upgrade
    /hello       first a text "hello subprotocol=P x-interop=V", then echo
    /binary      first a 3-byte binary message, then echo
    /ping        first a ping "server-ping"; then a text "pong ok" if the pong carried
                 that payload within 3 s, else "no pong"; then echo
    /close-1001  closes at once with 1001 "going away"
    /close-1011  closes at once with 1011 "server error"
    anything else: echo (text as text, binary as binary)

The subprotocol `chat` is chosen when offered; otherwise none (the offer is not refused).
"""

import asyncio
import sys
from http import HTTPStatus

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


def path_of(ws):
    return ws.request.path.split("?", 1)[0]


def process_request(connection, request):
    if request.path.split("?", 1)[0] == "/reject":
        return connection.respond(HTTPStatus.FORBIDDEN, "forbidden by the interop server\n")
    return None


def select_subprotocol(connection, offered):
    return "chat" if "chat" in offered else None


async def handler(ws):
    path = path_of(ws)
    try:
        if path == "/hello":
            value = ws.request.headers.get("X-Interop", "-")
            await ws.send(f"hello subprotocol={ws.subprotocol or '-'} x-interop={value}")
        elif path == "/binary":
            await ws.send(b"\x00\x01\x02")
        elif path == "/ping":
            waiter = await ws.ping(b"server-ping")
            try:
                await asyncio.wait_for(waiter, 3)  # completes only for a matching pong
                await ws.send("pong ok")
            except asyncio.TimeoutError:
                await ws.send("no pong")
        elif path == "/close-1001":
            await ws.close(1001, "going away")
        elif path == "/close-1011":
            await ws.close(1011, "server error")
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass
    finally:
        await ws.wait_closed()
        code = ws.close_code
        print(f"end {ws.request.path} {code} {ws.close_reason or ''}".rstrip(), flush=True)


async def main(port):
    async with serve(
        handler,
        "127.0.0.1",
        port,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        compression=None,
        max_size=None,
        ping_interval=None,
        close_timeout=5,
    ) as server:
        host, bound = server.sockets[0].getsockname()[:2]
        print(f"listening on ws://{host}:{bound}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    try:
        asyncio.run(main(port))
    except KeyboardInterrupt:
        pass
