//! The engine of the end-to-end load generator (issue 12): many WebSocket connections to
//! one server, every echo or broadcast checked, latency in a histogram. Used by
//! `benches/e2e/load.rs` (the command), `benches/e2e/server.rs` (its self-check) and
//! `tests/e2e_load.rs`.
//!
//! It is written to cost the server's peer as little as possible, so that the server is
//! what is measured: one thread (a current-thread tokio runtime), frames encoded and
//! masked once per connection (only the 4 bytes of the sequence number are re-masked per
//! message), one write per batch of messages, one clock read per read or write, and a
//! log-linear histogram instead of a list of samples. The frame layer is its own (a few
//! lines below), independent of every implementation measured.
//!
//! # What is checked
//!
//! Every message's payload is `[connection id: u32 LE][sequence: u32 LE][pattern]`. Each
//! frame that comes back must be one unfragmented binary frame (FIN, opcode 2, not masked,
//! §5.1-§5.2) of the size sent, with the connection's id, the next sequence number (so
//! nothing is lost, repeated or reordered) and the pattern byte for byte. Anything else
//! ends the run with an error saying what arrived; so does a connection that makes no
//! progress for [`STALL`].
//!
//! # Modes
//!
//! - [`Mode::Echo`]: each connection keeps `in_flight` messages outstanding: it sends
//!   them in one write, and sends as many new ones, in one write, as echoes came back in a
//!   read (closed loop; `in_flight = 1` is request-response). With `burst`, it sends the
//!   next `in_flight` together once all of the last ones came back.
//! - [`Mode::Fanout`]: `connections` receivers, then one sender, on the URL's path (the
//!   servers broadcast every message on `/fanout` to every other connection there). The
//!   sender keeps `in_flight` broadcasts outstanding; one is complete when every receiver
//!   has it. Rates are deliveries (messages received by receivers) per second.
//! - [`Mode::Idle`]: opens `connections` connections (handshakes done), waits `settle`,
//!   and reports the server's resident memory growth per connection.

#![allow(dead_code, reason = "each user of this module uses a different part")]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Notify, Semaphore};

/// A connection that makes no progress for this long fails the run.
pub const STALL: Duration = Duration::from_secs(10);

/// The id in the payload of the fan-out sender's messages.
const SENDER_ID: u32 = u32::MAX;

/// The opening handshake's key and the accept value it requires (§1.3, §4.2.2: the
/// example of §1.3).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Echo,
    Fanout,
    Idle,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Fanout => "fanout",
            Mode::Idle => "idle",
        }
    }
}

/// A run's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    /// `ws://host:port/path`.
    pub url: String,
    /// Echo: connections; fan-out: receivers; idle: connections held.
    pub connections: usize,
    /// Payload bytes per message (at least 8).
    pub size: usize,
    /// Messages outstanding per connection (echo) or broadcasts outstanding (fan-out).
    pub in_flight: usize,
    /// Echo: send `in_flight` messages together and the next ones only once all of
    /// them came back (bursts), instead of one new message per echo (a sliding window).
    pub burst: bool,
    /// Time before measuring.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
    /// Idle: the wait between the last handshake and reading the server's memory.
    pub settle: Duration,
    /// The server's process, for its CPU time and resident memory.
    pub server_pid: Option<u32>,
    /// Count the server's system calls and context switches over the measured time
    /// with `perf stat` (needs `perf` and `server_pid`; adds a little to each call).
    pub perf: bool,
    /// Handshakes in progress at once.
    pub connect_concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Echo,
            url: "ws://127.0.0.1:9001/".into(),
            connections: 1,
            size: 20,
            in_flight: 1,
            burst: false,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(5),
            settle: Duration::from_secs(1),
            server_pid: None,
            perf: false,
            connect_concurrency: 128,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Messages echoed (echo) or delivered (fan-out) within the measured time.
    pub messages: u64,
    /// The measured time, seconds.
    pub seconds: f64,
    /// Messages checked over the whole run (warm-up and drain included).
    pub verified: u64,
    /// Round trip (echo) or send-to-last-receiver (fan-out) latency quantiles, µs.
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// What the server did over the measured time (with `server_pid`).
    pub server: Option<ServerWork>,
    /// Ours, likewise.
    pub client_cpu: Option<f64>,
    /// Idle: the server's resident memory before and after the connections, bytes.
    pub rss_before: Option<u64>,
    pub rss_after: Option<u64>,
}

impl Report {
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.messages as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The report as one line of JSON, with the settings.
    pub fn to_json(&self, settings: &Settings, label: &str) -> String {
        let opt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.3}"));
        let opt_u = |v: Option<u64>| v.map_or("null".to_string(), |v| v.to_string());
        let mut s = String::new();
        let _ = write!(
            s,
            "{{\"label\":{label:?},\"mode\":\"{}\",\"url\":{:?},\"connections\":{},\"size\":{},\
             \"in_flight\":{},\"burst\":{},\"seconds\":{:.3},\"messages\":{},\"rate\":{:.1},\"verified\":{},\
             \"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\
             \"server_cpu\":{},\"server_syscalls\":{},\"server_switches\":{},\"client_cpu\":{},\
             \"rss_before\":{},\"rss_after\":{}",
            settings.mode.name(),
            settings.url,
            settings.connections,
            settings.size,
            settings.in_flight,
            settings.burst,
            self.seconds,
            self.messages,
            self.rate(),
            self.verified,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            opt(self.server.map(|w| w.cpu)),
            opt_u(self.server.and_then(|w| w.syscalls)),
            opt_u(self.server.and_then(|w| w.switches)),
            opt(self.client_cpu),
            opt_u(self.rss_before),
            opt_u(self.rss_after),
        );
        if let (Some(before), Some(after)) = (self.rss_before, self.rss_after) {
            let per = (after as f64 - before as f64) / settings.connections.max(1) as f64;
            let _ = write!(s, ",\"rss_per_connection\":{per:.0}");
        }
        s.push('}');
        s
    }
}

/// Runs `settings` on a current-thread runtime of its own.
///
/// # Errors
/// What went wrong: a connection refused, a handshake answered with something other than
/// a valid 101, an echo or broadcast that differs from what was sent, a stall.
pub fn run(settings: &Settings) -> Result<Report, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(run_async(settings))
}

/// Runs `settings` on the current (current-thread) runtime, in a `LocalSet`.
///
/// # Errors
/// As [`run`].
pub async fn run_async(settings: &Settings) -> Result<Report, String> {
    if settings.size < 8 {
        return Err(format!(
            "--size {} is below the 8 bytes of id and sequence",
            settings.size
        ));
    }
    let target = Target::parse(&settings.url)?;
    let local = tokio::task::LocalSet::new();
    let settings = settings.clone();
    local
        .run_until(async move {
            match settings.mode {
                Mode::Echo => echo(&settings, &target).await,
                Mode::Fanout => fanout(&settings, &target).await,
                Mode::Idle => idle(&settings, &target).await,
            }
        })
        .await
}

// ----- the target and the handshake -----

#[derive(Debug, Clone)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url:?}: only ws:// URLs"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("{host:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host:?}: no address"))?;
        Ok(Target {
            addr,
            host: host.to_string(),
            path: path.to_string(),
        })
    }
}

/// A connection after its handshake, with any bytes read past the 101's head.
struct Opened {
    stream: TcpStream,
    leftover: Vec<u8>,
}

async fn open(target: &Target) -> Result<Opened, String> {
    let fail = |what: &str, e: io::Error| format!("{}: {what}: {e}", target.addr);
    let mut stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| fail("connect", e))?;
    stream.set_nodelay(true).map_err(|e| fail("nodelay", e))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.path, target.host
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| fail("write the request", e))?;
    let mut head = Vec::with_capacity(512);
    let end = loop {
        let mut chunk = [0u8; 1024];
        let n = tokio::time::timeout(STALL, stream.read(&mut chunk))
            .await
            .map_err(|_| format!("{}: no handshake response in {STALL:?}", target.addr))?
            .map_err(|e| fail("read the response", e))?;
        if n == 0 {
            return Err(format!(
                "{}: closed during the handshake after {:?}",
                target.addr,
                String::from_utf8_lossy(&head)
            ));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 16 * 1024 {
            return Err(format!("{}: response head over 16 KiB", target.addr));
        }
    };
    let text = String::from_utf8_lossy(&head[..end]);
    let accept_ok = text.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == ACCEPT
        })
    });
    if !text.starts_with("HTTP/1.1 101") || !accept_ok {
        return Err(format!("{}: not a valid 101: {text:?}", target.addr));
    }
    Ok(Opened {
        stream,
        leftover: head[end..].to_vec(),
    })
}

/// Opens `n` connections, `concurrency` handshakes at a time.
async fn open_many(target: &Target, n: usize, concurrency: usize) -> Result<Vec<Opened>, String> {
    let gate = Rc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let gate = Rc::clone(&gate);
        let target = target.clone();
        tasks.push(tokio::task::spawn_local(async move {
            let _permit = gate.acquire().await;
            open(&target).await
        }));
    }
    let mut opened = Vec::with_capacity(n);
    for task in tasks {
        opened.push(task.await.map_err(|e| format!("connect task: {e}"))??);
    }
    Ok(opened)
}

// ----- frames -----

/// One message's frames for one connection: the masked frame it sends and the payload
/// the server must send back.
struct Template {
    /// The client's frame (§5.2): FIN + binary, masked, payload masked with `key`.
    frame: Vec<u8>,
    /// Where the payload starts in `frame`.
    payload_at: usize,
    key: [u8; 4],
    /// The payload unmasked: the bytes expected back, sequence 0.
    plain: Vec<u8>,
    /// The server's frame header expected before each payload (unmasked, §5.1).
    echo_head: Vec<u8>,
}

impl Template {
    fn new(id: u32, size: usize) -> Template {
        let mut plain = vec![0u8; size];
        plain[..4].copy_from_slice(&id.to_le_bytes());
        for (i, b) in plain.iter_mut().enumerate().skip(8) {
            *b = (i as u32).wrapping_mul(31).wrapping_add(id) as u8;
        }
        // A fixed non-zero key per connection: the server unmasks whatever it is.
        let key = (id.wrapping_mul(0x9E37_79B9) | 0x0101_0101).to_le_bytes();
        let mut frame = header(size, true);
        frame.extend_from_slice(&key);
        let payload_at = frame.len();
        frame.extend(plain.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        Template {
            frame,
            payload_at,
            key,
            plain,
            echo_head: header(size, false),
        }
    }

    /// Appends the frame of message `seq` to `out`.
    fn push(&self, out: &mut Vec<u8>, seq: u32) {
        let at = out.len() + self.payload_at + 4;
        out.extend_from_slice(&self.frame);
        let seq = seq.to_le_bytes();
        for i in 0..4 {
            // Payload offsets 4..8 take key bytes 0..4 (§5.3: key[i % 4]).
            out[at + i] = seq[i] ^ self.key[i];
        }
    }

    /// The length of one echoed frame.
    fn echo_len(&self) -> usize {
        self.echo_head.len() + self.plain.len()
    }

    /// Checks one echoed frame, `frame` exactly `echo_len` bytes, for sequence `seq`.
    fn check(&self, frame: &[u8], seq: u32, who: &str) -> Result<(), String> {
        let (head, payload) = frame.split_at(self.echo_head.len());
        if head != self.echo_head.as_slice() {
            return Err(format!(
                "{who}: message {seq}: frame header {head:02x?}, expected {:02x?} (FIN binary, \
                 {} bytes, unmasked)",
                self.echo_head,
                self.plain.len()
            ));
        }
        if payload[..4] != self.plain[..4] {
            return Err(format!(
                "{who}: message {seq}: connection id {:02x?}, expected {:02x?} (another \
                 connection's message)",
                &payload[..4],
                &self.plain[..4]
            ));
        }
        let got = u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]);
        if got != seq {
            return Err(format!(
                "{who}: message {got} arrived where {seq} was due (lost, repeated or reordered)"
            ));
        }
        if payload[8..] != self.plain[8..] {
            let at = payload[8..]
                .iter()
                .zip(&self.plain[8..])
                .position(|(a, b)| a != b)
                .map_or(0, |i| i + 8);
            return Err(format!(
                "{who}: message {seq}: payload differs at byte {at}: {:#04x}, expected {:#04x}",
                payload[at], self.plain[at]
            ));
        }
        Ok(())
    }
}

/// A frame header for a binary message of `len` bytes, with the mask bit if `masked`
/// (the key follows it). §5.2: the minimal length encoding.
fn header(len: usize, masked: bool) -> Vec<u8> {
    let m = if masked { 0x80 } else { 0 };
    let mut h = vec![0x82];
    if len < 126 {
        h.push(m | len as u8);
    } else if len <= 0xFFFF {
        h.push(m | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(m | 127);
        h.extend_from_slice(&(len as u64).to_be_bytes());
    }
    h
}

/// What a frame from the server is, from its first bytes: `Ok(None)` if more bytes are
/// needed, `Ok(Some((header_len, payload_len, opcode)))` otherwise.
fn peek_frame(buf: &[u8]) -> Result<Option<(usize, usize, u8)>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[1] & 0x80 != 0 {
        return Err("a masked frame from the server (§5.1)".into());
    }
    let (head, len) = match buf[1] & 0x7F {
        126 if buf.len() < 4 => return Ok(None),
        126 => (4, usize::from(u16::from_be_bytes([buf[2], buf[3]]))),
        127 if buf.len() < 10 => return Ok(None),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (
                10,
                usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX),
            )
        }
        n => (2, usize::from(n)),
    };
    Ok(Some((head, len, buf[0] & 0x0F)))
}

/// A read buffer over one connection: frames are parsed in place, the unparsed rest moved
/// to the front before the next read.
struct Reader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Reader {
    fn new(capacity: usize, leftover: &[u8]) -> Reader {
        let mut buf = vec![0u8; capacity.max(leftover.len() * 2)];
        buf[..leftover.len()].copy_from_slice(leftover);
        Reader {
            buf,
            start: 0,
            end: leftover.len(),
        }
    }

    /// Reads once; `Ok(0)` is the end of stream.
    async fn read(&mut self, stream: &mut OwnedReadHalf) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 && self.buf.len() - self.end < self.buf.len() / 4 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// The next whole data frame from the server, skipping pings and pongs; `Ok(None)`
    /// if more bytes are needed.
    fn next_frame(&mut self, who: &str) -> Result<Option<&[u8]>, String> {
        loop {
            let buf = &self.buf[self.start..self.end];
            let Some((head, len, opcode)) = peek_frame(buf).map_err(|e| format!("{who}: {e}"))?
            else {
                return Ok(None);
            };
            let total = head.saturating_add(len);
            if buf.len() < total {
                if total > self.buf.len() {
                    return Err(format!("{who}: a {len}-byte frame from the server"));
                }
                return Ok(None);
            }
            let start = self.start;
            self.start += total;
            match opcode {
                // A ping (keepalive) or pong: not ours to check.
                0x9 | 0xA => continue,
                0x8 => {
                    return Err(format!(
                        "{who}: the server closed: {:02x?}",
                        &self.buf[start..start + total.min(32)]
                    ));
                }
                _ => return Ok(Some(&self.buf[start..start + total])),
            }
        }
    }
}

/// A close frame with code 1000, masked (§5.5.1).
fn close_frame() -> [u8; 8] {
    let key = [1u8, 2, 3, 4];
    let code = 1000u16.to_be_bytes();
    [
        0x88,
        0x82,
        key[0],
        key[1],
        key[2],
        key[3],
        code[0] ^ key[0],
        code[1] ^ key[1],
    ]
}

/// Sends our close and waits (briefly) for the server to end the connection.
async fn close(mut read: OwnedReadHalf, mut write: OwnedWriteHalf) {
    let _ = write.write_all(&close_frame()).await;
    let drain = async {
        let mut scratch = vec![0u8; 16 * 1024];
        while matches!(read.read(&mut scratch).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

// ----- latency -----

/// A log-linear histogram of nanoseconds: exact below 64, then 32 buckets per power of
/// two (about 3% wide).
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; 64 + 58 * 32],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    pub fn index(v: u64) -> usize {
        if v < 64 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize;
        let m = (v >> (e - 5)) as usize; // 32..64
        64 + (e - 6) * 32 + (m - 32)
    }

    /// The middle of bucket `i`.
    pub fn value(i: usize) -> u64 {
        if i < 64 {
            return i as u64;
        }
        let e = (i - 64) / 32 + 6;
        let m = ((i - 64) % 32 + 32) as u64;
        (m << (e - 5)) + (1u64 << (e - 5)) / 2
    }

    pub fn record(&mut self, d: Duration) {
        let v = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The `q` quantile, µs.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i).min(self.max) as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }
}

// ----- /proc -----

/// A process's user + system CPU time, in clock ticks (`/proc/PID/stat` fields 14-15).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: field 3 is index 0, so utime (14) is index 11.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// A process's resident memory, bytes (`VmRSS` of `/proc/PID/status`).
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// What the server did over the measured time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerWork {
    /// CPU time, in cores (1.0 = one core busy).
    pub cpu: f64,
    /// System calls and context switches, counted by `perf stat` (with `perf`).
    pub syscalls: Option<u64>,
    pub switches: Option<u64>,
}

/// `perf stat` counting the server's system calls and context switches for `secs`.
fn perf_stat(pid: u32, secs: f64) -> Option<std::process::Child> {
    std::process::Command::new("perf")
        .args([
            "stat",
            "-x",
            ",",
            "-e",
            "raw_syscalls:sys_enter,context-switches",
            "-p",
        ])
        .arg(pid.to_string())
        .args(["--", "sleep", &format!("{secs:.3}")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()
}

/// The two counts from `perf stat -x ,` output.
fn perf_counts(child: std::process::Child) -> (Option<u64>, Option<u64>) {
    let Ok(out) = child.wait_with_output() else {
        return (None, None);
    };
    let text = String::from_utf8_lossy(&out.stderr);
    let count = |event: &str| {
        text.lines()
            .find(|l| l.contains(event))
            .and_then(|l| l.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    };
    (count("raw_syscalls:sys_enter"), count("context-switches"))
}

/// CPU time of the server and of this process over an interval.
struct CpuWatch {
    server: Option<(String, u64)>,
    perf: RefCell<Option<std::process::Child>>,
    client: Option<u64>,
    at: Instant,
}

impl CpuWatch {
    fn start(server_pid: Option<u32>, perf_secs: Option<f64>) -> CpuWatch {
        CpuWatch {
            server: server_pid.and_then(|p| {
                let p = p.to_string();
                cpu_ticks(&p).map(|t| (p, t))
            }),
            perf: RefCell::new(server_pid.zip(perf_secs).and_then(|(p, t)| perf_stat(p, t))),
            client: cpu_ticks("self"),
            at: Instant::now(),
        }
    }

    /// The server's work and this process's CPU (cores) since `start`.
    fn stop(&self) -> (Option<ServerWork>, Option<f64>) {
        // USER_HZ is 100 on Linux.
        let secs = self.at.elapsed().as_secs_f64();
        let cores = |before: u64, now: Option<u64>| now.map(|t| (t - before) as f64 / 100.0 / secs);
        let server = self.server.as_ref().and_then(|(p, t)| {
            let cpu = cores(*t, cpu_ticks(p))?;
            let (syscalls, switches) = self
                .perf
                .borrow_mut()
                .take()
                .map_or((None, None), perf_counts);
            Some(ServerWork {
                cpu,
                syscalls,
                switches,
            })
        });
        (
            server,
            self.client.and_then(|t| cores(t, cpu_ticks("self"))),
        )
    }
}

// ----- echo -----

/// The run's clock: warm-up until `measure_from`, measured until `end`.
#[derive(Debug, Clone, Copy)]
struct Clock {
    measure_from: Instant,
    end: Instant,
}

impl Clock {
    fn new(settings: &Settings) -> Clock {
        let now = Instant::now();
        Clock {
            measure_from: now + settings.warmup,
            end: now + settings.warmup + settings.duration,
        }
    }

    fn measured(&self, t: Instant) -> bool {
        t >= self.measure_from && t < self.end
    }
}

/// What one connection (or the fan-out) counted.
#[derive(Default)]
struct Tally {
    messages: u64,
    verified: u64,
    latency: Histogram,
}

/// Fails the run if `progress` stops moving for [`STALL`] while `done` is unset.
fn watchdog(progress: Rc<Cell<u64>>, done: Rc<Cell<bool>>) -> tokio::task::JoinHandle<String> {
    tokio::task::spawn_local(async move {
        let mut last = progress.get();
        let mut since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if done.get() {
                return String::new();
            }
            if progress.get() != last {
                last = progress.get();
                since = Instant::now();
            } else if since.elapsed() >= STALL {
                return format!("no message for {STALL:?}: the server stalled");
            }
        }
    })
}

async fn echo(settings: &Settings, target: &Target) -> Result<Report, String> {
    let opened = open_many(target, settings.connections, settings.connect_concurrency).await?;
    let progress = Rc::new(Cell::new(0u64));
    let done = Rc::new(Cell::new(false));
    let clock = Clock::new(settings);
    let cpu_at_measure = Rc::new(RefCell::new(None::<CpuWatch>));
    let mut tasks = Vec::with_capacity(opened.len());
    for (id, conn) in opened.into_iter().enumerate() {
        let progress = Rc::clone(&progress);
        let in_flight = settings.in_flight.max(1);
        let template = Template::new(id as u32, settings.size);
        tasks.push(tokio::task::spawn_local(echo_one(
            id,
            conn,
            template,
            in_flight,
            settings.burst,
            clock,
            progress,
        )));
    }
    // The CPU watch starts with the measured time.
    let server_pid = settings.server_pid;
    let perf = settings.perf.then_some(settings.duration.as_secs_f64());
    let watch_cell = Rc::clone(&cpu_at_measure);
    let cpu_task = tokio::task::spawn_local(async move {
        tokio::time::sleep_until(clock.measure_from.into()).await;
        *watch_cell.borrow_mut() = Some(CpuWatch::start(server_pid, perf));
        tokio::time::sleep_until(clock.end.into()).await;
        watch_cell.borrow().as_ref().map(CpuWatch::stop)
    });
    let dog = watchdog(Rc::clone(&progress), Rc::clone(&done));
    let all = async {
        let mut total = Tally::default();
        for task in tasks {
            let t = task.await.map_err(|e| format!("connection task: {e}"))??;
            total.messages += t.messages;
            total.verified += t.verified;
            total.latency.merge(&t.latency);
        }
        Ok::<Tally, String>(total)
    };
    let total = tokio::select! {
        total = all => total,
        stalled = dog => Err(stalled.unwrap_or_default()),
    };
    done.set(true);
    let total = total?;
    let (server, client_cpu) = cpu_task.await.ok().flatten().unwrap_or((None, None));
    Ok(Report {
        messages: total.messages,
        seconds: settings.duration.as_secs_f64(),
        verified: total.verified,
        p50_us: total.latency.quantile_us(0.50),
        p99_us: total.latency.quantile_us(0.99),
        p999_us: total.latency.quantile_us(0.999),
        max_us: total.latency.max as f64 / 1000.0,
        server,
        client_cpu,
        ..Report::default()
    })
}

/// One echo connection: `in_flight` messages outstanding until the end of the run, then
/// every outstanding echo read, then a close.
async fn echo_one(
    id: usize,
    conn: Opened,
    template: Template,
    in_flight: usize,
    burst: bool,
    clock: Clock,
    progress: Rc<Cell<u64>>,
) -> Result<Tally, String> {
    let who = format!("connection {id}");
    let (mut read, mut write) = conn.stream.into_split();
    let mut reader = Reader::new(
        (template.echo_len() * in_flight * 2).max(64 * 1024),
        &conn.leftover,
    );
    let mut out = Vec::with_capacity(template.frame.len() * in_flight);
    let mut sent_at: VecDeque<Instant> = VecDeque::with_capacity(in_flight);
    let mut next_send = 0u32;
    let mut next_echo = 0u32;
    let mut tally = Tally::default();
    let io_err = |what: &str, e: io::Error| format!("{who}: {what}: {e}");

    // The first window.
    let now = Instant::now();
    for _ in 0..in_flight {
        template.push(&mut out, next_send);
        next_send = next_send.wrapping_add(1);
        sent_at.push_back(now);
    }
    write
        .write_all(&out)
        .await
        .map_err(|e| io_err("write", e))?;
    while !sent_at.is_empty() {
        let n = reader
            .read(&mut read)
            .await
            .map_err(|e| io_err("read", e))?;
        if n == 0 {
            return Err(format!(
                "{who}: the server closed the connection with {} echoes outstanding",
                sent_at.len()
            ));
        }
        let now = Instant::now();
        let mut echoed = 0usize;
        while let Some(frame) = reader.next_frame(&who)? {
            if frame.len() != template.echo_len() {
                return Err(format!(
                    "{who}: message {next_echo}: {} bytes, expected {} (the frame {:02x?}...)",
                    frame.len(),
                    template.echo_len(),
                    &frame[..frame.len().min(16)]
                ));
            }
            template.check(frame, next_echo, &who)?;
            let Some(sent) = sent_at.pop_front() else {
                return Err(format!("{who}: an echo of a message never sent"));
            };
            next_echo = next_echo.wrapping_add(1);
            tally.verified += 1;
            echoed += 1;
            if clock.measured(now) {
                tally.messages += 1;
                tally.latency.record(now - sent);
            }
        }
        if echoed == 0 {
            continue;
        }
        progress.set(progress.get() + echoed as u64);
        let next_batch = match burst {
            true if sent_at.is_empty() => in_flight,
            true => 0,
            false => echoed,
        };
        if now < clock.end && next_batch > 0 {
            out.clear();
            for _ in 0..next_batch {
                template.push(&mut out, next_send);
                next_send = next_send.wrapping_add(1);
                sent_at.push_back(now);
            }
            write
                .write_all(&out)
                .await
                .map_err(|e| io_err("write", e))?;
        }
    }
    close(read, write).await;
    Ok(tally)
}

// ----- fan-out -----

/// The fan-out's shared state: deliveries per outstanding broadcast.
struct Fan {
    receivers: usize,
    /// Deliveries of broadcasts `first..`, and when each was sent.
    pending: RefCell<VecDeque<(u32, Instant)>>,
    first: Cell<u32>,
    /// Broadcasts completed (every receiver has them).
    completed: Cell<u64>,
    wake_sender: Notify,
    tally: RefCell<Tally>,
    deliveries: Cell<u64>,
}

impl Fan {
    /// Receiver got broadcast `seq` at `now`.
    fn delivered(&self, seq: u32, now: Instant, clock: &Clock) -> Result<(), String> {
        let mut pending = self.pending.borrow_mut();
        let i = seq.wrapping_sub(self.first.get()) as usize;
        let Some(slot) = pending.get_mut(i) else {
            return Err(format!("broadcast {seq} arrived before it was sent"));
        };
        slot.0 += 1;
        self.deliveries.set(self.deliveries.get() + 1);
        let mut tally = self.tally.borrow_mut();
        tally.verified += 1;
        if clock.measured(now) {
            tally.messages += 1;
        }
        // Complete broadcasts leave the front in order.
        let mut woke = false;
        while pending
            .front()
            .is_some_and(|p| p.0 as usize == self.receivers)
        {
            let (_, sent) = pending.pop_front().unwrap_or((0, now));
            self.first.set(self.first.get().wrapping_add(1));
            self.completed.set(self.completed.get() + 1);
            if clock.measured(now) {
                tally.latency.record(now - sent);
            }
            woke = true;
        }
        if woke {
            self.wake_sender.notify_one();
        }
        Ok(())
    }
}

async fn fanout(settings: &Settings, target: &Target) -> Result<Report, String> {
    let receivers = open_many(target, settings.connections, settings.connect_concurrency).await?;
    let sender = open(target).await?;
    // The servers register a connection as its handshake ends on their side, which may
    // be just after our side saw the 101: give them a moment before the first broadcast.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fan = Rc::new(Fan {
        receivers: receivers.len(),
        pending: RefCell::new(VecDeque::new()),
        first: Cell::new(0),
        completed: Cell::new(0),
        wake_sender: Notify::new(),
        tally: RefCell::new(Tally::default()),
        deliveries: Cell::new(0),
    });
    let progress = Rc::new(Cell::new(0u64));
    let done = Rc::new(Cell::new(false));
    let clock = Clock::new(settings);
    let template = Rc::new(Template::new(SENDER_ID, settings.size));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for (i, conn) in receivers.into_iter().enumerate() {
        tasks.push(tokio::task::spawn_local(fan_receiver(
            conn,
            Rc::clone(&template),
            Rc::clone(&fan),
            clock,
            Rc::clone(&progress),
            stop_rx.clone(),
            format!("receiver {i}"),
        )));
    }
    let dog = watchdog(Rc::clone(&progress), Rc::clone(&done));
    let server_pid = settings.server_pid;
    let perf = settings.perf.then_some(settings.duration.as_secs_f64());
    let cpu_task = tokio::task::spawn_local(async move {
        tokio::time::sleep_until(clock.measure_from.into()).await;
        let watch = CpuWatch::start(server_pid, perf);
        tokio::time::sleep_until(clock.end.into()).await;
        watch.stop()
    });
    let sending = fan_sender(sender, &template, &fan, settings.in_flight.max(1), clock);
    let result = tokio::select! {
        r = sending => r,
        stalled = dog => Err(stalled.unwrap_or_default()),
    };
    done.set(true);
    let _ = stop_tx.send(true);
    // Receivers end at the close of their connections (or with an error).
    let mut failure = result.err();
    for task in tasks {
        match tokio::time::timeout(STALL, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                failure.get_or_insert(e);
            }
            Ok(Err(e)) => {
                failure.get_or_insert(format!("receiver task: {e}"));
            }
            Err(_) => {
                failure.get_or_insert("a receiver did not end".into());
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let (server, client_cpu) = cpu_task.await.unwrap_or((None, None));
    let tally = fan.tally.borrow();
    Ok(Report {
        messages: tally.messages,
        seconds: settings.duration.as_secs_f64(),
        verified: tally.verified,
        p50_us: tally.latency.quantile_us(0.50),
        p99_us: tally.latency.quantile_us(0.99),
        p999_us: tally.latency.quantile_us(0.999),
        max_us: tally.latency.max as f64 / 1000.0,
        server,
        client_cpu,
        ..Report::default()
    })
}

/// The sender: `in_flight` broadcasts outstanding until the end, then waits for every
/// receiver to have every broadcast, and closes.
async fn fan_sender(
    conn: Opened,
    template: &Template,
    fan: &Fan,
    in_flight: usize,
    clock: Clock,
) -> Result<(), String> {
    let (mut read, mut write) = conn.stream.into_split();
    // Anything but a ping from the server on the sender's connection is an error: the
    // servers broadcast to the others only.
    let mut watch_read = tokio::task::spawn_local(async move {
        let mut reader = Reader::new(64 * 1024, &conn.leftover);
        loop {
            match reader.read(&mut read).await {
                Ok(0) | Err(_) => return (read, None),
                Ok(_) => match reader.next_frame("sender") {
                    Ok(None) => {}
                    Ok(Some(_)) => {
                        return (
                            read,
                            Some(
                                "the sender received a data frame: a server must \
                                             broadcast to the other connections only",
                            ),
                        );
                    }
                    Err(_) => return (read, None),
                },
            }
        }
    });
    let mut out = Vec::new();
    let mut next = 0u32;
    let mut sent = 0u64;
    loop {
        let now = Instant::now();
        let outstanding = sent - fan.completed.get();
        if now < clock.end && (outstanding as usize) < in_flight {
            out.clear();
            for _ in outstanding as usize..in_flight {
                template.push(&mut out, next);
                fan.pending.borrow_mut().push_back((0, now));
                next = next.wrapping_add(1);
                sent += 1;
            }
            write
                .write_all(&out)
                .await
                .map_err(|e| format!("sender: write: {e}"))?;
        } else if now >= clock.end && outstanding == 0 {
            break;
        }
        tokio::select! {
            () = fan.wake_sender.notified() => {}
            watched = &mut watch_read => {
                return Err(match watched {
                    Ok((_, Some(e))) => e.into(),
                    _ => "the server closed the sender's connection".into(),
                });
            }
        }
    }
    watch_read.abort();
    let _ = write.write_all(&close_frame()).await;
    Ok(())
}

async fn fan_receiver(
    conn: Opened,
    template: Rc<Template>,
    fan: Rc<Fan>,
    clock: Clock,
    progress: Rc<Cell<u64>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    who: String,
) -> Result<(), String> {
    let (mut read, write) = conn.stream.into_split();
    let mut reader = Reader::new(256 * 1024, &conn.leftover);
    let mut next = 0u32;
    loop {
        let n = tokio::select! {
            n = reader.read(&mut read) => n.map_err(|e| format!("{who}: read: {e}"))?,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        if n == 0 {
            return Err(format!("{who}: the server closed the connection"));
        }
        let now = Instant::now();
        let mut got = 0;
        while let Some(frame) = reader.next_frame(&who)? {
            if frame.len() != template.echo_len() {
                return Err(format!(
                    "{who}: broadcast {next}: {} bytes, expected {}",
                    frame.len(),
                    template.echo_len()
                ));
            }
            template.check(frame, next, &who)?;
            fan.delivered(next, now, &clock)?;
            next = next.wrapping_add(1);
            got += 1;
        }
        progress.set(progress.get() + got);
    }
    close(read, write).await;
    Ok(())
}

// ----- idle -----

async fn idle(settings: &Settings, target: &Target) -> Result<Report, String> {
    let before = settings.server_pid.and_then(rss);
    let started = Instant::now();
    let opened = open_many(target, settings.connections, settings.connect_concurrency).await?;
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(settings.settle).await;
    let after = settings.server_pid.and_then(rss);
    // Still all there?
    for (i, conn) in opened.iter().enumerate() {
        let mut probe = [0u8; 1];
        match conn.stream.try_read(&mut probe) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Ok(0) => return Err(format!("connection {i}: closed by the server while idle")),
            Ok(_) => {}
            Err(e) => return Err(format!("connection {i}: {e}")),
        }
    }
    let closing: Vec<_> = opened
        .into_iter()
        .map(|c| {
            let (r, w) = c.stream.into_split();
            tokio::task::spawn_local(close(r, w))
        })
        .collect();
    for c in closing {
        let _ = c.await;
    }
    Ok(Report {
        seconds: connect_seconds,
        rss_before: before,
        rss_after: after,
        ..Report::default()
    })
}
