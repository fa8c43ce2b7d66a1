//! Running the example binaries from tests: built once per test run with this test's
//! features, started with flags, killed on drop. Every wait is bounded by [`TIMEOUT`].

#![allow(dead_code, reason = "each test file uses a different part")]

use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// The bound on every wait: generous, for debug builds on a busy machine. It fails a
/// hung test; it is not a measurement.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The directory of the example binaries, built once per test run (`cargo test` builds
/// the examples, `cargo test --test NAME` does not) with the features of this build, so
/// that nothing is compiled twice.
pub fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("<target>/<profile>");
        let target_dir = profile_dir.parent().expect("<target>");
        let mut features = vec![];
        if cfg!(feature = "std") {
            features.push("std");
        }
        if cfg!(feature = "http") {
            features.push("http");
        }
        if cfg!(feature = "tokio") {
            features.push("tokio");
        }
        if cfg!(feature = "deflate") {
            features.push("deflate");
        }
        if cfg!(feature = "uring") {
            features.push("uring");
        }
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .args(["build", "--quiet", "--examples", "--no-default-features"])
            .args(["--features", &features.join(",")])
            .arg("--manifest-path")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    })
}

pub fn example(name: &str) -> Command {
    Command::new(examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// A running program; killed on drop.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// Waits (bounded) for the program to exit by itself.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the program did not exit in time"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT (Ctrl-C).
    #[cfg(unix)]
    pub fn interrupt(&self) {
        let kill = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
    }
}

/// Starts `command` and reads its first line of output (within [`TIMEOUT`]).
pub fn start(mut command: Command) -> (Running, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the program");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (line_tx, line_rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = io::BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = line_tx.send(line);
        // Keep draining, so that the program never blocks on a full pipe.
        let _ = io::copy(&mut reader, &mut io::sink());
    });
    let line = line_rx.recv_timeout(TIMEOUT).expect("the first line");
    (running, line.trim().to_owned())
}

/// Starts a server example on port 0 with `flags` and returns the address it printed
/// (`listening on ws://ADDR` or `http://ADDR/`).
pub fn start_server(name: &str, flags: &[&str]) -> (Running, SocketAddr) {
    let mut command = example(name);
    command.args(flags);
    let (running, line) = start(command);
    let addr = line
        .rsplit("://")
        .next()
        .map(|a| a.trim_end_matches('/'))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name}: unexpected first line {line:?}"));
    (running, addr)
}

/// Output of a finished program.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion with `stdin` as its input, killing it after TIMEOUT.
pub fn run(mut command: Command, stdin: &str) -> Finished {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the program");
    let mut input = child.stdin.take().expect("stdin");
    let input_text = stdin.to_owned();
    let writer = thread::spawn(move || {
        let _ = input.write_all(input_text.as_bytes());
        // Dropping `input` closes the program's stdin.
    });
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr")));
    let mut running = Running(child);
    let status = running.wait();
    let _ = writer.join();
    Finished {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// A Python with `websockets` installed: `$RFC6455_PYTHON`, the interop script's venv
/// (`<target>/interop/venv`), or `python3`. `None` (and a `SKIP` line) if there is none.
pub fn python_websockets(test: &str) -> Option<PathBuf> {
    let target = examples_dir()
        .parent()
        .and_then(Path::parent)
        .expect("<target>");
    let candidates = [
        std::env::var_os("RFC6455_PYTHON").map(PathBuf::from),
        Some(target.join("interop/venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    let found = candidates.into_iter().flatten().find(|python| {
        Command::new(python)
            .args(["-c", "import websockets"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if found.is_none() {
        println!(
            "SKIP {test}: no Python with `websockets` (set RFC6455_PYTHON, or run \
             scripts/interop/run.sh, which installs it)"
        );
    }
    found
}

/// `scripts/interop/python/programs.py`.
pub fn programs_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/interop/python/programs.py")
}
