//! A WebSocket echo server on tokio: every text message comes back as text, every binary
//! message as binary. Any number of connections, one task each.
//!
//! ```sh
//! cargo run --example echo                      # ws://127.0.0.1:9001
//! cargo run --example echo -- --addr 0.0.0.0:9001 --idle-timeout 60s
//! cargo run --example client -- ws://127.0.0.1:9001/
//! ```
//!
//! It is also the target of the Autobahn|Testsuite fuzzing client and of the interop
//! tests: the connection handles the protocol (auto-pong, close echo, the close code for
//! each violation), this program moves the bytes and keeps the time limits.
//!
//! The loop itself is in `common/server.rs`.

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::process::ExitCode;

use common::args::{Arg, ArgError, Args, options_or_exit};
use common::server::{EchoOptions, serve};

const USAGE: &str = "\
WebSocket echo server (tokio).

Usage: echo [OPTIONS]

Options:
      --addr ADDR                listen on ADDR [default: 127.0.0.1:9001]; port 0 picks one
      --handshake-timeout TIME   the opening handshake must finish within TIME [default: 10s]
      --close-timeout TIME       wait TIME for the peer's close frame [default: 5s]
      --idle-timeout TIME        ping after TIME of silence, close after twice [default: off]
      --max-connections N        answer 503 beyond N connections [default: 10000]
      --max-message-size BYTES   largest message accepted [default: 64MiB]
      --max-frame-size BYTES     largest frame accepted [default: 16MiB]
      --protocol NAME            a subprotocol to accept (repeatable)
  -q, --quiet                    no log line per connection
  -h, --help                     print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms); BYTES may end in KiB, MiB, GiB.
Prints `listening on ws://ADDR` once bound. Ctrl-C (or SIGTERM) stops accepting, sends
close 1001 (going away) to every open connection, waits for them briefly, and exits.
";

fn parse_args() -> Result<Option<(SocketAddr, EchoOptions)>, ArgError> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9001).into();
    let mut options = EchoOptions::default();
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let Arg::Flag(flag) = arg else {
            return Err(ArgError("unexpected argument; see --help".into()));
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = args.parse()?,
            "--handshake-timeout" => options.handshake_timeout = args.duration()?,
            "--close-timeout" => options.close_timeout = args.duration()?,
            "--idle-timeout" => options.idle_timeout = Some(args.duration()?),
            "--max-connections" => options.max_connections = args.parse()?,
            "--max-message-size" => options.config = options.config.max_message_size(args.size()?),
            "--max-frame-size" => options.config = options.config.max_frame_size(args.size()?),
            "--protocol" => options.protocols.push(args.value()?),
            "-q" | "--quiet" => options.log = false,
            _ => return Err(args.unknown()),
        }
    }
    Ok(Some((addr, options)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, options) = match options_or_exit(parse_args(), USAGE) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
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
    let log = options.log;
    serve(listener, options, async {
        shutdown_signal().await;
        if log {
            eprintln!("shutting down");
        }
    })
    .await;
    ExitCode::SUCCESS
}

/// Ctrl-C, or SIGTERM on Unix (what `kill` and service managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                eprintln!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
