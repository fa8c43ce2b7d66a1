//! Drives the client role through an Autobahn|Testsuite fuzzing server.
//!
//! ```sh
//! docker run -it --rm -p 9001:9001 crossbario/autobahn-testsuite \
//!     wstest -m fuzzingserver -s /config/fuzzingserver.json
//! cargo run --release --example autobahn_client -- --agent rfc6455
//! # reports in the container's /reports/clients/index.html
//! ```
//!
//! Asks `/getCaseCount`, then for each case connects to `/runCase?case=N&agent=A` and
//! echoes every message (text as text, binary as binary) until the connection closes,
//! then asks `/updateReports?agent=A` to write the reports. The tokio adapter does the
//! protocol and the I/O (close handshake, the close code for each violation, closing TCP
//! after the server, §7.1.1); this program only echoes.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use common::args::{Arg, ArgError, Args, options_or_exit, with_deflate};
use rfc6455::Config;
use rfc6455::tokio::{Error, Message};

const USAGE: &str = "\
Runs the Autobahn|Testsuite fuzzing server's cases against this crate's client role.

Usage: autobahn_client [OPTIONS]

Options:
      --url URL             the fuzzing server [default: ws://127.0.0.1:9001]
      --agent NAME          the name in the reports [default: rfc6455]
      --cases FIRST-LAST    run only these case numbers, e.g. 1-10 or 7 [default: all]
      --case-timeout TIME   give up on a case after TIME [default: 120s]
      --deflate             offer permessage-deflate (RFC 7692), for cases 12 and 13
  -h, --help                print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms).
";

struct Options {
    url: String,
    agent: String,
    cases: Option<(u32, u32)>,
    case_timeout: Duration,
    deflate: bool,
}

fn parse_args() -> Result<Option<Options>, ArgError> {
    let mut options = Options {
        url: "ws://127.0.0.1:9001".into(),
        agent: "rfc6455".into(),
        cases: None,
        case_timeout: Duration::from_secs(120),
        deflate: false,
    };
    let mut args = Args::from_env();
    while let Some(arg) = args.next_arg()? {
        let Arg::Flag(flag) = arg else {
            return Err(ArgError("unexpected argument; see --help".into()));
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--url" => options.url = args.value()?.trim_end_matches('/').into(),
            "--agent" => {
                options.agent = args.value()?;
                let ok = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
                if options.agent.is_empty() || !options.agent.chars().all(ok) {
                    return Err(ArgError(
                        "--agent: use letters, digits, '-', '_', '.'".into(),
                    ));
                }
            }
            "--cases" => {
                let range = args.value()?;
                let parse = |s: &str| s.trim().parse::<u32>().ok();
                options.cases = match range.split_once('-') {
                    Some((first, last)) => parse(first).zip(parse(last)),
                    None => parse(&range).map(|n| (n, n)),
                };
                if options.cases.is_none() {
                    return Err(ArgError(format!("--cases {range:?}: expected e.g. 1-10")));
                }
            }
            "--case-timeout" => options.case_timeout = args.duration()?,
            "--deflate" => {
                with_deflate(rfc6455::tokio::Options::DEFAULT)?;
                options.deflate = true;
            }
            _ => return Err(args.unknown()),
        }
    }
    Ok(Some(options))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match options_or_exit(parse_args(), USAGE) {
        Ok(options) => options,
        Err(code) => return code,
    };
    // The 9.x cases send messages of up to 16 MiB, in one frame or many.
    let client = rfc6455::tokio::Options::default()
        .config(
            Config::default()
                .max_frame_size(64 << 20)
                .max_message_size(128 << 20),
        )
        .close_timeout(Duration::from_secs(5));
    let client = if options.deflate {
        with_deflate(client).unwrap_or(client)
    } else {
        client
    };
    let count = match case_count(&options, &client).await {
        Ok(count) => count,
        Err(e) => {
            eprintln!("error: getCaseCount: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (first, last) = options.cases.unwrap_or((1, count));
    println!("{count} cases; running {first} to {}", last.min(count));
    for case in first..=last.min(count) {
        let url = format!(
            "{}/runCase?case={case}&agent={}",
            options.url, options.agent
        );
        let run = run_case(&url, &client);
        let started = Instant::now();
        let outcome = match tokio::time::timeout(options.case_timeout, run).await {
            Ok(Ok(end)) => end,
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "timed out".into(),
        };
        let elapsed = started.elapsed().as_secs_f64();
        println!("case {case}/{count}: {outcome} ({elapsed:.1} s)");
    }
    let url = format!("{}/updateReports?agent={}", options.url, options.agent);
    match run_case(&url, &client).await {
        Ok(_) => {
            println!("reports updated");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: updateReports: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Connects and echoes until the connection ends; how it ended.
async fn run_case(url: &str, options: &rfc6455::tokio::Options) -> Result<String, Error> {
    let (mut ws, _) = options.connect(url).await?;
    loop {
        match ws.recv().await {
            Ok(Some(message)) if message.is_data() => ws.send(message).await?,
            Ok(Some(Message::Close(frame))) => {
                return Ok(frame.map_or("closed".into(), |f| format!("closed ({})", f.code)));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Ok("closed".into()),
            Err(e) => return Ok(e.to_string()),
        }
    }
}

/// Reads the number of cases, sent as the one text message on `/getCaseCount`.
async fn case_count(
    options: &Options,
    client: &rfc6455::tokio::Options,
) -> Result<u32, Box<dyn std::error::Error>> {
    let (mut ws, _) = client
        .connect(&format!("{}/getCaseCount", options.url))
        .await?;
    let mut count = None;
    while let Some(message) = ws.recv().await? {
        if let Some(text) = message.as_text() {
            count = Some(text.trim().parse()?);
        }
    }
    count.ok_or_else(|| "no case count received".into())
}
