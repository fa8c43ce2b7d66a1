//! A WebSocket echo server on blocking `std::net`, one thread per connection: the
//! plainest picture of the sans-IO loop, with no runtime.
//!
//! ```sh
//! cargo run --example echo_blocking             # ws://127.0.0.1:9002
//! cargo run --example client -- ws://127.0.0.1:9002/
//! ```
//!
//! Each connection runs [`serve`]: read the request and answer it, then loop:
//!
//! 1. read straight into the connection's buffer (`receive_with`, or `receive_eof` at
//!    end of stream),
//! 2. take its events (`next_event`) and echo messages (`send_text`, `send_binary`: the
//!    payload is handed back without a copy); a `ProtocolError` has its close frame
//!    (1002, 1007, 1009) queued already,
//! 3. write out what it queued (`outgoing()`, a `bytes::Buf`: write what the socket
//!    takes, `advance` by that much),
//! 4. close the socket when it says so (`should_close_transport`).
//!
//! Time limits are socket read timeouts: every read wakes at least every 200 ms to check
//! the clock and the shutdown flag; a write that makes no progress for the write timeout
//! (the peer reads nothing) fails and releases the connection. Ctrl-C (or SIGTERM) stops accepting, sends close 1001
//! to every open connection, waits for them (at most the close timeout), and exits 0.

#[allow(
    dead_code,
    reason = "shared with the other examples, which use more of it"
)]
#[path = "common/args.rs"]
mod args;
#[path = "common/echo_options.rs"]
mod echo_options;

use std::io::{self, IoSlice, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use args::options_or_exit;
use bytes::Buf;
use echo_options::{EchoOptions as Options, EchoServer, Limits, Tick, echo_events};
use rfc6455::handshake::RequestParser;
use rfc6455::{Connection, HandshakeError};

/// The flags, help text and defaults (shared with the other core-driven echo server).
const SERVER: EchoServer = EchoServer {
    name: "echo_blocking",
    title: "WebSocket echo server (blocking std::net, a thread per connection).",
    addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9002)),
    max_connections: 1000,
};

/// Set by Ctrl-C or SIGTERM: stop accepting, close every connection with 1001.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// The longest a connection's thread blocks in a read before it looks at the clock and
/// the shutdown flag.
const TICK: Duration = Duration::from_millis(200);

fn main() -> ExitCode {
    let (addr, options) = match options_or_exit(SERVER.parse_args(), &SERVER.usage()) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on ws://{local}"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    if let Err(e) = ctrlc::set_handler(|| SHUTTING_DOWN.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not shut down cleanly: {e}");
    }
    // Accept without blocking, so that the loop sees the shutdown flag.
    if let Err(e) = listener.set_nonblocking(true) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let options = Arc::new(options);
    let open = Arc::new(AtomicUsize::new(0));
    while !SHUTTING_DOWN.load(Ordering::SeqCst) {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if is_timeout(&e) => {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                eprintln!("accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if let Err(e) = stream.set_nonblocking(false) {
            eprintln!("accept failed: {e}");
            continue;
        }
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        let busy = open.fetch_add(1, Ordering::SeqCst) >= options.max_connections;
        let (options, open_count) = (Arc::clone(&options), Arc::clone(&open));
        let spawned = thread::Builder::new()
            .name(format!("ws {peer}"))
            .spawn(move || {
                let result = if busy {
                    reject_busy(&mut stream, &options)
                } else {
                    serve(&mut stream, &options)
                };
                open_count.fetch_sub(1, Ordering::SeqCst);
                if options.log {
                    match result {
                        Ok(how) => eprintln!("{peer}: {how}"),
                        Err(e) => eprintln!("{peer}: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            open.fetch_sub(1, Ordering::SeqCst);
            eprintln!("cannot start a thread: {e}");
        }
    }
    // Every connection sees the flag within a tick and closes with 1001; give them the
    // close timeout (and a tick) to finish the close handshake.
    let deadline = Instant::now() + options.close_timeout + 2 * TICK;
    let waiting = open.load(Ordering::SeqCst);
    eprintln!("shutting down: closing {waiting} connection(s)");
    while open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    ExitCode::SUCCESS
}

/// Serves one connection; returns how it ended.
fn serve(stream: &mut TcpStream, options: &Options) -> io::Result<String> {
    let _ = stream.set_nodelay(true);
    // A write that makes no progress this long (the peer reads nothing) fails, and the
    // connection is released.
    stream.set_write_timeout(Some(options.write_timeout))?;
    let mut ws = match handshake(stream, options)? {
        Ok(ws) => ws,
        Err(e) => return Ok(format!("handshake rejected with {}: {e}", e.status())),
    };
    let mut limits = Limits::new();
    stream.set_read_timeout(Some(TICK))?;
    loop {
        // 2. Events from the bytes received so far; the echoes are queued.
        let outcome = echo_events(&mut ws)?;
        // 3. Write out what the connection queued.
        write_out(stream, &mut ws)?;
        // 4. The server closes TCP first once the close handshake is done (§7.1.1).
        if ws.should_close_transport() {
            close_gracefully(stream, options.close_timeout);
            return Ok(outcome.unwrap_or_else(|| "closed".into()));
        }
        // 1. Read more: receive, or receive_eof.
        match ws.receive_with(|room| stream.read(room)) {
            Ok(0) => ws.receive_eof(),
            Ok(_) => limits.heard(),
            Err(e) if is_timeout(&e) => {
                let shutting_down = SHUTTING_DOWN.load(Ordering::SeqCst);
                if let Tick::GiveUp = limits.tick(&mut ws, options, shutting_down)? {
                    stream.shutdown(Shutdown::Both)?;
                    return Ok("no close frame from the peer in time".into());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads and answers the opening handshake within the time limit. The inner error is a
/// rejected request, already answered.
fn handshake(
    stream: &mut TcpStream,
    options: &Options,
) -> io::Result<Result<Connection, HandshakeError>> {
    let deadline = Instant::now() + options.handshake_timeout;
    let mut parser = RequestParser::new();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "handshake timed out",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut buf) {
            Err(e) if is_timeout(&e) => continue,
            result => result?,
        };
        received.extend_from_slice(&buf[..n]);
        match parser.parse(&received) {
            Ok(Some(request)) => {
                stream.write_all(&request.accept().to_vec())?;
                let mut ws = Connection::server(options.config);
                // Bytes after the request are already frames.
                ws.receive(&received[request.consumed()..]);
                return Ok(Ok(ws));
            }
            Ok(None) if n == 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during the handshake",
                ));
            }
            Ok(None) => {}
            Err(e) => {
                // 400, 405, 426 or 431, then close.
                stream.write_all(&e.response())?;
                close_gracefully(stream, options.close_timeout);
                return Ok(Err(e));
            }
        }
    }
}

fn reject_busy(stream: &mut TcpStream, options: &Options) -> io::Result<String> {
    stream.write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
          Content-Length: 0\r\n\r\n",
    )?;
    close_gracefully(stream, options.close_timeout);
    Ok("too many connections: answered 503".into())
}

/// Writes what the connection queued, as many chunks per system call as the socket
/// takes; a partial write is accounted by `advance` and the rest goes next time round.
fn write_out(stream: &mut TcpStream, ws: &mut Connection) -> io::Result<()> {
    let out = ws.outgoing();
    while out.has_remaining() {
        let mut chunks = [IoSlice::new(&[]); 16];
        let n = out.chunks_vectored(&mut chunks);
        let written = stream.write_vectored(&chunks[..n])?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        out.advance(written);
    }
    Ok(())
}

/// Closes our side (FIN), then reads what the peer still sends until it closes too, at
/// most `linger`: closing with unread input would reset the connection and could
/// destroy the close frame just written.
fn close_gracefully(stream: &mut TcpStream, linger: Duration) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + linger;
    let mut sink = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
