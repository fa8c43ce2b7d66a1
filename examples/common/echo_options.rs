//! What the two echo servers driven by the core directly (`echo_blocking`, `echo_uring`)
//! share, written once: their flags (options, help text, parser) and the time limits of a
//! connection, checked on a tick.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rfc6455::{CloseCode, Config, Connection, Event, UsageError};

use super::args::{self, Arg, ArgError, Args};

/// What the flags set.
#[derive(Debug, Clone)]
pub struct EchoOptions {
    pub config: Config,
    pub handshake_timeout: Duration,
    pub close_timeout: Duration,
    /// Ping after this much silence, close 1001 after as much again; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// A write that makes no progress this long (the peer reads nothing) releases it.
    pub write_timeout: Duration,
    pub max_connections: usize,
    pub log: bool,
}

/// A server's name, what it is, and its defaults where they differ.
pub struct EchoServer {
    pub name: &'static str,
    /// One line: "WebSocket echo server (...)".
    pub title: &'static str,
    pub addr: SocketAddr,
    pub max_connections: usize,
}

impl EchoServer {
    /// The `--help` text.
    pub fn usage(&self) -> String {
        format!(
            "\
{title}

Usage: {name} [OPTIONS]

Options:
      --addr ADDR                listen on ADDR [default: {addr}]; port 0 picks one
      --handshake-timeout TIME   the opening handshake must finish within TIME [default: 10s]
      --close-timeout TIME       wait TIME for the peer's close frame [default: 5s]
      --idle-timeout TIME|off    ping after TIME of silence, close 1001 after TIME more [default: 20s]
      --write-timeout TIME       release a peer that reads nothing for TIME [default: 30s]
      --max-connections N        answer 503 beyond N connections [default: {max}]
      --max-message-size BYTES   largest message accepted [default: 64MiB]
  -q, --quiet                    no log line per connection
  -h, --help                     print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms); BYTES may end in KiB, MiB, GiB.
Prints `listening on ws://ADDR` once bound.
",
            title = self.title,
            name = self.name,
            addr = self.addr,
            max = self.max_connections,
        )
    }

    /// Parses the command line: `Ok(None)` for `--help`.
    pub fn parse_args(&self) -> Result<Option<(SocketAddr, EchoOptions)>, ArgError> {
        let mut addr = self.addr;
        let mut options = EchoOptions {
            config: Config::default(),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(20)),
            write_timeout: Duration::from_secs(30),
            max_connections: self.max_connections,
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
                        let t = args::parse_duration(t)
                            .ok_or_else(|| ArgError(format!("{flag} {t:?}")))?;
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
}

/// A time limit of zero would mean "none" to a socket timeout (and "at once" to a
/// timer): refuse it.
fn nonzero(t: Duration) -> Result<Duration, ArgError> {
    if t.is_zero() {
        return Err(ArgError("a time limit must be more than zero".into()));
    }
    Ok(t)
}

/// One connection's time limits: keepalive (a ping after `idle_timeout` of silence, close
/// 1001 after as long again), shutdown (close 1001), and the close timeout once a close
/// was sent. The server calls [`heard`](Self::heard) when bytes arrive and
/// [`tick`](Self::tick) at least every 200 ms while it waits, then writes what `tick`
/// queued.
pub struct Limits {
    last_heard: Instant,
    pinged: bool,
    close_started: Option<Instant>,
}

/// What the server does after a [`Limits::tick`].
pub enum Tick {
    /// Write what was queued (a ping or a close, if any), and wait on.
    Wait,
    /// The peer did not answer our close in time: close the transport.
    GiveUp,
}

impl Limits {
    pub fn new() -> Self {
        Limits {
            last_heard: Instant::now(),
            pinged: false,
            close_started: None,
        }
    }

    /// Bytes arrived: the peer is there.
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.pinged = false;
    }

    /// Checks the clock (and whether the server is shutting down), queueing a ping or a
    /// close on `ws` when one is due.
    pub fn tick(
        &mut self,
        ws: &mut Connection,
        options: &EchoOptions,
        shutting_down: bool,
    ) -> io::Result<Tick> {
        if let Some(started) = self.close_started {
            if started.elapsed() >= options.close_timeout {
                return Ok(Tick::GiveUp);
            }
        } else if shutting_down {
            ignore_closed(ws.close(CloseCode::GOING_AWAY, "server shutting down"))?;
            self.close_started = Some(Instant::now());
        } else if let Some(idle) = options.idle_timeout {
            if self.last_heard.elapsed() >= idle && !self.pinged {
                // Silent for a while: is the peer still there (§5.5.2)?
                ignore_closed(ws.send_ping(b"idle"))?;
                self.pinged = true;
                self.last_heard = Instant::now();
            } else if self.last_heard.elapsed() >= idle {
                ignore_closed(ws.close(CloseCode::GOING_AWAY, "idle timeout"))?;
                self.close_started = Some(Instant::now());
            }
        }
        Ok(Tick::Wait)
    }
}

/// After our own close, messages still arrive until the peer's close; sending is refused
/// and they are not echoed. Any other usage error is a bug here.
pub fn ignore_closed(result: Result<(), UsageError>) -> io::Result<()> {
    match result {
        Ok(()) | Err(UsageError::Closed) => Ok(()),
        Err(e) => Err(io::Error::other(e)),
    }
}

/// Takes the events of the bytes received so far and queues the echo of every message.
/// Returns how the connection ended, if it did in these events: the peer's close (whose
/// echo the connection queued), or a protocol error (whose close frame, 1002, 1007 or
/// 1009, is queued: write it out before closing the transport).
pub fn echo_events(ws: &mut Connection) -> io::Result<Option<String>> {
    let mut outcome = None;
    loop {
        match ws.next_event() {
            Ok(Some(Event::Text(text))) => ignore_closed(ws.send_text(text))?,
            Ok(Some(Event::Binary(data))) => ignore_closed(ws.send_binary(data))?,
            // The connection queued the echo of the close frame (or the pong).
            Ok(Some(Event::Close(close))) => outcome = Some(format!("closed ({})", close.code)),
            Ok(Some(_)) => {}
            Ok(None) => return Ok(outcome),
            // The connection takes no more input after an error.
            Err(e) => return Ok(Some(format!("failed: {e} (sent close {})", e.close_code()))),
        }
    }
}
