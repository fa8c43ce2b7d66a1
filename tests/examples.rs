//! The examples over real sockets on 127.0.0.1 (OS-assigned ports).
//!
//! The tests start the example binaries (`echo`, `echo_blocking`, `client`, and
//! `echo_uring` with the `uring` feature on Linux; built on first use, `tests/support`)
//! with flags, and talk to the servers with this crate's own client `Connection` over a
//! blocking `TcpStream`. Every read has a timeout, so a hung server fails a test instead
//! of hanging it. The only timing assertions are generous upper bounds, chosen so that a
//! timeout applied twice (or not at all) would fail them.
#![cfg(feature = "tokio")]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
use rfc6455::{CloseCode, Config, Connection, Event};
use support::{Running, TIMEOUT, example, run, start_server};

// ----- the echo example, started with flags -----

/// `examples/echo` on a free port, `--quiet`, with `flags`; killed on drop.
struct Server {
    addr: SocketAddr,
    running: Running,
}

impl Server {
    fn start() -> Self {
        Self::with(&[])
    }

    fn with(flags: &[&str]) -> Self {
        let mut all = vec!["--addr", "127.0.0.1:0", "--quiet"];
        all.extend_from_slice(flags);
        let (running, addr) = start_server("echo", &all);
        Server { addr, running }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

// ----- a blocking client made of this crate's Connection -----

struct Peer {
    stream: TcpStream,
    ws: Connection,
    subprotocol: Option<String>,
    buf: Vec<u8>,
}

impl Peer {
    fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, Config::default(), &[])
    }

    fn connect_with(addr: SocketAddr, config: Config, protocols: &[&str]) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        let url = format!("ws://{addr}/echo");
        let uri = WsUri::parse(&url).expect("uri");
        let mut handshake = ClientHandshake::new(&uri);
        for p in protocols {
            handshake.subprotocol(p).expect("subprotocol");
        }
        let mut peer = Peer {
            stream,
            ws: Connection::client(config),
            subprotocol: None,
            buf: vec![0; 256 * 1024],
        };
        peer.stream
            .write_all(&handshake.request())
            .expect("write request");
        let mut received = Vec::new();
        loop {
            let n = peer.stream.read(&mut peer.buf).expect("read response");
            assert_ne!(n, 0, "closed during the handshake");
            received.extend_from_slice(&peer.buf[..n]);
            if let Some(response) = handshake.parse_response(&received).expect("a 101") {
                peer.subprotocol = response.subprotocol().map(str::to_owned);
                peer.ws.receive(&received[response.consumed()..]);
                return peer;
            }
        }
    }

    fn flush(&mut self) {
        let out = self.ws.take_outgoing();
        self.stream.write_all(&out).expect("write");
    }

    /// The next event; panics on a protocol error, an I/O error or the read timeout.
    fn next(&mut self) -> Event {
        loop {
            match self.ws.next_event() {
                Ok(Some(event)) => return event,
                Ok(None) => {}
                Err(e) => panic!("protocol error: {e}"),
            }
            let n = self.stream.read(&mut self.buf).expect("read");
            if n == 0 {
                self.ws.receive_eof();
            } else {
                self.ws.receive(&self.buf[..n]);
            }
        }
    }

    fn send_text(&mut self, text: &str) {
        self.ws.send_text(text).expect("send");
        self.flush();
    }

    fn send_binary(&mut self, data: &[u8]) {
        self.ws.send_binary(data).expect("send");
        self.flush();
    }

    /// Waits for the server to close TCP (§7.1.1: the server closes first).
    fn expect_eof(&mut self) {
        expect_eof(&mut self.stream);
    }
}

fn expect_eof(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => panic!("expected the server to close the connection: {e}"),
        }
    }
}

fn text_of(len: usize) -> String {
    let mut text: String = "κόσμε, world; ".chars().cycle().take(len).collect();
    while text.len() > len {
        text.pop();
    }
    while text.len() < len {
        text.push('x');
    }
    text
}

fn bytes_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

// ----- the echo server, in-process -----

/// Text and binary messages at every length-encoding boundary (§5.2), each echoed.
fn echoes_each_size(peer: &mut Peer) {
    for len in [0, 1, 125, 126, 65_535, 65_536, 1 << 20] {
        let text = text_of(len);
        peer.send_text(&text);
        assert_eq!(
            peer.next(),
            Event::Text(text.as_str().into()),
            "text of {len}"
        );
        let data = bytes_of(len);
        peer.send_binary(&data);
        assert_eq!(peer.next(), Event::Binary(data.into()), "binary of {len}");
    }
}

#[test]
fn echoes_text_and_binary_at_each_size() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
    echoes_each_size(&mut peer);
    peer.ws.close(CloseCode::NORMAL, "").expect("close");
    peer.flush();
    assert!(matches!(peer.next(), Event::Close(c) if c.code == CloseCode::NORMAL));
    peer.expect_eof();
}

#[test]
fn echoes_16_mib_in_one_frame_and_fragmented() {
    let server = Server::start();
    let len = 16 << 20;
    // One 16 MiB frame (the default frame limit), text.
    let one_frame = Config::default().max_send_frame_size(len);
    let mut peer = Peer::connect_with(server.addr, one_frame, &[]);
    let text = text_of(len);
    peer.send_text(&text);
    match peer.next() {
        Event::Text(echo) => assert!(echo.as_bytes() == text.as_bytes(), "16 MiB text echo"),
        other => panic!("expected text, got {other:?}"),
    }
    // Sixteen 1 MiB frames (the default send frame size), binary.
    let mut peer = Peer::connect(server.addr);
    let data = bytes_of(len);
    peer.send_binary(&data);
    match peer.next() {
        Event::Binary(echo) => assert!(echo == data, "16 MiB binary echo"),
        other => panic!("expected binary, got {other:?}"),
    }
}

#[test]
fn frames_sent_with_the_request_are_echoed() {
    let server = Server::start();
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let uri = WsUri::parse("ws://localhost/").expect("uri");
    let mut handshake = ClientHandshake::new(&uri);
    let mut ws = Connection::client(Config::default());
    ws.send_text("early").expect("send");
    let mut bytes = handshake.request();
    bytes.extend_from_slice(&ws.take_outgoing());
    stream.write_all(&bytes).expect("write"); // one write: request and frame together
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let consumed = loop {
        let n = stream.read(&mut buf).expect("read");
        assert_ne!(n, 0, "closed");
        received.extend_from_slice(&buf[..n]);
        if let Some(response) = handshake.parse_response(&received).expect("101") {
            break response.consumed();
        }
    };
    ws.receive(&received[consumed..]);
    let mut peer = Peer {
        stream,
        ws,
        subprotocol: None,
        buf: vec![0; 4096],
    };
    assert_eq!(peer.next(), Event::Text("early".into()));
}

#[test]
fn answers_ping_with_pong() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
    peer.ws.send_ping(b"are you there").expect("ping");
    peer.flush();
    assert_eq!(peer.next(), Event::Pong((&b"are you there"[..]).into()));
}

#[test]
fn echoes_close_1000_then_closes_tcp() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
    peer.send_text("last");
    peer.ws.close(CloseCode::NORMAL, "done").expect("close");
    peer.flush();
    assert_eq!(peer.next(), Event::Text("last".into()));
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::NORMAL),
        other => panic!("expected the close echo, got {other:?}"),
    }
    peer.expect_eof();
}

#[test]
fn unmasked_frame_gets_1002_then_tcp_close() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
    // §5.1: a client MUST mask; a server MUST close on an unmasked frame.
    peer.stream
        .write_all(&[0x81, 0x02, b'h', b'i'])
        .expect("write");
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("expected close 1002, got {other:?}"),
    }
    peer.expect_eof();
}

#[test]
fn invalid_utf8_gets_1007() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
    peer.ws
        .begin_message(rfc6455::MessageKind::Binary)
        .expect("begin");
    peer.ws.finish_message(b"ok").expect("finish");
    // A text frame whose payload is not UTF-8, masked by hand (key 0).
    let mut bytes = peer.ws.take_outgoing();
    bytes.extend_from_slice(&[0x81, 0x82, 0, 0, 0, 0, 0xc0, 0x80]);
    peer.stream.write_all(&bytes).expect("write");
    assert_eq!(peer.next(), Event::Binary((&b"ok"[..]).into()));
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::INVALID_PAYLOAD),
        other => panic!("expected close 1007, got {other:?}"),
    }
    peer.expect_eof();
}

#[test]
fn message_over_the_limit_gets_1009() {
    let server = Server::with(&["--max-message-size", "1024"]);
    let mut peer = Peer::connect(server.addr);
    peer.send_binary(&[7; 1024]);
    assert_eq!(peer.next(), Event::Binary(vec![7; 1024].into()));
    peer.send_binary(&[7; 1025]);
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("expected close 1009, got {other:?}"),
    }
    peer.expect_eof();
}

/// Sends `request` raw and returns the whole response, up to the server's close.
fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    stream.write_all(request).expect("write");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("the server answers, then closes");
    String::from_utf8_lossy(&response).into_owned()
}

const GOOD_REQUEST: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn bad_handshakes_get_their_status_and_a_close() {
    let server = Server::start();
    let missing_key = GOOD_REQUEST.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let response = raw_exchange(server.addr, missing_key.as_bytes());
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");

    let version_12 = GOOD_REQUEST.replace("Version: 13", "Version: 12");
    let response = raw_exchange(server.addr, version_12.as_bytes());
    assert!(response.starts_with("HTTP/1.1 426 "), "{response}");
    assert!(
        response.contains("\r\nSec-WebSocket-Version: 13\r\n"),
        "{response}"
    );

    let post = GOOD_REQUEST.replace("GET", "POST");
    let response = raw_exchange(server.addr, post.as_bytes());
    assert!(response.starts_with("HTTP/1.1 405 "), "{response}");

    let huge = GOOD_REQUEST.replace(
        "\r\n\r\n",
        &format!("\r\nX-Big: {}\r\n\r\n", "a".repeat(9000)),
    );
    let response = raw_exchange(server.addr, huge.as_bytes());
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");

    let not_http = raw_exchange(server.addr, b"hello\r\n\r\n");
    assert!(not_http.starts_with("HTTP/1.1 400 "), "{not_http}");
}

#[test]
fn handshake_timeout_closes_a_silent_connection() {
    let server = Server::with(&["--handshake-timeout", "200ms"]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    stream.write_all(b"GET / HTTP/1.1\r\n").expect("write"); // and nothing more
    expect_eof(&mut stream);
}

#[test]
fn fifty_connections_at_once() {
    let server = Server::start();
    let addr = server.addr;
    let clients: Vec<_> = (0..50)
        .map(|c| {
            thread::spawn(move || {
                let mut peer = Peer::connect(addr);
                for i in 0..20 {
                    let text = format!("client {c} message {i}");
                    peer.send_text(&text);
                    assert_eq!(peer.next(), Event::Text(text.as_str().into()));
                    let data = format!("{c}/{i}").into_bytes();
                    peer.send_binary(&data);
                    assert_eq!(peer.next(), Event::Binary(data.into()));
                }
                peer.ws.close(CloseCode::NORMAL, "").expect("close");
                peer.flush();
                assert!(matches!(peer.next(), Event::Close(_)));
                peer.expect_eof();
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
}

#[test]
fn chooses_a_subprotocol_it_speaks() {
    let server = Server::with(&["--protocol", "chat", "--protocol", "superchat"]);
    let peer = Peer::connect_with(
        server.addr,
        Config::default(),
        &["v2.chat", "superchat", "chat"],
    );
    assert_eq!(peer.subprotocol.as_deref(), Some("superchat"));
    let peer = Peer::connect_with(server.addr, Config::default(), &["other"]);
    assert_eq!(peer.subprotocol, None);
}

#[test]
fn beyond_max_connections_answers_503() {
    let server = Server::with(&["--max-connections", "1"]);
    let mut first = Peer::connect(server.addr);
    let response = raw_exchange(server.addr, GOOD_REQUEST.as_bytes());
    assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
    first.send_text("still served");
    assert_eq!(first.next(), Event::Text("still served".into()));
}

// ----- keepalive, timeouts and caps: what the README promises -----

/// Keepalive at 1 s and a close timeout of 60 s: a release must come from keepalive
/// alone (a ping after 1 s of silence, the release 1 s later). A close timeout applied
/// on top (waiting for a close frame the peer will never send, or for its FIN) would
/// hold the peer for 60 s, past the deadline below, and fail the test. The deadline
/// only separates "released by keepalive" from "held by the close timeout"; nothing
/// is measured.
const KEEPALIVE: [&str; 4] = ["--idle-timeout", "1s", "--close-timeout", "60s"];
const BEFORE_THE_CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads until the server closes TCP, ignoring what arrives (a ping, a close frame);
/// fails if that has not happened by `BEFORE_THE_CLOSE_TIMEOUT`.
fn assert_released(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(BEFORE_THE_CLOSE_TIMEOUT))
        .expect("timeout");
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server did not release the peer: {e}")
            }
            // A reset is a release too (the server may close with our bytes unread).
            Err(_) => return,
        }
    }
}

#[test]
fn a_silent_peer_is_pinged_then_released_by_keepalive() {
    // Silent: completes the handshake, then sends nothing and answers nothing. A
    // half-open peer (gone without a FIN) looks exactly like this to the server.
    let server = Server::with(&KEEPALIVE);
    let mut peer = Peer::connect(server.addr);
    // Take the events without writing anything back (not even the pong).
    assert!(matches!(peer.next(), Event::Ping(_)));
    assert_released(&mut peer.stream);
}

#[test]
fn a_peer_stalled_in_the_middle_of_a_frame_is_released_by_keepalive() {
    let server = Server::with(&KEEPALIVE);
    let mut peer = Peer::connect(server.addr);
    // A masked text frame header announcing 100 bytes, then 3 of them.
    peer.stream
        .write_all(&[0x81, 0xe4, 1, 2, 3, 4, b'a', b'b', b'c'])
        .expect("write");
    assert_released(&mut peer.stream);
}

#[test]
fn a_peer_that_stops_reading_is_released_by_the_write_timeout() {
    let server = Server::with(&STOP_READING);
    assert_released_when_it_stops_reading(server.addr);
}

#[test]
fn echo_blocking_releases_a_peer_that_stops_reading() {
    let mut flags = vec!["--addr", "127.0.0.1:0", "--quiet"];
    flags.extend(STOP_READING);
    let (_server, addr) = start_server("echo_blocking", &flags);
    assert_released_when_it_stops_reading(addr);
}

/// A write timeout short enough to test, and nothing else that would release the peer.
const STOP_READING: [&str; 6] = [
    "--write-timeout",
    "1s",
    "--idle-timeout",
    "off",
    "--close-timeout",
    "60s",
];

/// Sends 8 MiB messages to echo and never reads: the echoes fill the socket buffers,
/// the server's writes stop making progress, and it lets go. Our writes then fail with a
/// reset or a broken pipe; a write of ours timing out instead means the server still
/// held us (see `KEEPALIVE` for the deadline).
fn assert_released_when_it_stops_reading(addr: SocketAddr) {
    let Peer {
        mut stream, mut ws, ..
    } = Peer::connect(addr);
    let writer = thread::spawn(move || {
        stream
            .set_write_timeout(Some(BEFORE_THE_CLOSE_TIMEOUT))
            .expect("timeout");
        for _ in 0..64 {
            ws.send_binary(vec![1u8; 8 << 20]).expect("send");
            if let Err(e) = stream.write_all(&ws.take_outgoing()) {
                return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
            }
        }
        false
    });
    assert!(
        writer.join().expect("writer"),
        "the server kept reading 512 MiB, or held the peer past the deadline"
    );
}

/// Opens `n` connections that send half a request head and stop.
fn stalled_handshakes(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .expect("write");
            stream
        })
        .collect()
}

/// Connects: the peer if the server upgraded, the status line if it answered otherwise
/// (a 503). Panics if it closes without an answer (a silent drop).
fn try_connect(addr: SocketAddr) -> Result<Peer, String> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    stream.write_all(GOOD_REQUEST.as_bytes()).expect("write");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).expect("an answer, not silence");
        assert_ne!(n, 0, "closed without an answer: a silent drop");
        response.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&response[..end]).into_owned();
    if !text.starts_with("HTTP/1.1 101 ") {
        return Err(text.lines().next().unwrap_or_default().to_owned());
    }
    let mut ws = Connection::client(Config::default());
    ws.receive(&response[end..]);
    Ok(Peer {
        stream,
        ws,
        subprotocol: None,
        buf: vec![0; 4096],
    })
}

#[test]
fn stalled_handshakes_do_not_take_connection_slots() {
    // 20 connections stuck in the handshake, with a cap of 20 WebSockets: they hold
    // handshake slots (their own, bounded, released by --handshake-timeout), not
    // connection slots, so a new client is served at once.
    let server = Server::with(&["--max-connections", "20", "--max-handshakes", "100"]);
    let _stalled = stalled_handshakes(server.addr, 20);
    let mut peer = try_connect(server.addr).expect("served");
    peer.send_text("still served");
    assert_eq!(peer.next(), Event::Text("still served".into()));
}

#[test]
fn when_handshake_slots_are_full_a_new_client_gets_503_not_silence() {
    let server = Server::with(&["--max-handshakes", "20"]);
    let _stalled = stalled_handshakes(server.addr, 20);
    // The 21st connection may be accepted before the 20th took its slot: only the
    // answer matters, and it is a 503, not silence.
    let status = try_connect(server.addr).err().expect("a 503");
    assert!(status.starts_with("HTTP/1.1 503 "), "{status}");
}

#[test]
fn idle_websockets_filling_the_cap_get_a_503_then_keepalive_frees_the_cap() {
    // The README's promise: a client beyond --max-connections gets a 503 with
    // Retry-After, never silence; and idle peers hold their slot only until keepalive
    // releases them, so a client that retries is served.
    let server = Server::with(&["--max-connections", "20", "--idle-timeout", "1s"]);
    let _idle: Vec<Peer> = (0..20).map(|_| Peer::connect(server.addr)).collect();
    let status = try_connect(server.addr)
        .err()
        .expect("a 503 while the cap is full");
    assert!(status.starts_with("HTTP/1.1 503 "), "{status}");
    let deadline = Instant::now() + TIMEOUT;
    let mut peer = loop {
        match try_connect(server.addr) {
            Ok(peer) => break peer,
            Err(status) => assert!(status.starts_with("HTTP/1.1 503 "), "{status}"),
        }
        assert!(Instant::now() < deadline, "keepalive never freed a slot");
        thread::sleep(Duration::from_millis(200)); // Retry-After, shortened
    };
    peer.send_text("served");
    assert_eq!(peer.next(), Event::Text("served".into()));
}

#[cfg(unix)]
#[test]
fn shutdown_gives_up_on_a_peer_that_never_answers() {
    let mut server = Server::with(&["--close-timeout", "200ms"]);
    let mut peer = Peer::connect(server.addr);
    server.running.interrupt();
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY),
        other => panic!("expected close 1001, got {other:?}"),
    }
    // We never answer; the server closes TCP and exits 0 anyway.
    peer.expect_eof();
    assert!(server.running.wait().success());
}

// ----- the example binaries -----

#[test]
fn echo_binaries_print_their_url_and_echo() {
    for name in ["echo", "echo_blocking"] {
        let (_server, addr) = start_server(name, &["--addr", "127.0.0.1:0", "--quiet"]);
        let mut peer = Peer::connect(addr);
        peer.send_text("hello");
        assert_eq!(peer.next(), Event::Text("hello".into()), "{name}");
        peer.send_binary(&[1, 2, 3]);
        assert_eq!(peer.next(), Event::Binary(vec![1, 2, 3].into()), "{name}");
        peer.stream.write_all(&[0x81, 0x00]).expect("write"); // unmasked
        match peer.next() {
            Event::Close(close) => assert_eq!(close.code, CloseCode::PROTOCOL_ERROR, "{name}"),
            other => panic!("{name}: expected close 1002, got {other:?}"),
        }
        peer.expect_eof();
        let response = raw_exchange(addr, GOOD_REQUEST.replace("13", "8").as_bytes());
        assert!(response.starts_with("HTTP/1.1 426 "), "{name}: {response}");
    }
}

#[cfg(unix)]
#[test]
fn echo_binaries_exit_0_on_sigint_after_closing_connections() {
    for name in ["echo", "echo_blocking"] {
        let (mut server, addr) = start_server(name, &["--addr", "127.0.0.1:0", "--quiet"]);
        let mut peer = Peer::connect(addr);
        peer.send_text("hello");
        assert_eq!(peer.next(), Event::Text("hello".into()), "{name}");
        server.interrupt();
        match peer.next() {
            Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY, "{name}"),
            other => panic!("{name}: expected close 1001, got {other:?}"),
        }
        peer.flush();
        peer.expect_eof();
        let status = server.wait();
        assert!(status.success(), "{name}: {status}");
    }
}

// ----- the io_uring echo server (feature `uring`, Linux) -----

/// `examples/echo_uring` on a free port, `--quiet`, with `flags`; `None` (and a `SKIP`
/// line) where this kernel refuses io_uring (a seccomp filter, `io_uring_disabled`),
/// since the example then refuses to start.
#[cfg(all(feature = "uring", target_os = "linux"))]
fn start_echo_uring(test: &str, flags: &[&str]) -> Option<(Running, SocketAddr)> {
    static PROBE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    // Once, on a thread of its own: closing a ring sends task work to the threads that
    // used it, which interrupts a blocking read with a timeout (EINTR) on that thread.
    let probe = PROBE.get_or_init(|| {
        thread::spawn(|| {
            monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .build()
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .join()
        .expect("probe thread")
    });
    if let Err(e) = probe {
        eprintln!("SKIP {test}: io_uring is not available here ({e})");
        return None;
    }
    let mut all = vec!["--addr", "127.0.0.1:0", "--quiet"];
    all.extend_from_slice(flags);
    Some(start_server("echo_uring", &all))
}

#[cfg(all(feature = "uring", target_os = "linux"))]
#[test]
fn echo_uring_echoes_text_and_binary_answers_pings_and_echoes_the_close() {
    let Some((_server, addr)) = start_echo_uring("echo_uring_echoes", &[]) else {
        return;
    };
    let mut peer = Peer::connect(addr);
    echoes_each_size(&mut peer);
    peer.ws.send_ping(b"are you there").expect("ping");
    peer.flush();
    assert_eq!(peer.next(), Event::Pong((&b"are you there"[..]).into()));
    // A message and the close in one write: the echo, then the close echo, then EOF.
    peer.ws.send_text("last").expect("send");
    peer.ws.close(CloseCode::NORMAL, "done").expect("close");
    peer.flush();
    assert_eq!(peer.next(), Event::Text("last".into()));
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::NORMAL),
        other => panic!("expected the close echo 1000, got {other:?}"),
    }
    peer.expect_eof();
}

#[cfg(all(feature = "uring", target_os = "linux"))]
#[test]
fn echo_uring_closes_1002_on_an_unmasked_frame_and_answers_426_and_503() {
    let flags = ["--max-connections", "1"];
    let Some((_server, addr)) = start_echo_uring("echo_uring_closes", &flags) else {
        return;
    };
    let mut peer = Peer::connect(addr);
    // The cap is taken by `peer`: a second client gets a 503.
    let response = raw_exchange(addr, GOOD_REQUEST.as_bytes());
    assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
    peer.send_text("still served");
    assert_eq!(peer.next(), Event::Text("still served".into()));
    peer.stream.write_all(&[0x81, 0x00]).expect("write"); // unmasked
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("expected close 1002, got {other:?}"),
    }
    peer.expect_eof();
    drop(peer);
    // The slot is free again once the server has closed; a bad version gets a 426.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = raw_exchange(addr, GOOD_REQUEST.replace("13", "8").as_bytes());
        if response.starts_with("HTTP/1.1 426 ") {
            break;
        }
        assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
        assert!(Instant::now() < deadline, "the slot was never freed");
        thread::sleep(Duration::from_millis(20));
    }
}

/// As `a_peer_that_stops_reading_is_released_by_the_write_timeout`, for `echo_uring`.
#[cfg(all(feature = "uring", target_os = "linux"))]
#[test]
fn echo_uring_releases_a_peer_that_stops_reading() {
    let Some((_server, addr)) = start_echo_uring("echo_uring_releases", &STOP_READING) else {
        return;
    };
    assert_released_when_it_stops_reading(addr);
}

#[cfg(all(feature = "uring", target_os = "linux"))]
#[test]
fn echo_uring_exits_0_on_sigint_after_closing_connections() {
    let Some((mut server, addr)) = start_echo_uring("echo_uring_exits", &[]) else {
        return;
    };
    let mut peer = Peer::connect(addr);
    peer.send_text("hello");
    assert_eq!(peer.next(), Event::Text("hello".into()));
    server.interrupt();
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY),
        other => panic!("expected close 1001, got {other:?}"),
    }
    peer.flush();
    peer.expect_eof();
    drop(peer); // our FIN: the server need not wait out its close timeout
    let status = server.wait();
    assert!(status.success(), "{status}");
}

#[test]
fn client_binary_sends_lines_and_prints_the_echo() {
    let server = Server::start();
    let mut client = example("client");
    client.arg(server.url());
    let done = run(client, "hello\nκόσμε\n\nlast line\n");
    assert_eq!(
        done.stdout, "hello\nκόσμε\n\nlast line\n",
        "stderr: {}",
        done.stderr
    );
    assert!(done.status.success(), "{}: {}", done.status, done.stderr);
}

#[test]
fn client_binary_offers_subprotocols_and_sends_headers() {
    let server = Server::with(&["--protocol", "chat"]);
    let mut client = example("client");
    client
        .args(["--protocol", "superchat", "--protocol", "chat"])
        .args(["--header", "Authorization: Bearer x", &server.url()]);
    let done = run(client, "hi\n");
    assert_eq!(done.stdout, "hi\n");
    assert!(done.stderr.contains("subprotocol chat"), "{}", done.stderr);
    assert!(done.status.success(), "{}: {}", done.status, done.stderr);
}

#[test]
#[cfg(feature = "deflate")]
fn client_binary_and_echo_agree_on_deflate() {
    let server = Server::with(&["--deflate"]);
    let mut client = example("client");
    client.args(["--deflate", &server.url()]);
    let long = "a compressible line, ".repeat(1000);
    let done = run(client, &format!("hi\n{long}\n"));
    assert_eq!(done.stdout, format!("hi\n{long}\n"), "{}", done.stderr);
    assert!(
        done.stderr.contains("extensions: permessage-deflate"),
        "{}",
        done.stderr
    );
    assert!(done.status.success(), "{}: {}", done.status, done.stderr);
}

#[test]
#[cfg(not(feature = "deflate"))]
fn deflate_flag_without_the_feature_is_a_usage_error() {
    let mut client = example("client");
    client.args(["--deflate", "ws://127.0.0.1:9/"]);
    let done = run(client, "");
    assert_eq!(done.status.code(), Some(2), "{}", done.stderr);
    // The message says how to get the feature (off by default).
    assert!(
        done.stderr.contains("--features deflate"),
        "{}",
        done.stderr
    );
}

#[test]
fn client_binary_fails_on_a_rejected_handshake() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let not_websocket = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    });
    let mut client = example("client");
    client.arg(format!("ws://{addr}/nowhere"));
    let done = run(client, "");
    not_websocket.join().expect("server thread");
    assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
    assert!(done.stderr.contains("404"), "{}", done.stderr);
}

#[test]
fn client_binary_fails_on_eof_without_close() {
    // A server that accepts the handshake, then drops the connection: 1006.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let rude = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let mut parser = RequestParser::new();
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).expect("read");
            assert_ne!(n, 0);
            received.extend_from_slice(&buf[..n]);
            if let Some(request) = parser.parse(&received).expect("a valid request") {
                stream.write_all(&request.accept().to_vec()).expect("write");
                return;
            }
        }
    });
    let mut client = example("client");
    client.arg(format!("ws://{addr}/"));
    // Input that stays open is not needed: the server's drop ends the session.
    let done = run(client, "");
    rude.join().expect("server thread");
    assert_eq!(done.status.code(), Some(3), "{}", done.stderr);
}

#[test]
fn client_binary_refuses_wss_and_bad_flags() {
    let mut client = example("client");
    client.arg("wss://example.com/");
    let done = run(client, "");
    assert_eq!(done.status.code(), Some(1));
    assert!(done.stderr.contains("TLS"), "{}", done.stderr);

    let mut client = example("client");
    client.arg("--no-such-flag");
    assert_eq!(run(client, "").status.code(), Some(2));

    let mut client = example("client");
    client.arg("--help");
    let done = run(client, "");
    assert!(done.status.success());
    assert!(done.stdout.contains("Usage: client"));
}
