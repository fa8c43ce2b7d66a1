//! A WebSocket client on the tokio adapter: each line of standard input goes out as a text message;
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

use common::args::{Arg, ArgError, Args, options_or_exit, with_deflate};
use rfc6455::handshake::{ClientHandshake, WsUri};
use rfc6455::tokio::{Error, Message, Options};
use rfc6455::{CloseCode, ProtocolError};
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str = "\
WebSocket client: sends stdin lines as text messages, prints the messages received.

Usage: client [OPTIONS] URL

Arguments:
  URL                            ws://host[:port][/path][?query] (no wss://: no TLS here)

Options:
      --protocol NAME            offer a subprotocol (repeatable, in order of preference)
      --header 'NAME: VALUE'     add a request header (repeatable)
      --deflate                  offer permessage-deflate (RFC 7692)
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

struct Settings {
    url: String,
    options: Options,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    linger: Duration,
}

fn parse_args() -> Result<Option<Settings>, ArgError> {
    let mut url = None;
    let mut s = Settings {
        url: String::new(),
        options: Options::default().close_timeout(Duration::from_secs(5)),
        protocols: Vec::new(),
        headers: Vec::new(),
        linger: Duration::from_millis(500),
    };
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
        let o = &mut s.options;
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--protocol" => s.protocols.push(args.value()?),
            "--header" => {
                let header = args.value()?;
                let Some((name, value)) = header.split_once(':') else {
                    return Err(ArgError(format!(
                        "--header {header:?}: expected 'Name: value'"
                    )));
                };
                s.headers.push((name.trim().into(), value.trim().into()));
            }
            "--handshake-timeout" => o.handshake_timeout = Some(args.duration()?),
            "--close-timeout" => o.close_timeout = args.duration()?,
            "--linger" => s.linger = args.duration()?,
            "--deflate" => *o = with_deflate(*o)?,
            "--max-message-size" => o.config = o.config.max_message_size(args.size()?),
            _ => return Err(args.unknown()),
        }
    }
    s.url = url.ok_or_else(|| ArgError("missing URL, e.g. ws://127.0.0.1:9001/".into()))?;
    Ok(Some(s))
}

fn main() -> ExitCode {
    let settings = match options_or_exit(parse_args(), USAGE) {
        Ok(settings) => settings,
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
    let code = runtime.block_on(run(&settings));
    // A read of stdin may still be blocked in a runtime thread: don't wait for it.
    runtime.shutdown_background();
    ExitCode::from(code)
}

async fn run(s: &Settings) -> u8 {
    let connected = async {
        let uri = WsUri::parse(&s.url)?;
        let mut request = ClientHandshake::new(&uri);
        for protocol in &s.protocols {
            request.subprotocol(protocol)?;
        }
        for (name, value) in &s.headers {
            request.header(name, value)?;
        }
        s.options.connect_request(&uri, request).await
    };
    let mut ws = match connected.await {
        Ok((ws, response)) => {
            match response.subprotocol() {
                Some(protocol) => eprintln!("connected to {} (subprotocol {protocol})", s.url),
                None => eprintln!("connected to {}", s.url),
            }
            if let Some(extensions) = response.header("Sec-WebSocket-Extensions") {
                eprintln!("extensions: {}", String::from_utf8_lossy(extensions));
            }
            ws
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_CONNECT;
        }
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    // After end of input, close once nothing has arrived for `linger`: a server may answer
    // our close before echoing what it received just before (§5.5.1 lets it).
    let linger = tokio::time::sleep(Duration::MAX);
    tokio::pin!(linger);
    loop {
        tokio::select! {
            message = ws.recv() => {
                if !stdin_open {
                    linger.as_mut().reset(tokio::time::Instant::now() + s.linger);
                }
                let printed = match message {
                    Ok(Some(Message::Text(text))) => print(format_args!("{text}")),
                    Ok(Some(Message::Binary(data))) => print(format_args!("<binary {} bytes>", data.len())),
                    Ok(Some(Message::Close(frame))) => {
                        let (code, reason) = frame.map_or((CloseCode::NO_STATUS_RECEIVED, String::new()), |f| (f.code, format!(" {:?}", f.reason.as_str())));
                        eprintln!("closed ({code}{reason})");
                        let normal = [CloseCode::NORMAL, CloseCode::GOING_AWAY, CloseCode::NO_STATUS_RECEIVED];
                        break if normal.contains(&code) { 0 } else { EXIT_ABNORMAL };
                    }
                    Ok(Some(_)) => true, // pings are answered by the adapter
                    Ok(None) => break 0,
                    Err(e) => break failed(&e),
                };
                if !printed {
                    break close(&mut ws, CloseCode::NORMAL).await; // stdout is gone
                }
            }
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    if let Err(e) = ws.send(line).await {
                        break failed(&e);
                    }
                }
                Ok(None) => {
                    stdin_open = false;
                    linger.as_mut().reset(tokio::time::Instant::now() + s.linger);
                }
                Err(e) => {
                    eprintln!("error: reading stdin: {e}");
                    break close(&mut ws, CloseCode::NORMAL).await;
                }
            },
            () = &mut linger => break close(&mut ws, CloseCode::NORMAL).await,
            _ = tokio::signal::ctrl_c() => {
                // Close 1001; a second Ctrl-C quits at once.
                tokio::select! {
                    code = close(&mut ws, CloseCode::GOING_AWAY) => break code,
                    _ = tokio::signal::ctrl_c() => break EXIT_ABNORMAL,
                }
            }
        }
    }
}

/// Runs the closing handshake: 0 when the server answered, else the abnormal status.
async fn close(ws: &mut rfc6455::tokio::WebSocket<tokio::net::TcpStream>, code: CloseCode) -> u8 {
    match ws.close(code, "").await {
        Ok(()) => 0,
        Err(e) => failed(&e),
    }
}

/// Prints why the connection ended abnormally; the exit status.
fn failed(e: &Error) -> u8 {
    match e {
        Error::Protocol(ProtocolError::UnexpectedEof) => {
            eprintln!("error: the server closed the connection without a close handshake (1006)");
        }
        Error::Protocol(e) => eprintln!("error: {e} (sent close {})", e.close_code()),
        e => eprintln!("error: {e}"),
    }
    EXIT_ABNORMAL
}

/// Prints a line on stdout; false if stdout is gone (`client ... | head -1`).
fn print(line: std::fmt::Arguments<'_>) -> bool {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").is_ok() && stdout.flush().is_ok()
}
