//! A WebSocket echo server on io_uring: the sans-IO loop of `echo_blocking`, driven by
//! the [monoio](https://docs.rs/monoio) runtime (one thread, a task per connection,
//! reads and writes submitted to the kernel in batches through io_uring). It exists to
//! measure that against the epoll-based tokio servers (`scripts/bench/e2e.sh`,
//! `echo-uring`).
//!
//! ```sh
//! cargo run --release --features uring --example echo_uring -- --addr 127.0.0.1:9001
//! cargo run --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! Linux only (io_uring, 5.6 or later). Where the kernel refuses io_uring (a seccomp
//! filter, `kernel.io_uring_disabled`), it says so and exits with status 1.
//!
//! Each connection reads the request and answers it (`RequestParser`: 101, or the
//! error's status), then loops:
//!
//! 1. read into an owned buffer (the kernel fills it while the task waits, monoio hands
//!    it back, it is reused), and `receive` the bytes (or `receive_eof`);
//! 2. take the connection's events (`next_event`) and echo messages (`send_text`,
//!    `send_binary`); pings and the close echo are queued by the connection itself, and
//!    a `ProtocolError` has its close frame (1002, 1007, 1009) queued already;
//! 3. write everything queued in one write (`take_outgoing_into`, a reused buffer);
//! 4. close the socket when the connection says so (`should_close_transport`), after
//!    that write, so the close frame goes out first.
//!
//! Time limits are checked on a tick: a connection waiting for a read wakes every
//! 200 ms to look at the clock and the shutdown flag (its read stays in flight). Ctrl-C
//! (or SIGTERM) stops accepting, sends close 1001 to every open connection, waits for
//! them (at most the close timeout), and exits 0.

#[cfg(not(target_os = "linux"))]
compile_error!("echo_uring runs on io_uring, which is Linux only");

#[allow(
    dead_code,
    reason = "shared with the other examples, which use more of it"
)]
#[path = "common/args.rs"]
mod args;
#[path = "common/echo_options.rs"]
mod echo_options;

use std::cell::Cell;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use args::options_or_exit;
use echo_options::{EchoOptions as Options, EchoServer, Limits, Tick, echo_events};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, OwnedReadHalf, OwnedWriteHalf, Splitable,
};
use monoio::net::{TcpListener, TcpStream};
use monoio::time::{Interval, MissedTickBehavior, interval_at, sleep, timeout};
use monoio::{IoUringDriver, RuntimeBuilder};
use rfc6455::handshake::RequestParser;
use rfc6455::{Connection, HandshakeError};

/// The flags, help text and defaults (shared with the other core-driven echo server).
const SERVER: EchoServer = EchoServer {
    name: "echo_uring",
    title: "WebSocket echo server (io_uring, monoio: one thread, a task per connection).",
    addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9001)),
    max_connections: 10000,
};

/// Set by Ctrl-C or SIGTERM: stop accepting, close every connection with 1001.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// How often a task waiting for input looks at the clock and the shutdown flag.
const TICK: Duration = Duration::from_millis(200);

/// The read buffer of a connection (reads of up to this much; reused).
const READ_SIZE: usize = 64 * 1024;

type Reader = OwnedReadHalf<TcpStream>;
type Writer = OwnedWriteHalf<TcpStream>;

fn main() -> ExitCode {
    let (addr, options) = match options_or_exit(SERVER.parse_args(), &SERVER.usage()) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let mut runtime = match RuntimeBuilder::<IoUringDriver>::new()
        .enable_timer()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!(
                "error: io_uring is not available here ({e}); echo_uring needs Linux 5.6 or \
                 later with io_uring allowed (kernel.io_uring_disabled = 0, no seccomp filter \
                 against it)"
            );
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = ctrlc::set_handler(|| SHUTTING_DOWN.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not shut down cleanly: {e}");
    }
    runtime.block_on(run(addr, options))
}

async fn run(addr: SocketAddr, options: Options) -> ExitCode {
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
    let options = Rc::new(options);
    let open = Rc::new(Cell::new(0_usize));
    let mut tick = ticker();
    'accepting: loop {
        // The accept stays in flight across ticks: nothing is accepted and then dropped.
        let mut accept = pin!(listener.accept());
        let accepted = loop {
            monoio::select! {
                biased;
                accepted = &mut accept => break accepted,
                _ = tick.tick() => if SHUTTING_DOWN.load(Ordering::SeqCst) {
                    break 'accepting;
                },
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                eprintln!("accept failed: {e}");
                sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let busy = open.get() >= options.max_connections;
        open.set(open.get() + 1);
        let (options, open) = (Rc::clone(&options), Rc::clone(&open));
        monoio::spawn(async move {
            let (mut rd, mut wr) = stream.into_split();
            let result = if busy {
                reject_busy(&mut rd, &mut wr, &options).await
            } else {
                serve(&mut rd, &mut wr, &options).await
            };
            open.set(open.get() - 1);
            if options.log {
                match result {
                    Ok(how) => eprintln!("{peer}: {how}"),
                    Err(e) => eprintln!("{peer}: {e}"),
                }
            }
        });
    }
    drop(listener);
    // Every connection sees the flag within a tick and closes with 1001; give them the
    // close timeout (and a tick) to finish the close handshake.
    let deadline = Instant::now() + options.close_timeout + 2 * TICK;
    if options.log {
        eprintln!("shutting down: closing {} connection(s)", open.get());
    }
    while open.get() > 0 && Instant::now() < deadline {
        sleep(Duration::from_millis(20)).await;
    }
    ExitCode::SUCCESS
}

/// Ticks every [`TICK`], the first one [`TICK`] from now; a busy task that missed ticks
/// gets one, not a burst.
fn ticker() -> Interval {
    let mut tick = interval_at(monoio::time::Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tick
}

/// Serves one connection; returns how it ended.
async fn serve(rd: &mut Reader, wr: &mut Writer, options: &Options) -> io::Result<String> {
    let mut ws = match timeout(options.handshake_timeout, handshake(rd, wr, options)).await {
        Ok(Ok(Ok(ws))) => ws,
        Ok(Ok(Err(e))) => {
            // 400, 405, 426 or 431, then close.
            let (written, _) = wr.write_all(e.response()).await;
            written?;
            close_gracefully(rd, wr, options.close_timeout).await;
            return Ok(format!("handshake rejected with {}: {e}", e.status()));
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "handshake timed out",
            ));
        }
    };
    let mut input = Vec::with_capacity(READ_SIZE);
    let mut output = Vec::new();
    let mut tick = ticker();
    let mut limits = Limits::new();
    let mut outcome = None;
    loop {
        // 2. Events from the bytes received so far; the echoes are queued.
        if let Some(ended) = echo_events(&mut ws)? {
            outcome = Some(ended);
        }
        // 3. Everything queued, in one write.
        output = write_out(wr, &mut ws, output, options.write_timeout).await?;
        // 4. The server closes TCP first once the close handshake is done (§7.1.1).
        if ws.should_close_transport() {
            close_gracefully(rd, wr, options.close_timeout).await;
            return Ok(outcome.unwrap_or_else(|| "closed".into()));
        }
        // 1. Read more; the read stays in flight while the ticks check the time limits.
        let mut read = pin!(rd.read(input));
        let (result, buf) = loop {
            monoio::select! {
                biased;
                done = &mut read => break done,
                _ = tick.tick() => {
                    let shutting_down = SHUTTING_DOWN.load(Ordering::SeqCst);
                    if let Tick::GiveUp = limits.tick(&mut ws, options, shutting_down)? {
                        let _ = wr.shutdown().await;
                        return Ok("no close frame from the peer in time".into());
                    }
                    output = write_out(wr, &mut ws, output, options.write_timeout).await?;
                },
            }
        };
        input = buf;
        match result? {
            0 => ws.receive_eof(),
            n => {
                ws.receive(&input[..n]);
                limits.heard();
            }
        }
    }
}

/// Reads the opening request and answers a valid one with 101. The inner error is a
/// request to reject, not yet answered.
async fn handshake(
    rd: &mut Reader,
    wr: &mut Writer,
    options: &Options,
) -> io::Result<Result<Connection, HandshakeError>> {
    let mut parser = RequestParser::new();
    let mut received = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (n, back) = rd.read(buf).await;
        buf = back;
        let n = n?;
        received.extend_from_slice(&buf[..n]);
        match parser.parse(&received) {
            Ok(Some(request)) => {
                let response = request.accept().to_vec();
                let mut ws = Connection::server(options.config);
                // Bytes after the request are already frames.
                ws.receive(&received[request.consumed()..]);
                let (written, _) = wr.write_all(response).await;
                written?;
                return Ok(Ok(ws));
            }
            Ok(None) if n == 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during the handshake",
                ));
            }
            Ok(None) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
    Content-Length: 0\r\n\r\n";

async fn reject_busy(rd: &mut Reader, wr: &mut Writer, options: &Options) -> io::Result<String> {
    let (written, _) = wr.write_all(BUSY).await;
    written?;
    close_gracefully(rd, wr, options.close_timeout).await;
    Ok("too many connections: answered 503".into())
}

/// Writes everything the connection queued, in one write (more only if the socket takes
/// part of it), and hands the buffer back for the next time. A peer that reads nothing
/// for `limit` (its receive window full) is released: an error, which ends the
/// connection.
async fn write_out(
    wr: &mut Writer,
    ws: &mut Connection,
    mut out: Vec<u8>,
    limit: Duration,
) -> io::Result<Vec<u8>> {
    out.clear();
    ws.take_outgoing_into(&mut out);
    if out.is_empty() {
        return Ok(out);
    }
    let Ok((written, mut out)) = timeout(limit, wr.write_all(out)).await else {
        return Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer read nothing for the write timeout",
        ));
    };
    written?;
    if out.capacity() > 4 * READ_SIZE {
        out = Vec::new(); // after a large message: do not keep its size for every write
    }
    Ok(out)
}

/// Closes our side (FIN), then reads what the peer still sends until it closes too, at
/// most `linger`: closing with unread input would reset the connection and could
/// destroy the close frame just written.
async fn close_gracefully(rd: &mut Reader, wr: &mut Writer, linger: Duration) {
    let _ = wr.shutdown().await;
    let drain = async {
        let mut sink = Vec::with_capacity(4096);
        loop {
            let (n, back) = rd.read(sink).await;
            sink = back;
            if !matches!(n, Ok(n) if n > 0) {
                return;
            }
        }
    };
    let _ = timeout(linger, drain).await;
}
