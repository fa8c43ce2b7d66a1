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

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use args::{Arg, ArgError, Args, options_or_exit};
use bytes::Buf;
use rfc6455::handshake::RequestParser;
use rfc6455::{CloseCode, Config, Connection, Event, HandshakeError, UsageError};

const USAGE: &str = "\
WebSocket echo server (blocking std::net, a thread per connection).

Usage: echo_blocking [OPTIONS]

Options:
      --addr ADDR                listen on ADDR [default: 127.0.0.1:9002]; port 0 picks one
      --handshake-timeout TIME   the opening handshake must finish within TIME [default: 10s]
      --close-timeout TIME       wait TIME for the peer's close frame [default: 5s]
      --idle-timeout TIME|off    ping after TIME of silence, close 1001 after TIME more [default: 20s]
      --write-timeout TIME       release a peer that reads nothing for TIME [default: 30s]
      --max-connections N        answer 503 beyond N connections [default: 1000]
      --max-message-size BYTES   largest message accepted [default: 64MiB]
  -q, --quiet                    no log line per connection
  -h, --help                     print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms); BYTES may end in KiB, MiB, GiB.
Prints `listening on ws://ADDR` once bound.
";

#[derive(Debug, Clone)]
struct Options {
    config: Config,
    handshake_timeout: Duration,
    close_timeout: Duration,
    idle_timeout: Option<Duration>,
    write_timeout: Duration,
    max_connections: usize,
    log: bool,
}

fn parse_args() -> Result<Option<(SocketAddr, Options)>, ArgError> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9002).into();
    let mut options = Options {
        config: Config::default(),
        handshake_timeout: Duration::from_secs(10),
        close_timeout: Duration::from_secs(5),
        idle_timeout: Some(Duration::from_secs(20)),
        write_timeout: Duration::from_secs(30),
        max_connections: 1000,
        log: true,
    };
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let Arg::Flag(flag) = arg else {
            return Err(ArgError("unexpected argument; see --help".into()));
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = args.parse()?,
            "--handshake-timeout" => options.handshake_timeout = nonzero(args.duration()?)?,
            "--close-timeout" => options.close_timeout = nonzero(args.duration()?)?,
            "--idle-timeout" => match args.value()?.as_str() {
                "off" => options.idle_timeout = None,
                t => {
                    let t =
                        args::parse_duration(t).ok_or_else(|| ArgError(format!("{flag} {t:?}")))?;
                    options.idle_timeout = Some(nonzero(t)?);
                }
            },
            "--write-timeout" => options.write_timeout = nonzero(args.duration()?)?,
            "--max-connections" => options.max_connections = args.parse()?,
            "--max-message-size" => {
                options.config = options.config.max_message_size(args.size()?);
            }
            "-q" | "--quiet" => options.log = false,
            _ => return Err(args.unknown()),
        }
    }
    Ok(Some((addr, options)))
}

/// A socket read timeout of zero means "none" to `std`: refuse it.
fn nonzero(t: Duration) -> Result<Duration, ArgError> {
    if t.is_zero() {
        return Err(ArgError("a time limit must be more than zero".into()));
    }
    Ok(t)
}

/// Set by Ctrl-C or SIGTERM: stop accepting, close every connection with 1001.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// The longest a connection's thread blocks in a read before it looks at the clock and
/// the shutdown flag.
const TICK: Duration = Duration::from_millis(200);

fn main() -> ExitCode {
    let (addr, options) = match options_or_exit(parse_args(), USAGE) {
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
    let mut close_started: Option<Instant> = None;
    let mut last_heard = Instant::now();
    let mut pinged = false;
    stream.set_read_timeout(Some(TICK))?;
    loop {
        // 2. Events from the bytes received so far.
        let mut outcome = None;
        loop {
            match ws.next_event() {
                Ok(Some(Event::Text(text))) => ignore_closed(ws.send_text(text))?,
                Ok(Some(Event::Binary(data))) => ignore_closed(ws.send_binary(data))?,
                // The connection queued the echo of the close frame (or the pong).
                Ok(Some(Event::Close(close))) => outcome = Some(format!("closed ({})", close.code)),
                Ok(Some(_)) => {}
                Ok(None) => break,
                // A ProtocolError: the close frame with its code is queued, and the
                // connection takes no more input. Write it out below.
                Err(e) => {
                    outcome = Some(format!("failed: {e} (sent close {})", e.close_code()));
                    break;
                }
            }
        }
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
            Ok(_) => {
                last_heard = Instant::now();
                pinged = false;
            }
            Err(e) if is_timeout(&e) => {
                if let Some(started) = close_started {
                    if started.elapsed() >= options.close_timeout {
                        stream.shutdown(Shutdown::Both)?;
                        return Ok("no close frame from the peer in time".into());
                    }
                } else if SHUTTING_DOWN.load(Ordering::SeqCst) {
                    ignore_closed(ws.close(CloseCode::GOING_AWAY, "server shutting down"))?;
                    close_started = Some(Instant::now());
                } else if let Some(idle) = options.idle_timeout {
                    if last_heard.elapsed() >= idle && !pinged {
                        // Silent for a while: is the peer still there (§5.5.2)?
                        ignore_closed(ws.send_ping(b"idle"))?;
                        pinged = true;
                        last_heard = Instant::now();
                    } else if last_heard.elapsed() >= idle {
                        ignore_closed(ws.close(CloseCode::GOING_AWAY, "idle timeout"))?;
                        close_started = Some(Instant::now());
                    }
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

/// After our own close, messages still arrive until the peer's close; sending is refused
/// and they are not echoed. Any other usage error is a bug here.
fn ignore_closed(result: Result<(), UsageError>) -> io::Result<()> {
    match result {
        Ok(()) | Err(UsageError::Closed) => Ok(()),
        Err(e) => Err(io::Error::other(e)),
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
