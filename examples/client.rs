//! A WebSocket client on tokio: each line of standard input goes out as a text message;
//! each message received is printed (text as a line, binary as `<binary N bytes>`).
//! At end of input it sends a close (1000) and waits for the server's.
//!
//! ```sh
//! cargo run --example echo &
//! printf 'hello\nworld\n' | cargo run --example client -- ws://127.0.0.1:9001/
//! cargo run --example client -- --protocol chat --header 'Authorization: Bearer x' ws://host/
//! ```
//!
//! Exit status: 0 after a clean close handshake (code 1000, 1001 or none); 1 if
//! connecting or the opening handshake failed (a rejection prints the server's status);
//! 2 for a bad command line; 3 if the connection ended abnormally (no close handshake,
//! a protocol error, a close timeout, or the server closed with an error code).

#[path = "common/mod.rs"]
mod common;

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use common::args::{Arg, ArgError, Args, options_or_exit};
use common::client::{Client, ClientOptions, connect};
use common::io::sleep_until_some;
use rfc6455::{CloseCode, ConnectionState, Event, ProtocolError};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

const USAGE: &str = "\
WebSocket client: sends stdin lines as text messages, prints the messages received.

Usage: client [OPTIONS] URL

Arguments:
  URL                            ws://host[:port][/path][?query] (no wss://: no TLS here)

Options:
      --protocol NAME            offer a subprotocol (repeatable, in order of preference)
      --header 'NAME: VALUE'     add a request header (repeatable)
      --handshake-timeout TIME   connecting and the handshake must finish within TIME [default: 10s]
      --close-timeout TIME       wait TIME for the server's close frame [default: 5s]
      --linger TIME              at end of input, close once nothing has arrived for TIME,
                                 so that replies still in flight are printed [default: 500ms]
      --max-message-size BYTES   largest message accepted [default: 64MiB]
  -h, --help                     print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms); BYTES may end in KiB, MiB, GiB.
At end of input (after --linger) the client sends close 1000; on Ctrl-C, close 1001 (a second Ctrl-C
quits at once). Exit status: 0 clean close, 1 connection or handshake failed, 2 bad
command line, 3 abnormal close.
";

/// Exit status after a connection or handshake failure.
const EXIT_CONNECT: u8 = 1;
/// Exit status after an abnormal close.
const EXIT_ABNORMAL: u8 = 3;

struct Options {
    url: String,
    client: ClientOptions,
    close_timeout: Duration,
    linger: Duration,
}

fn parse_args() -> Result<Option<Options>, ArgError> {
    let mut url = None;
    let mut client = ClientOptions::default();
    let mut close_timeout = Duration::from_secs(5);
    let mut linger = Duration::from_millis(500);
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let flag = match arg {
            Arg::Positional(p) if url.is_none() => {
                url = Some(p);
                continue;
            }
            Arg::Positional(p) => return Err(ArgError(format!("unexpected argument {p:?}"))),
            Arg::Flag(flag) => flag,
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--protocol" => client.protocols.push(args.value()?),
            "--header" => {
                let header = args.value()?;
                let Some((name, value)) = header.split_once(':') else {
                    return Err(ArgError(format!(
                        "--header {header:?}: expected 'Name: value'"
                    )));
                };
                client
                    .headers
                    .push((name.trim().into(), value.trim().into()));
            }
            "--handshake-timeout" => client.handshake_timeout = args.duration()?,
            "--close-timeout" => close_timeout = args.duration()?,
            "--linger" => linger = args.duration()?,
            "--max-message-size" => client.config = client.config.max_message_size(args.size()?),
            _ => return Err(args.unknown()),
        }
    }
    let url = url.ok_or_else(|| ArgError("missing URL, e.g. ws://127.0.0.1:9001/".into()))?;
    Ok(Some(Options {
        url,
        client,
        close_timeout,
        linger,
    }))
}

fn main() -> ExitCode {
    let options = match options_or_exit(parse_args(), USAGE) {
        Ok(options) => options,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(options));
    // A read of stdin may still be blocked in a runtime thread: don't wait for it.
    runtime.shutdown_background();
    ExitCode::from(code)
}

async fn run(options: Options) -> u8 {
    let mut client = match connect(&options.url, &options.client).await {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_CONNECT;
        }
    };
    match &client.subprotocol {
        Some(protocol) => eprintln!("connected to {} (subprotocol {protocol})", options.url),
        None => eprintln!("connected to {}", options.url),
    }
    let code = session(&mut client, &options).await;
    client.finish(options.close_timeout).await;
    code
}

/// Sends stdin, prints messages, until the close handshake is done or the connection
/// fails. Returns the exit status.
async fn session(client: &mut Client, options: &Options) -> u8 {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut interrupted = false;
    let mut close_deadline = None;
    // After end of input: close once nothing has arrived for `linger`. A server may
    // answer our close before echoing what it received just before (§5.5.1 lets it), so
    // closing at once would lose replies still in flight.
    let mut linger_deadline: Option<Instant> = None;
    loop {
        loop {
            match client.ws.next_event() {
                Ok(Some(Event::Text(text))) => {
                    if linger_deadline.is_some() {
                        linger_deadline = Some(Instant::now() + options.linger);
                    }
                    if !print(format_args!("{text}")) {
                        start_close(client, CloseCode::NORMAL, &mut close_deadline, options);
                    }
                }
                Ok(Some(Event::Binary(data))) => {
                    if linger_deadline.is_some() {
                        linger_deadline = Some(Instant::now() + options.linger);
                    }
                    if !print(format_args!("<binary {} bytes>", data.len())) {
                        start_close(client, CloseCode::NORMAL, &mut close_deadline, options);
                    }
                }
                Ok(Some(Event::Close(close))) => {
                    let _ = client.flush().await; // the echo of the server's close
                    let reason = if close.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" {:?}", close.reason.as_str())
                    };
                    eprintln!("closed ({}{reason})", close.code);
                    let normal = [
                        CloseCode::NORMAL,
                        CloseCode::GOING_AWAY,
                        CloseCode::NO_STATUS_RECEIVED,
                    ];
                    return if normal.contains(&close.code) {
                        0
                    } else {
                        EXIT_ABNORMAL
                    };
                }
                Ok(Some(_)) => {} // pings are answered by the connection
                Ok(None) => break,
                Err(ProtocolError::UnexpectedEof) => {
                    eprintln!(
                        "error: the server closed the connection without a close handshake (1006)"
                    );
                    return EXIT_ABNORMAL;
                }
                Err(e) => {
                    let _ = client.flush().await; // the close frame for the violation
                    eprintln!("error: {e} (sent close {})", e.close_code());
                    return EXIT_ABNORMAL;
                }
            }
        }
        if let Err(e) = client.flush().await {
            eprintln!("error: writing: {e}");
            return EXIT_ABNORMAL;
        }
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    // After our close (Ctrl-C), further input is dropped.
                    if client.ws.state() == ConnectionState::Open {
                        if let Err(e) = client.ws.send_text(&line) {
                            eprintln!("error: sending: {e}");
                        }
                    }
                }
                Ok(None) => {
                    stdin_open = false;
                    linger_deadline = Some(Instant::now() + options.linger);
                }
                Err(e) => {
                    eprintln!("error: reading stdin: {e}");
                    stdin_open = false;
                    start_close(client, CloseCode::NORMAL, &mut close_deadline, options);
                }
            },
            read = client.read() => {
                if let Err(e) = read {
                    eprintln!("error: reading: {e}");
                    return EXIT_ABNORMAL;
                }
            }
            () = sleep_until_some(linger_deadline) => {
                linger_deadline = None;
                start_close(client, CloseCode::NORMAL, &mut close_deadline, options);
            }
            () = sleep_until_some(close_deadline) => {
                eprintln!("error: no close frame from the server within {:?}", options.close_timeout);
                return EXIT_ABNORMAL;
            }
            interrupt = tokio::signal::ctrl_c() => {
                if interrupted || interrupt.is_err() {
                    return EXIT_ABNORMAL;
                }
                interrupted = true;
                start_close(client, CloseCode::GOING_AWAY, &mut close_deadline, options);
            }
        }
    }
}

/// Sends our close frame (once) and starts the close timeout.
fn start_close(
    client: &mut Client,
    code: CloseCode,
    deadline: &mut Option<Instant>,
    options: &Options,
) {
    if client.ws.state() == ConnectionState::Open && client.ws.close(code, "").is_ok() {
        *deadline = Some(Instant::now() + options.close_timeout);
    }
}

/// Prints a line on stdout; false if stdout is gone (`client ... | head -1`).
fn print(line: std::fmt::Arguments<'_>) -> bool {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").is_ok() && stdout.flush().is_ok()
}
