"""Python `websockets` with permessage-deflate (RFC 7692) against `examples/echo --deflate`.

    python deflate_checks.py ws://127.0.0.1:9102 [--only NAME] [--verbose]

Every check first shows that the handshake agreed permessage-deflate (the 101's
Sec-WebSocket-Extensions and the extension `websockets` runs), then that messages
round-trip intact: 1 B to 16 MiB, text and binary, compressible and random; each
combination of context takeover and window bits that `websockets` offers; and, with
frames made here with Python's `zlib`, what is on the wire: RSV1, the RFC's own
examples, fragments, uncompressed messages, a window of 8, and the failures (1002, 1009).

Prints `PASS python-deflate/NAME` or `FAIL python-deflate/NAME: reason` per check and
ends with `N passed, M failed`; exits 1 if anything failed.
"""

import asyncio
import os
import random
import sys
import zlib

import websockets
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory, PerMessageDeflate

from raw import BINARY, CLOSE, CONT, PING, TEXT, RawClient, close_payload, frame
from report import Report, expect, short

MiB = 1 << 20
SIZES = [1, 125, 126, 65536, MiB, 16 * MiB]
NAMES = {65536: "64KiB", MiB: "1MiB", 16 * MiB: "16MiB"}
# examples/echo's default message size limit (Config::max_message_size), which applies
# to the decompressed size (RFC 7692 §8 leaves the limit to the endpoint).
ECHO_MAX_MESSAGE = 64 * MiB
RSV1 = 4


def client(url, factory=None, **kwargs):
    """A `websockets` client offering permessage-deflate: its default offer
    (`permessage-deflate; client_max_window_bits`), or `factory`'s."""
    options = dict(
        max_size=32 * MiB,
        ping_interval=None,
        open_timeout=5,
        close_timeout=5,
    )
    if factory is None:
        options["compression"] = "deflate"
    else:
        options["compression"] = None
        options["extensions"] = [factory]
    options.update(kwargs)
    return connect(url, **options)


def agreed(ws):
    """The handshake agreed permessage-deflate: the 101's header names it, and
    `websockets` runs exactly that extension. Returns the header's value."""
    header = ws.response.headers.get("Sec-WebSocket-Extensions")
    expect(header is not None, "no Sec-WebSocket-Extensions in the 101: compression not agreed")
    expect(header.split(";")[0].strip() == "permessage-deflate", f"the 101 agreed {header!r}")
    extensions = ws.protocol.extensions
    expect(
        len(extensions) == 1 and isinstance(extensions[0], PerMessageDeflate),
        f"websockets negotiated {extensions!r}",
    )
    return header


def compressible_text(n):
    """`n` bytes of UTF-8 JSON-like text, with 2- and 3-byte characters where n allows."""
    if n < 64:
        return "a" * n
    record = '{"user":"émilie","text":"hello ✓ 你好, how are you?","n":%d},'
    out = []
    size = 0
    i = 0
    while size < n:
        piece = record % i
        out.append(piece)
        size += len(piece.encode())
        i += 1
    body = "".join(out).encode()[:n].decode("utf-8", "ignore")
    return body + "z" * (n - len(body.encode()))


def random_text(n, rng):
    """`n` bytes of random UTF-8: random 7-bit characters and random 2-byte ones."""
    multibyte = min(n // 4, 4096)
    table = bytes(i & 0x7F for i in range(256))
    ascii_part = os.urandom(n - 2 * multibyte).translate(table).decode("ascii")
    wide = "".join(chr(0x80 + rng.randrange(0x780)) for _ in range(multibyte))
    return wide + ascii_part


def compressible_binary(n):
    """`n` bytes of a byte ramp whose 3 low bits are noise: about half compresses away."""
    ramp = (bytes(range(256)) * (n // 256 + 1))[:n]
    noise = os.urandom(n).translate(bytes(i & 7 for i in range(256)))
    return (int.from_bytes(ramp, "big") ^ int.from_bytes(noise, "big")).to_bytes(n, "big")


async def echo(ws, message):
    await ws.send(message)
    got = await ws.recv()
    expect(type(got) is type(message), f"sent {type(message).__name__}, got {type(got).__name__}")
    expect(len(got) == len(message), f"sent {len(message)}, got {len(got)} back")
    expect(got == message, f"echo differs: sent {short(message)}, got {short(got)}")


async def echo_one(url, message, factory=None):
    async with client(url, factory) as ws:
        agreed(ws)
        await echo(ws, message)


def inflate(payload, inflater):
    """RFC 7692 §7.2.2: append 00 00 ff ff and inflate."""
    return inflater.decompress(payload + b"\x00\x00\xff\xff")


def deflate_message(data, deflater):
    """RFC 7692 §7.2.1: compress, sync-flush, remove the trailing 00 00 ff ff."""
    out = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
    expect(out.endswith(b"\x00\x00\xff\xff"), "test bug: no sync-flush tail")
    return out[:-4]


async def read_data_frame(raw):
    """The next non-control frame from the server: (fin, rsv, opcode, payload)."""
    while True:
        got = await raw.read_frame()
        expect(got is not None, "end of stream instead of a data frame")
        fin, rsv, opcode, payload, masked = got
        expect(not masked, "server sent a masked frame (§5.1)")
        if opcode < 0x8:
            return fin, rsv, opcode, payload
        expect(opcode != CLOSE, f"closed: {payload!r}")


async def raw_deflate(url, offer="permessage-deflate"):
    raw = await RawClient.connect(url, extensions=offer)
    header = raw.headers.get("sec-websocket-extensions", "")
    if not header.startswith("permessage-deflate"):
        raw.close()
        raise AssertionError(f"the 101 agreed {header!r} for the offer {offer!r}")
    return raw


async def main(url, only):
    report = Report("python-deflate", only)
    check = report.check
    rng = random.Random(6455)

    async def handshake():
        async with client(url) as ws:
            header = agreed(ws)
            ext = ws.protocol.extensions[0]
            # Our server keeps the defaults: context takeover and 32 KiB windows.
            expect(header == "permessage-deflate", f"answer {header!r}, expected no parameters")
            expect(not ext.remote_no_context_takeover and ext.remote_max_window_bits == 15, f"{ext!r}")
            await echo(ws, "hello")
        print(f"  offer: {ws.request.headers['Sec-WebSocket-Extensions']!r}; "
              f"answer: {header!r}", flush=True)

    await check("handshake-agreed", handshake)

    # 1 B to 16 MiB, text and binary, compressible and random: each on its own connection.
    for n in SIZES:
        name = NAMES.get(n, f"{n}B")
        timeout = 120 if n >= 16 * MiB else 20
        kinds = [
            ("text-compressible", lambda n=n: compressible_text(n)),
            ("text-random", lambda n=n: random_text(n, rng)),
            ("binary-compressible", lambda n=n: compressible_binary(n)),
            ("binary-random", lambda n=n: os.urandom(n)),
        ]
        for kind, make in kinds:
            payload = make()
            size = len(payload.encode()) if isinstance(payload, str) else len(payload)
            expect(size == n, f"test bug: {kind} of {size} bytes, not {n}")
            await check(f"{kind}-{name}", lambda p=payload: echo_one(url, p), timeout)

    # Many messages on one connection, in both directions at once: the context carries
    # over from message to message (the default) on both sides.
    async def pipelined(n, factory=None):
        async with client(url, factory) as ws:
            agreed(ws)
            messages = [
                (f'{{"seq":{i},"user":"u{i % 7}","text":"message {i} ' + "x" * (i % 300) + '"}')
                if i % 3
                else os.urandom(i % 2000)
                for i in range(n)
            ]

            async def send_all():
                for message in messages:
                    await ws.send(message)

            sender = asyncio.create_task(send_all())
            for i, message in enumerate(messages):
                got = await ws.recv()
                expect(got == message, f"message {i} out of order or changed: {short(got)}")
            await sender

    await check("pipelined-2000-context-takeover", lambda: pipelined(2000), 60)

    # Every parameter websockets offers (RFC 7692 §7.1), alone and together. websockets
    # inflates with exactly the window agreed (zlib wbits = -N), so a back reference of
    # ours past it fails the check.
    variants = {
        "server_no_context_takeover": dict(server_no_context_takeover=True),
        "client_no_context_takeover": dict(client_no_context_takeover=True),
        "server_max_window_bits=9": dict(server_max_window_bits=9),
        "server_max_window_bits=12": dict(server_max_window_bits=12),
        "client_max_window_bits=9": dict(client_max_window_bits=9),
        "no_context_takeover-both-windows-9": dict(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=9,
            client_max_window_bits=9,
        ),
    }
    big_text = compressible_text(MiB)
    big_binary = os.urandom(256 * 1024)

    async def variant(params):
        factory = ClientPerMessageDeflateFactory(**params)
        async with client(url, factory) as ws:
            header = agreed(ws)
            ext = ws.protocol.extensions[0]
            if params.get("server_no_context_takeover"):
                expect("server_no_context_takeover" in header, f"answer {header!r}")
                expect(ext.remote_no_context_takeover, f"{ext!r}")
            if "server_max_window_bits" in params:
                bits = params["server_max_window_bits"]
                expect(f"server_max_window_bits={bits}" in header, f"answer {header!r}")
                expect(ext.remote_max_window_bits == bits, f"{ext!r}")
            for message in ["", "a", big_text, big_binary, compressible_text(5000), big_text[:70000]]:
                await echo(ws, message)
        await pipelined(300, ClientPerMessageDeflateFactory(**params))

    for name, params in variants.items():
        await check(f"offer-{name}", lambda p=params: variant(p), 60)

    async def fragmented():
        # websockets compresses a fragmented message as one stream, RSV1 on the first frame.
        async with client(url) as ws:
            agreed(ws)
            parts = ["frag", "mented ", "你好" * 5000, " 😀", ""]

            async def fragments():
                for part in parts:
                    yield part

            await ws.send(fragments())
            got = await ws.recv()
            expect(got == "".join(parts), f"got {short(got)}")

    await check("fragmented-text", fragmented)

    # --- on the wire, with frames made here ---

    async def rfc_hello():
        # RFC 7692 §7.2.3.1: "Hello" in one compressed block, as the RFC writes it.
        raw = await raw_deflate(url)
        try:
            await raw.send(frame(TEXT, bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), rsv=RSV1))
            # §7.2.3.3: and in a stored block.
            await raw.send(frame(TEXT, bytes([0x00, 0x05, 0x00, 0xFA, 0xFF]) + b"Hello\x00", rsv=RSV1))
            # §7.2.3.2's fragments: "Hel" and "lo" of one compressed message.
            await raw.send(frame(TEXT, bytes([0xF2, 0x48, 0xCD]), rsv=RSV1, fin=False))
            await raw.send(frame(CONT, bytes([0xC9, 0xC9, 0x07, 0x00])))
            inflater = zlib.decompressobj(wbits=-15)
            for i in range(3):
                fin, rsv, opcode, payload = await read_data_frame(raw)
                expect(fin and opcode == TEXT, f"echo {i}: fin {fin}, opcode {opcode:#x}")
                expect(rsv == RSV1, f"echo {i}: RSV bits {rsv:#o}, expected RSV1 (compressed)")
                got = inflate(payload, inflater)
                expect(got == b"Hello", f"echo {i} inflates to {got!r}")
            await raw.send(frame(CLOSE, close_payload(1000)))
            await raw.expect_close(1000)
        finally:
            raw.close()

    await check("raw-rfc7692-7.2.3-hello", rfc_hello)

    async def wire_takeover():
        # Our own compressor and inflater, context taken over across messages both ways:
        # the server's echo of a repeated message is a few bytes (a back reference).
        raw = await raw_deflate(url)
        try:
            deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
            inflater = zlib.decompressobj(wbits=-15)
            # Words drawn at random: compressible, but no repeat within the message.
            words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(3, 9))) for _ in range(500)]
            message = " ".join(rng.choice(words) for _ in range(3500)).encode()[:20000]
            sizes = []
            for i in range(3):
                await raw.send(frame(TEXT, deflate_message(message, deflater), rsv=RSV1))
                fin, rsv, opcode, payload = await read_data_frame(raw)
                expect(rsv == RSV1 and fin and opcode == TEXT, f"echo {i}: rsv {rsv:#o}, fin {fin}, opcode {opcode:#x}")
                expect(inflate(payload, inflater) == message, f"echo {i} inflates to something else")
                sizes.append(len(payload))
            expect(sizes[0] < len(message) // 2, f"first echo {sizes[0]} B for {len(message)} B of text")
            # A repeat is back references of at most 258 octets each (RFC 1951 §3.2.5):
            # about 80 of them, a few hundred octets, against thousands from scratch.
            expect(max(sizes[1:]) < sizes[0] // 4, f"echoes {sizes} B: context not taken over")
            await raw.send(frame(CLOSE, close_payload(1000)))
            await raw.expect_close(1000)
        finally:
            raw.close()
        print(f"  the same 20000 B of text three times, echoed compressed in {sizes} B", flush=True)

    await check("raw-context-takeover-on-the-wire", wire_takeover)

    async def wire_no_takeover():
        offer = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
        raw = await raw_deflate(url, offer)
        try:
            header = raw.headers["sec-websocket-extensions"]
            expect("server_no_context_takeover" in header and "server_max_window_bits=10" in header,
                   f"answer {header!r}")
            message = compressible_text(20000).encode()
            sizes = []
            for i in range(2):
                await raw.send(frame(BINARY, message))  # uncompressed (RSV1 clear), §6
                fin, rsv, opcode, payload = await read_data_frame(raw)
                expect(rsv == RSV1, f"echo {i}: not compressed")
                # A fresh inflater with exactly a 1 KiB window for each message: a back
                # reference past the window or into the last message fails here.
                got = inflate(payload, zlib.decompressobj(wbits=-10))
                expect(got == message, f"echo {i} inflates to something else")
                sizes.append(len(payload))
            expect(sizes[0] == sizes[1], f"sizes {sizes}: the second echo used the first's context")
            await raw.send(frame(CLOSE, close_payload(1000)))
            await raw.expect_close(1000)
        finally:
            raw.close()

    await check("raw-no-context-takeover-window-10-on-the-wire", wire_no_takeover)

    async def window_8():
        # A window of 8 is agreed; zlib cannot compress with it, so the server sends its
        # messages uncompressed (RSV1 clear, allowed for any message by §6) and still
        # inflates ours.
        raw = await raw_deflate(url, "permessage-deflate; server_max_window_bits=8")
        try:
            header = raw.headers["sec-websocket-extensions"]
            expect("server_max_window_bits=8" in header, f"answer {header!r}")
            message = compressible_text(3000).encode()
            await raw.send(frame(TEXT, deflate_message(message, zlib.compressobj(6, zlib.DEFLATED, -15)), rsv=RSV1))
            fin, rsv, opcode, payload = await read_data_frame(raw)
            expect(rsv == 0, f"RSV bits {rsv:#o}: compressed with a window of 8?")
            expect(payload == message, f"echo {short(payload)}")
            await raw.send(frame(CLOSE, close_payload(1000)))
            await raw.expect_close(1000)
        finally:
            raw.close()

    await check("raw-server-window-8-sends-uncompressed", window_8)

    async def violation(code, frames, offer="permessage-deflate"):
        raw = await raw_deflate(url, offer)
        try:
            for f in frames:
                await raw.send(f)
            await raw.expect_close(code)
        finally:
            raw.close()

    hello = deflate_message(b"Hello", zlib.compressobj(6, zlib.DEFLATED, -15))
    await check(
        "raw-rsv1-on-continuation-1002",
        lambda: violation(1002, [frame(TEXT, hello[:2], fin=False, rsv=RSV1), frame(CONT, hello[2:], rsv=RSV1)]),
    )
    await check("raw-rsv1-on-ping-1002", lambda: violation(1002, [frame(PING, b"p", rsv=RSV1)]))
    await check(
        "raw-invalid-compressed-data-1002",
        lambda: violation(1002, [frame(BINARY, b"\xff\xff\xff\xff garbage", rsv=RSV1)]),
    )

    def bomb():
        # A few tens of KiB that inflate past the echo's 64 MiB limit.
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        zeros = bytes(MiB)
        out = b"".join(deflater.compress(zeros) for _ in range(ECHO_MAX_MESSAGE // MiB + 1))
        return out + deflater.flush(zlib.Z_SYNC_FLUSH)[:-4]

    bomb_payload = bomb()
    await check(
        f"raw-bomb-{len(bomb_payload) // 1024}KiB-inflating-past-64MiB-1009",
        lambda: violation(1009, [frame(BINARY, bomb_payload, rsv=RSV1)]),
    )

    return report.summary()


if __name__ == "__main__":
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        only = args[args.index("--only") + 1]
    urls = [a for a in args if a.startswith("ws://")]
    url = urls[0] if urls else os.environ.get("ECHO_URL", "ws://127.0.0.1:9001")
    print(f"# websockets {websockets.__version__} with permessage-deflate against {url}", flush=True)
    sys.exit(asyncio.run(main(url, only)))
