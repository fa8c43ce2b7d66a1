//! The examples over real sockets on 127.0.0.1 (OS-assigned ports).
//!
//! Most tests serve `examples/common`'s echo server in-process and talk to it with this
//! crate's own client `Connection` over a blocking `TcpStream`; a few start the example
//! binaries (`echo`, `echo_blocking`, `client`), built on first use. Every read has a
//! timeout, so a hung server fails a test instead of hanging it. No test asserts on
//! timing.

#[path = "../examples/common/mod.rs"]
mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::server::{EchoOptions, serve};
use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
use rfc6455::{CloseCode, Config, Connection, Event};

/// The bound on every wait in these tests: generous, for debug builds on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(60);

// ----- an in-process echo server -----

/// The echo server from `examples/common`, on a runtime in its own thread. Dropping it
/// shuts the server down (close 1001 to open connections) and waits for it.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Self {
        Self::with(EchoOptions::default())
    }

    fn with(options: EchoOptions) -> Self {
        let options = EchoOptions {
            log: false,
            ..options
        };
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send");
                serve(listener, options, async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        let addr = addr_rx.recv_timeout(TIMEOUT).expect("server address");
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Shuts the server down and waits (bounded) for `serve` to return.
    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let (done_tx, done_rx) = mpsc::channel();
            thread::spawn(move || {
                let _ = done_tx.send(thread.join().is_ok());
            });
            assert_eq!(
                done_rx.recv_timeout(TIMEOUT),
                Ok(true),
                "server did not stop"
            );
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !thread::panicking() {
            self.shutdown();
        } else if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
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

#[test]
fn echoes_text_and_binary_at_each_size() {
    let server = Server::start();
    let mut peer = Peer::connect(server.addr);
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
    let server = Server::with(EchoOptions {
        config: Config::default().max_message_size(1024),
        ..EchoOptions::default()
    });
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
    let server = Server::with(EchoOptions {
        handshake_timeout: Duration::from_millis(200),
        ..EchoOptions::default()
    });
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
    let server = Server::with(EchoOptions {
        protocols: vec!["chat".into(), "superchat".into()],
        ..EchoOptions::default()
    });
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
    let server = Server::with(EchoOptions {
        max_connections: 1,
        ..EchoOptions::default()
    });
    let mut first = Peer::connect(server.addr);
    let response = raw_exchange(server.addr, GOOD_REQUEST.as_bytes());
    assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
    first.send_text("still served");
    assert_eq!(first.next(), Event::Text("still served".into()));
}

#[test]
fn idle_connection_is_pinged_then_closed() {
    let server = Server::with(EchoOptions {
        idle_timeout: Some(Duration::from_millis(100)),
        ..EchoOptions::default()
    });
    let mut peer = Peer::connect(server.addr);
    // Take the events without writing anything back (not even the pong).
    assert_eq!(peer.next(), Event::Ping((&b"idle"[..]).into()));
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY),
        other => panic!("expected close 1001, got {other:?}"),
    }
}

#[test]
fn shutdown_sends_1001_and_waits_for_the_close_echo() {
    let mut server = Server::start();
    let mut peer = Peer::connect(server.addr);
    peer.send_text("before");
    assert_eq!(peer.next(), Event::Text("before".into()));
    let stopper = {
        let stop = server.stop.take();
        thread::spawn(move || {
            if let Some(stop) = stop {
                let _ = stop.send(());
            }
        })
    };
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY),
        other => panic!("expected close 1001, got {other:?}"),
    }
    peer.flush(); // the echo of the server's close
    peer.expect_eof();
    stopper.join().expect("stopper");
    server.shutdown(); // serve() returned
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "still accepting after shutdown"
    );
}

#[test]
fn shutdown_gives_up_on_a_peer_that_never_answers() {
    let mut server = Server::with(EchoOptions {
        close_timeout: Duration::from_millis(200),
        ..EchoOptions::default()
    });
    let mut peer = Peer::connect(server.addr);
    server.shutdown(); // returns once the silent peer was given up on
    match peer.next() {
        Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY),
        other => panic!("expected close 1001, got {other:?}"),
    }
    peer.expect_eof();
}

// ----- the example binaries -----

/// The directory of the example binaries, built once per test run (`cargo test` builds
/// examples, `cargo test --test examples` does not).
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("<target>/<profile>");
        let target_dir = profile_dir.parent().expect("<target>");
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args([
                "build",
                "--quiet",
                "--example",
                "echo",
                "--example",
                "echo_blocking",
            ])
            .args(["--example", "client", "--manifest-path"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    })
}

fn example(name: &str) -> Command {
    Command::new(examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// A running example; killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a server example on port 0 and reads the URL it prints.
fn start_example_server(name: &str) -> (Running, SocketAddr) {
    let mut child = example(name)
        .args(["--addr", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server example");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (line_tx, line_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = io::BufRead::read_line(&mut io::BufReader::new(stdout), &mut line);
        let _ = line_tx.send(line);
    });
    let line = line_rx.recv_timeout(TIMEOUT).expect("the URL line");
    let url = line
        .trim()
        .strip_prefix("listening on ws://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (running, url.parse().expect("an address"))
}

/// Output of a finished example.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs an example to completion with `stdin` as its input, killing it after TIMEOUT.
fn run_example(mut command: Command, stdin: &str) -> Finished {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example");
    let mut input = child.stdin.take().expect("stdin");
    let input_text = stdin.to_owned();
    let writer = thread::spawn(move || {
        let _ = input.write_all(input_text.as_bytes());
        // Dropping `input` closes the example's stdin.
    });
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the example did not finish in time");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Finished {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

#[test]
fn echo_binaries_print_their_url_and_echo() {
    for name in ["echo", "echo_blocking"] {
        let (_server, addr) = start_example_server(name);
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
        let (mut server, addr) = start_example_server(name);
        let mut peer = Peer::connect(addr);
        peer.send_text("hello");
        assert_eq!(peer.next(), Event::Text("hello".into()), "{name}");
        let kill = Command::new("kill")
            .args(["-INT", &server.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        match peer.next() {
            Event::Close(close) => assert_eq!(close.code, CloseCode::GOING_AWAY, "{name}"),
            other => panic!("{name}: expected close 1001, got {other:?}"),
        }
        peer.flush();
        peer.expect_eof();
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = server.0.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit after SIGINT"
            );
            thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{name}: {status}");
    }
}

#[test]
fn client_binary_sends_lines_and_prints_the_echo() {
    let server = Server::start();
    let mut client = example("client");
    client.arg(server.url());
    let done = run_example(client, "hello\nκόσμε\n\nlast line\n");
    assert_eq!(
        done.stdout, "hello\nκόσμε\n\nlast line\n",
        "stderr: {}",
        done.stderr
    );
    assert!(done.status.success(), "{}: {}", done.status, done.stderr);
}

#[test]
fn client_binary_offers_subprotocols_and_sends_headers() {
    let server = Server::with(EchoOptions {
        protocols: vec!["chat".into()],
        ..EchoOptions::default()
    });
    let mut client = example("client");
    client
        .args(["--protocol", "superchat", "--protocol", "chat"])
        .args(["--header", "Authorization: Bearer x", &server.url()]);
    let done = run_example(client, "hi\n");
    assert_eq!(done.stdout, "hi\n");
    assert!(done.stderr.contains("subprotocol chat"), "{}", done.stderr);
    assert!(done.status.success(), "{}: {}", done.status, done.stderr);
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
    let done = run_example(client, "");
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
    let done = run_example(client, "");
    rude.join().expect("server thread");
    assert_eq!(done.status.code(), Some(3), "{}", done.stderr);
}

#[test]
fn client_binary_refuses_wss_and_bad_flags() {
    let mut client = example("client");
    client.arg("wss://example.com/");
    let done = run_example(client, "");
    assert_eq!(done.status.code(), Some(1));
    assert!(done.stderr.contains("TLS"), "{}", done.stderr);

    let mut client = example("client");
    client.arg("--no-such-flag");
    assert_eq!(run_example(client, "").status.code(), Some(2));

    let mut client = example("client");
    client.arg("--help");
    let done = run_example(client, "");
    assert!(done.status.success());
    assert!(done.stdout.contains("Usage: client"));
}
