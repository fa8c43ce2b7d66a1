//! The README's four programs (`examples/page_and_echo.rs`, `hyper_echo.rs`,
//! `send_client.rs`, `broadcast_room.rs`), each run against Python `websockets`
//! (`scripts/interop/python/programs.py`). Without a Python that has `websockets`, each
//! test prints a `SKIP` line and passes; CI installs it (`.ci/run`).
#![cfg(all(feature = "tokio", feature = "http"))]

mod support;

use std::process::Command;

use support::{Running, programs_py, python_websockets, run, start, start_server};

/// Runs `programs.py ARGS` and asserts that it passed.
fn python(python: &std::path::Path, args: &[&str]) {
    let mut command = Command::new(python);
    command.arg(programs_py()).args(args);
    let done = run(command, "");
    assert!(
        done.status.success(),
        "programs.py {args:?}: {}\n{}{}",
        done.status,
        done.stdout,
        done.stderr
    );
    assert!(done.stdout.starts_with("OK"), "{}", done.stdout);
}

#[test]
fn page_and_echo_serves_the_page_and_the_websocket_on_one_port() {
    let Some(py) = python_websockets("page_and_echo") else {
        return;
    };
    let (_server, addr) = start_server("page_and_echo", &["127.0.0.1:0"]);
    python(&py, &["page", &format!("http://{addr}")]);
}

#[test]
fn hyper_echo_upgrades_inside_a_hyper_server() {
    let Some(py) = python_websockets("hyper_echo") else {
        return;
    };
    let (_server, addr) = start_server("hyper_echo", &["127.0.0.1:0"]);
    python(&py, &["hyper", &format!("http://{addr}")]);
}

#[test]
fn broadcast_room_sends_every_message_to_all_others() {
    let Some(py) = python_websockets("broadcast_room") else {
        return;
    };
    let (_server, addr) = start_server("broadcast_room", &["127.0.0.1:0"]);
    python(&py, &["room", &format!("ws://{addr}/")]);
}

#[test]
fn send_client_sends_three_texts_and_a_mebibyte_then_closes_1000() {
    let Some(py) = python_websockets("send_client") else {
        return;
    };
    let mut server = Command::new(&py);
    server.arg(programs_py()).arg("server");
    let (mut server, port): (Running, String) = start(server);
    let client = run(
        {
            let mut c = support::example("send_client");
            c.arg(format!("ws://127.0.0.1:{port}/"));
            c
        },
        "",
    );
    assert!(
        client.status.success(),
        "{}: {}",
        client.status,
        client.stderr
    );
    assert!(server.wait().success(), "the Python server's checks failed");
}
