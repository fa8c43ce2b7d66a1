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
//! then asks `/updateReports?agent=A` to write the reports. The connection does the
//! protocol (close handshake, the close code for each violation); this program does the
//! I/O and closes TCP after the server does, or after a timeout (§7.1.1).

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Duration;

use common::args::{Arg, ArgError, Args, options_or_exit};
use common::client::{ClientOptions, connect};
use common::server::{End, Timers, echo};
use rfc6455::{Config, Event};

const USAGE: &str = "\
Runs the Autobahn|Testsuite fuzzing server's cases against this crate's client role.

Usage: autobahn_client [OPTIONS]

Options:
      --url URL             the fuzzing server [default: ws://127.0.0.1:9001]
      --agent NAME          the name in the reports [default: rfc6455]
      --cases FIRST-LAST    run only these case numbers, e.g. 1-10 or 7 [default: all]
      --case-timeout TIME   give up on a case after TIME [default: 120s]
  -h, --help                print this help

TIME is seconds (10, 1.5s) or milliseconds (500ms).
";

struct Options {
    url: String,
    agent: String,
    cases: Option<(u32, u32)>,
    case_timeout: Duration,
}

fn parse_args() -> Result<Option<Options>, ArgError> {
    let mut options = Options {
        url: "ws://127.0.0.1:9001".into(),
        agent: "rfc6455".into(),
        cases: None,
        case_timeout: Duration::from_secs(120),
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
    let client = ClientOptions {
        // The 9.x cases send messages of up to 16 MiB, in one frame or many.
        config: Config::default()
            .max_frame_size(64 << 20)
            .max_message_size(128 << 20),
        ..ClientOptions::default()
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
        let outcome = match tokio::time::timeout(options.case_timeout, run).await {
            Ok(Ok(end)) => end.to_string(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "timed out".into(),
        };
        println!("case {case}/{count}: {outcome}");
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

/// Connects, echoes until the connection ends, and closes TCP after the server.
async fn run_case(url: &str, options: &ClientOptions) -> Result<End, common::client::ConnectError> {
    let mut client = connect(url, options).await?;
    let timers = Timers {
        close: Duration::from_secs(5),
        idle: None,
    };
    let end = echo(
        &mut client.stream,
        &mut client.ws,
        timers,
        std::future::pending(),
    )
    .await;
    client.finish(Duration::from_secs(2)).await;
    Ok(end)
}

/// Reads the number of cases, sent as the one text message on `/getCaseCount`.
async fn case_count(
    options: &Options,
    client: &ClientOptions,
) -> Result<u32, Box<dyn std::error::Error>> {
    let mut client = connect(&format!("{}/getCaseCount", options.url), client).await?;
    let mut count = None;
    loop {
        match client.ws.next_event() {
            Ok(Some(Event::Text(text))) => count = Some(text.trim().parse()?),
            Ok(Some(Event::Close(_))) => break,
            Ok(Some(_)) => {}
            Ok(None) => {
                client.flush().await?;
                client.read().await?;
            }
            Err(e) => {
                client.flush().await?;
                return Err(e.into());
            }
        }
    }
    client.finish(Duration::from_secs(2)).await;
    count.ok_or_else(|| "no case count received".into())
}
