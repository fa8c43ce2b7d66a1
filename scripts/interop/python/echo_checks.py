"""Python `websockets` (a peer we did not write) against `examples/echo`.

    python echo_checks.py ws://127.0.0.1:9101 [--only NAME] [--verbose]

Prints `PASS python/NAME` or `FAIL python/NAME: reason` per check and ends with
`N passed, M failed`; exits 1 if anything failed.
"""

import asyncio
import os
import sys

import websockets
from websockets.asyncio.client import connect

from raw import BINARY, CLOSE, CONT, PING, PONG, TEXT, RawClient, close_payload, frame
from report import Report, expect, short

MiB = 1 << 20
SIZES = [0, 1, 125, 126, 65535, 65536, MiB, 16 * MiB]
NAMES = {MiB: "1MiB", 16 * MiB: "16MiB"}


def client(url, **kwargs):
    """Our server negotiates no extension: offer none unless a check says otherwise.
    No keepalive pings of websockets' own, so every ping seen is a check's."""
    options = dict(
        compression=None,
        max_size=32 * MiB,
        ping_interval=None,
        open_timeout=5,
        close_timeout=5,
    )
    options.update(kwargs)
    return connect(url, **options)


def text_of(n):
    """`n` bytes of UTF-8: ASCII, with some 3-byte characters where n allows."""
    if n < 64:
        return "a" * n
    body = ("WebSocket 你好世界 " * (n // 24 + 1)).encode()[: n - 3]
    body = body.decode("utf-8", "ignore")
    return body + "z" * (n - len(body.encode()))


async def echo_one(url, message, **kwargs):
    async with client(url, **kwargs) as ws:
        await ws.send(message)
        got = await ws.recv()
        expect(type(got) is type(message), f"sent {type(message).__name__}, got {type(got).__name__}")
        expect(got == message, f"echo differs: sent {short(message)}, got {short(got)}")


async def main(url, only):
    report = Report("python", only)
    check = report.check

    # Messages of each size, text and binary (header length forms 7, 16 and 64 bit).
    for n in SIZES:
        name = NAMES.get(n, str(n))
        timeout = 60 if n >= 16 * MiB else 15
        payload_text = text_of(n)
        expect(len(payload_text.encode()) == n, "test bug: text size")
        await check(f"text-{name}", lambda t=payload_text: echo_one(url, t), timeout)
        await check(f"binary-{name}", lambda b=os.urandom(n): echo_one(url, b), timeout)

    await check("unicode-chinese", lambda: echo_one(url, "中文消息：你好，世界！WebSocket 协议测试"))
    await check("unicode-emoji", lambda: echo_one(url, "emoji 😀🎉👍🏽 👨‍👩‍👧‍👦 🇫🇷 and 4-byte 𝄞"))
    await check("unicode-mixed-64KiB", lambda: echo_one(url, ("héllo 世界 🌍 " * 4000)[:30000]))

    async def fragmented(parts):
        async with client(url) as ws:

            async def fragments():
                for part in parts:
                    yield part

            await ws.send(fragments())
            got = await ws.recv()
            whole = "".join(parts) if isinstance(parts[0], str) else b"".join(parts)
            expect(got == whole, f"expected {short(whole)} whole, got {short(got)}")

    await check("fragmented-text", lambda: fragmented(["frag", "mented ", "你好", " 😀", ""]))
    await check("fragmented-binary", lambda: fragmented([b"\x00\x01", b"", b"\xff" * 70000, b"end"]))
    await check("fragmented-1000-parts", lambda: fragmented(["x%d," % i for i in range(1000)]))

    async def ping(payload):
        async with client(url) as ws:
            waiter = await ws.ping(payload)
            # websockets completes the waiter only for a pong with the same payload.
            await asyncio.wait_for(waiter, 5)
            await ws.send("after ping")
            expect(await ws.recv() == "after ping", "echo after the pong differs")

    await check("ping-payload", lambda: ping(b"ping payload \x00\xff"))
    await check("ping-empty", lambda: ping(b""))
    await check("ping-125", lambda: ping(os.urandom(125)))

    async def close(code, reason):
        ws = await client(url)
        await ws.send("before close")
        expect(await ws.recv() == "before close", "echo before close differs")
        await ws.close(code, reason)
        expect(ws.close_code == code, f"expected close {code} echoed, got {ws.close_code}")
        # §5.5.1 asks only for the code; rfc6455 echoes the reason too, as websockets,
        # ws and browsers do.
        expect(ws.close_reason == reason, f"expected reason {reason!r} echoed, got {ws.close_reason!r}")

    await check("close-1000-reason", lambda: close(1000, "bye, 再见 👋"))
    await check("close-1001", lambda: close(1001, ""))
    await check("close-4000-reason", lambda: close(4000, "application code"))
    await check("close-1000-123-byte-reason", lambda: close(1000, "r" * 123))

    async def compression_declined():
        # websockets' default: offer permessage-deflate with client_max_window_bits.
        async with connect(url, max_size=32 * MiB, ping_interval=None, open_timeout=5) as ws:
            ext = ws.response.headers.get("Sec-WebSocket-Extensions")
            expect(ext is None, f"server answered Sec-WebSocket-Extensions: {ext}")
            expect(ws.protocol.extensions == [], f"extensions in use: {ws.protocol.extensions}")
            for message in ["compressible " * 1000, os.urandom(5000)]:
                await ws.send(message)
                expect(await ws.recv() == message, "echo differs with the offer declined")

    await check("deflate-offer-declined", compression_declined)

    async def subprotocol_not_chosen():
        async with client(url, subprotocols=["chat", "superchat"]) as ws:
            expect(ws.subprotocol is None, f"server chose {ws.subprotocol!r}, which it does not speak")
            await ws.send("hi")
            expect(await ws.recv() == "hi", "echo differs")

    await check("subprotocol-not-chosen", subprotocol_not_chosen)

    async def pipelined(n):
        async with client(url) as ws:
            messages = [f"message {i} " + "x" * (i % 300) for i in range(n)]
            sender = asyncio.create_task(send_all(ws, messages))
            for i, message in enumerate(messages):
                got = await ws.recv()
                expect(got == message, f"message {i} out of order or changed: {short(got)}")
            await sender

    async def send_all(ws, messages):
        for message in messages:
            await ws.send(message)

    await check("pipelined-2000", lambda: pipelined(2000), 30)

    async def concurrent(connections, round_trips):
        async def one(c):
            async with client(url, open_timeout=20) as ws:
                for i in range(round_trips):
                    message = f"conn {c} trip {i}"
                    await ws.send(message)
                    got = await ws.recv()
                    expect(got == message, f"connection {c} round trip {i}: got {short(got)}")

        results = await asyncio.gather(*(one(c) for c in range(connections)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        expect(not errors, f"{len(errors)} of {connections} connections failed, first: "
               f"{type(errors[0]).__name__ if errors else ''}: {errors[0] if errors else ''}")

    await check("concurrent-100x100", lambda: concurrent(100, 100), 60)

    # Raw frames that websockets would never send: the server must fail the connection
    # with the close code the RFC names, then close TCP.
    async def violation(code, *frames):
        raw = await RawClient.connect(url)
        try:
            for f in frames:
                await raw.send(f)
            await raw.expect_close(code)
        finally:
            raw.close()

    await check("raw-unmasked-text", lambda: violation(1002, frame(TEXT, b"hello", mask=False)))
    await check("raw-reserved-opcode-3", lambda: violation(1002, frame(0x3, b"x")))
    await check("raw-reserved-opcode-b", lambda: violation(1002, frame(0xB, b"x")))
    await check("raw-rsv1", lambda: violation(1002, frame(TEXT, b"x", rsv=4)))
    await check("raw-rsv2-rsv3", lambda: violation(1002, frame(BINARY, b"x", rsv=3)))
    await check("raw-invalid-utf8", lambda: violation(1007, frame(TEXT, b"abc\xff\xfedef")))
    await check("raw-invalid-utf8-surrogate", lambda: violation(1007, frame(TEXT, b"\xed\xa0\x80")))
    await check(
        "raw-invalid-utf8-late-fragment",
        lambda: violation(1007, frame(TEXT, "好".encode()[:2], fin=False), frame(CONT, b"\xc0", fin=True)),
    )
    await check(
        "raw-truncated-utf8-at-end",
        lambda: violation(1007, frame(TEXT, "好".encode()[:2], fin=False), frame(CONT, b"", fin=True)),
    )
    await check("raw-close-code-999", lambda: violation(1002, frame(CLOSE, close_payload(999))))
    await check("raw-close-code-1005", lambda: violation(1002, frame(CLOSE, close_payload(1005))))
    await check("raw-close-code-1006", lambda: violation(1002, frame(CLOSE, close_payload(1006))))
    await check("raw-close-code-5000", lambda: violation(1002, frame(CLOSE, close_payload(5000))))
    await check("raw-close-1-byte-payload", lambda: violation(1002, frame(CLOSE, b"\x03")))
    await check("raw-close-invalid-utf8-reason", lambda: violation(1007, frame(CLOSE, close_payload(1000, b"\xff"))))
    await check("raw-ping-126-bytes", lambda: violation(1002, frame(PING, b"p" * 126)))
    await check("raw-fragmented-ping", lambda: violation(1002, frame(PING, b"p", fin=False)))
    await check("raw-continuation-first", lambda: violation(1002, frame(CONT, b"x")))
    await check(
        "raw-new-message-mid-message",
        lambda: violation(1002, frame(TEXT, b"a", fin=False), frame(TEXT, b"b")),
    )
    await check(
        "raw-oversized-frame-header",
        # Only a header announcing 1 GiB: rejected (1009) before any payload arrives.
        lambda: violation(1009, frame(BINARY, b"", length=1 << 30)[:10] + os.urandom(4)),
    )

    # Raw sequences that are valid, at the edges websockets does not reach.
    async def raw_exchange(frames, expected, extra=b""):
        raw = await RawClient.connect(url, extra=extra)
        try:
            for f in frames:
                await raw.send(f)
            for want in expected:
                got = await raw.read_message()
                expect(got is not None, f"end of stream, expected {short(want)}")
                expect(got == want, f"expected {short(want)}, got {short(got)}")
            await raw.send(frame(CLOSE, close_payload(1000)))
            await raw.expect_close(1000)
        finally:
            raw.close()

    await check(
        "raw-frame-in-handshake-packet",
        lambda: raw_exchange([], [(TEXT, b"early")], extra=frame(TEXT, b"early")),
    )
    await check(
        "raw-utf8-split-across-fragments",
        lambda: raw_exchange(
            [frame(TEXT, b"\xe4", fin=False), frame(CONT, b"\xbd", fin=False), frame(CONT, b"\xa0!")],
            [(TEXT, "你!".encode())],
        ),
    )
    await check(
        "raw-ping-between-fragments",
        lambda: raw_exchange(
            [frame(TEXT, b"one ", fin=False), frame(PING, b"mid"), frame(CONT, b"two")],
            [(PONG, b"mid"), (TEXT, b"one two")],
        ),
    )
    await check(
        "raw-byte-at-a-time",
        lambda: raw_exchange(
            [bytes([b]) for b in frame(TEXT, "slow 慢".encode()) + frame(PING, b"p")],
            [(TEXT, "slow 慢".encode()), (PONG, b"p")],
        ),
    )
    await check(
        "raw-unsolicited-pong-ignored",
        lambda: raw_exchange([frame(PONG, b"unsolicited"), frame(TEXT, b"after")], [(TEXT, b"after")]),
    )
    await check(
        "raw-close-without-code",
        lambda: close_without_code(url),
    )

    return report.summary()


async def close_without_code(url):
    """An empty close frame (§5.5.1 allows it): the echo carries no code either, or 1000
    at most; never an error code."""
    raw = await RawClient.connect(url)
    try:
        await raw.send(frame(CLOSE, b""))
        got = await raw.read_frame()
        expect(got is not None, "end of stream instead of a close frame")
        _, _, opcode, payload, _ = got
        expect(opcode == CLOSE, f"expected a close frame, got opcode {opcode:#x}")
        expect(payload in (b"", close_payload(1000)), f"close echo {payload!r}, expected empty")
        rest = await asyncio.wait_for(raw.reader.read(), 5)
        expect(rest == b"", f"{len(rest)} bytes after the close")
    finally:
        raw.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        only = args[args.index("--only") + 1]
    urls = [a for a in args if a.startswith("ws://")]
    url = urls[0] if urls else os.environ.get("ECHO_URL", "ws://127.0.0.1:9001")
    print(f"# websockets {websockets.__version__} against {url}", flush=True)
    sys.exit(asyncio.run(main(url, only)))
