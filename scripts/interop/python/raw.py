"""A hand-made WebSocket client over asyncio streams, for what a real library refuses to
send: unmasked frames, reserved opcodes and bits, invalid UTF-8, bad close codes.

Frames are built byte by byte here (RFC 6455 §5.2), independent of the library under
test and of `websockets`' own frame code.
"""

import asyncio
import base64
import hashlib
import os
import struct
from urllib.parse import urlsplit

from report import CheckFailed

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """One frame. `rsv` is the three RSV bits as a number 0..7 (RSV1 = 4); `length`
    overrides the length field (the payload is still what is sent)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", first, mask_bit | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(payload, key)


def apply_mask(data, key):
    if not data:
        return b""
    n = len(data)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class RawClient:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url, extra=b"", extensions=None):
        """Opens TCP and sends the opening handshake (§4.1), with `extensions` as its
        Sec-WebSocket-Extensions when given, followed by `extra` in the same write; checks
        the 101 and its accept key (§4.2.2). The response's headers (lower-case names)
        are kept in `headers`."""
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        key = base64.b64encode(os.urandom(16))
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            + (f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else "")
            + "\r\n"
        ).encode()
        writer.write(request + extra)
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            raise CheckFailed(f"no handshake response (got {e.partial[:80]!r})") from None
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise CheckFailed(f"handshake answered {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise CheckFailed(f"bad Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}")
        client = cls(reader, writer)
        client.headers = headers
        return client

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self):
        """(fin, rsv, opcode, payload, masked), or None at end of stream."""
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            key = await self.reader.readexactly(4) if b1 & 0x80 else None
            payload = await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            return None
        if key:
            payload = apply_mask(payload, key)
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload, key is not None

    async def read_message(self):
        """(opcode, payload) of the next data message, reassembled; control frames before
        it are returned as they come. None at end of stream."""
        first = None
        parts = []
        while True:
            got = await self.read_frame()
            if got is None:
                return None
            fin, rsv, opcode, payload, masked = got
            if masked:
                raise CheckFailed("server sent a masked frame (§5.1)")
            if rsv:
                raise CheckFailed(f"server set RSV bits {rsv:#o} without an extension")
            if opcode >= 0x8:
                if first is None:
                    return opcode, payload
                raise CheckFailed(f"control frame {opcode:#x} inside a message: unexpected here")
            if first is None:
                first = opcode
            parts.append(payload)
            if fin:
                return first, b"".join(parts)

    async def expect_close(self, code, within=5.0):
        """Reads until the server's close frame: its code must be `code`; then the server
        must close TCP (§7.1.1: the server closes first)."""
        got_code = None
        try:
            async with asyncio.timeout(within):
                while True:
                    got = await self.read_frame()
                    if got is None:
                        raise CheckFailed(f"expected close {code}, got 1006 (end of stream, no close frame)")
                    _, _, opcode, payload, _ = got
                    if opcode == CLOSE:
                        if len(payload) < 2:
                            raise CheckFailed(f"expected close {code}, got a close frame without code")
                        (got_code,) = struct.unpack("!H", payload[:2])
                        break
        except TimeoutError:
            raise CheckFailed(f"expected close {code}, got nothing within {within:g} s") from None
        if got_code != code:
            reason = payload[2:].decode("utf-8", "replace")
            raise CheckFailed(f"expected close {code}, got {got_code} {reason!r}")
        # Answer the close, then the server should drop the connection.
        try:
            await self.send(frame(CLOSE, close_payload(got_code)))
        except (ConnectionError, OSError):
            return
        try:
            async with asyncio.timeout(within):
                rest = await self.reader.read()
        except TimeoutError:
            raise CheckFailed(f"close {code} received but the server kept TCP open for {within:g} s") from None
        except (ConnectionError, OSError):
            return
        if rest:
            raise CheckFailed(f"{len(rest)} bytes after the close frame")

    def close(self):
        self.writer.close()
