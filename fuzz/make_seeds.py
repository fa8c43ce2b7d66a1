#!/usr/bin/env python3
"""Writes the seed corpora (corpus/<target>/seed-*) from the RFC's vectors and the
shapes the test suites use. Run from fuzz/: python3 make_seeds.py"""
import os

def masked(first, payload, key=b"\x37\xfa\x21\x3d"):
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

def plain(first, payload):
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 65536:
        return bytes([first, 126]) + n.to_bytes(2, "big") + payload
    return bytes([first, 127]) + n.to_bytes(8, "big") + payload

kosme = "κόσμε".encode()
close_1000 = b"\x03\xe8bye"
section_5_7_masked = [
    masked(0x81, b"Hello"),                      # single-frame masked text
    masked(0x01, b"Hel") + masked(0x80, b"lo"),  # fragmented
    masked(0x89, b"Hello"),                      # ping
    masked(0x8A, b"Hello"),                      # pong
    masked(0x82, bytes(256)),                    # 16-bit length
    masked(0x88, close_1000),
]
section_5_7_plain = [
    plain(0x81, b"Hello"),
    plain(0x01, b"Hel") + plain(0x80, b"lo"),
    plain(0x89, b"Hello"),
    plain(0x82, bytes(256)),
    plain(0x88, close_1000),
]
conversation_masked = (masked(0x81, kosme) + masked(0x89, b"p") + masked(0x01, kosme[:3])
    + masked(0x89, b"") + masked(0x80, kosme[3:]) + masked(0x82, bytes(200)) + masked(0x88, close_1000))
conversation_plain = (plain(0x81, kosme) + plain(0x89, b"p") + plain(0x01, kosme[:3])
    + plain(0x80, kosme[3:]) + plain(0x88, close_1000))

chromium = (b"GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: Upgrade\r\n"
    b"Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0\r\n"
    b"Upgrade: websocket\r\nOrigin: http://example.com:8080\r\nSec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n\r\n")
curl = (b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
    b"Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
response = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
response_ext = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n") + plain(0x81, b"Hello")
rejected = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"

# RFC 7692 §7.2.3's payloads, as `inflate` reads them: flags (limit 32 KiB, context
# takeover, one message every 1-8 frames), frame size, then the compressed bytes.
hello = b"\xf2\x48\xcd\xc9\xc9\x07\x00"
section_7_2_3 = [
    b"\xf0\xff" + hello,
    b"\xf0\x07" + hello + b"\xf2\x00\x11\x00\x00\x00",
    b"\xf0\xff" + b"\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00",
    b"\xf0\xff" + b"\xf3\x48\xcd\xc9\xc9\x07\x00\x00",
    b"\xf0\xff" + b"\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00",
    b"\x02\x03" + hello + b"\x00",
]

seeds = {
    "frame_decode": [b"\x00" + f for f in section_5_7_masked] + [b"\x01" + f for f in section_5_7_plain],
    "frame_roundtrip": section_5_7_masked + section_5_7_plain,
    "connection_server": [b"\x00" + f for f in section_5_7_masked + [conversation_masked]]
        + [b"\x03\x01\x05\x07" + conversation_masked],
    "connection_client": [b"\x00" + f for f in section_5_7_plain + [conversation_plain]]
        + [b"\x02\x02\x09" + conversation_plain],
    "connection_ops": [bytes(range(256)), b"\x05" * 64],
    "utf8": [b"\x01" + kosme, b"\x02" + kosme + b"\xf4\x90\x80\x80" + kosme, b"\x03\xed\xa0\x80",
             b"\x01" + "\U0010FFFF\uFFFD\u0800".encode(), b"\x04\xc0\xaf\xe0\x80\xaf"],
    "handshake_request": [b"\x7f" + chromium, b"\x01" + chromium, b"\x05" + curl],
    "inflate": section_7_2_3,
    "handshake_response": [b"\x40" + response, b"\x01" + response, b"\x07" + response_ext, b"\x10" + rejected],
}
for target, items in seeds.items():
    os.makedirs(f"corpus/{target}", exist_ok=True)
    for i, data in enumerate(items):
        with open(f"corpus/{target}/seed-{i:02}", "wb") as f:
            f.write(data)
print(sum(map(len, seeds.values())), "seeds written")
