//! The end-to-end load generator (issue 12): N WebSocket connections to a `ws://` URL,
//! every echo checked, messages/s and round-trip latency as one line of JSON.
//!
//! ```sh
//! cargo build --release --bench e2e_load   # or scripts/bench/e2e.sh, which runs it
//! e2e_load --url ws://127.0.0.1:9001/ --connections 100 --size 1KiB --duration 5
//! e2e_load --mode fanout --url ws://127.0.0.1:9001/fanout --connections 1000 --size 1KiB
//! e2e_load --mode idle --url ws://127.0.0.1:9001/ --connections 10000 --server-pid PID
//! ```
//!
//! The engine, and what it checks, is `loadgen.rs` beside this file. Without arguments
//! (as `cargo test --benches` runs it) it prints its usage and exits.

#[path = "loadgen.rs"]
mod loadgen;

use std::process::ExitCode;
use std::time::Duration;

use loadgen::{Mode, Settings};

const USAGE: &str = "\
End-to-end WebSocket load generator (issue 12).

Usage: e2e_load --url ws://HOST:PORT/PATH [OPTIONS]

Options:
      --mode echo|fanout|idle  what to measure [default: echo]
      --url URL                the server (ws:// only)
      --connections N          connections (fanout: receivers) [default: 1]
      --size BYTES             payload per message, at least 8; KiB/MiB suffixes [default: 20]
      --in-flight N            messages outstanding per connection (fanout: broadcasts
                               outstanding) [default: 1]
      --burst                  echo: send the in-flight messages together, the next
                               ones once all came back [default: a sliding window]
      --warmup SECONDS         before measuring [default: 1]
      --duration SECONDS       measured [default: 5]
      --settle SECONDS         idle: wait before reading the server's memory [default: 1]
      --server-pid PID         the server process: its CPU time (echo, fanout) and
                               resident memory (idle) go in the report
      --perf                   count the server's system calls and context switches over
                               the measured time with `perf stat` (needs --server-pid)
      --connect-concurrency N  handshakes in progress at once [default: 128]
      --label TEXT             copied into the report
  -h, --help                   this help

Prints one line of JSON. Any echo that differs from what was sent (length, order,
content), a refused handshake or a stall exits with status 1 and says what happened.
";

fn size(s: &str) -> Option<usize> {
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: usize = digits.parse().ok()?;
    let unit = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1024,
        "MiB" | "M" => 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(unit)
}

fn seconds(s: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(s.trim_end_matches('s').parse().ok()?).ok()
}

fn parse(args: &[String]) -> Result<(Settings, String), String> {
    let mut settings = Settings::default();
    let mut label = String::new();
    let mut url = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let bad = |v: &str| format!("{flag} {v:?}: not understood");
        match flag.as_str() {
            "--mode" => {
                settings.mode = match value()?.as_str() {
                    "echo" => Mode::Echo,
                    "fanout" => Mode::Fanout,
                    "idle" => Mode::Idle,
                    v => return Err(bad(v)),
                }
            }
            "--url" => url = Some(value()?),
            "--connections" => {
                let v = value()?;
                settings.connections = v.parse().map_err(|_| bad(&v))?;
            }
            "--size" => {
                let v = value()?;
                settings.size = size(&v).ok_or_else(|| bad(&v))?;
            }
            "--in-flight" => {
                let v = value()?;
                settings.in_flight = v.parse().map_err(|_| bad(&v))?;
            }
            "--warmup" => {
                let v = value()?;
                settings.warmup = seconds(&v).ok_or_else(|| bad(&v))?;
            }
            "--duration" => {
                let v = value()?;
                settings.duration = seconds(&v).ok_or_else(|| bad(&v))?;
            }
            "--settle" => {
                let v = value()?;
                settings.settle = seconds(&v).ok_or_else(|| bad(&v))?;
            }
            "--server-pid" => {
                let v = value()?;
                settings.server_pid = Some(v.parse().map_err(|_| bad(&v))?);
            }
            "--connect-concurrency" => {
                let v = value()?;
                settings.connect_concurrency = v.parse().map_err(|_| bad(&v))?;
            }
            "--label" => label = value()?,
            "--burst" => settings.burst = true,
            "--perf" => settings.perf = true,
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    settings.url = url.ok_or("--url is required; see --help")?;
    Ok((settings, label))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args == ["--bench"] || args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (settings, label) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("e2e_load: {e}");
            return ExitCode::from(2);
        }
    };
    match loadgen::run(&settings) {
        Ok(report) => {
            println!("{}", report.to_json(&settings, &label));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("e2e_load: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
