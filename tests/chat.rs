//! The chat example (examples/chat/): its nickname rules directly, and its protocol over
//! real sockets against the running binary (in memory; the Redis mode is exercised by
//! scripts/chat/redis_test.sh). Every wait is bounded; nothing here measures time.
#![cfg(feature = "tokio")]

mod support;

#[allow(dead_code)]
#[path = "../examples/chat/names.rs"]
mod names;

use std::net::SocketAddr;
use std::time::Duration;

use rfc6455::tokio::{Error, Message, Options, WebSocket};
use rfc6455::{CloseCode, HandshakeError};
use serde_json::{Value, json};
use support::{Running, start_server};
use tokio::net::TcpStream;

// ----- names -----

#[test]
fn names_are_nfc_and_counted_in_characters() {
    let composed = names::check("José").unwrap();
    let decomposed = names::check("Jose\u{301}").unwrap();
    assert_eq!(composed, decomposed);
    assert_eq!(composed.display, "José");
    // 32 characters (64 code points before NFC) is the limit, not bytes.
    assert!(names::check(&"e\u{301}".repeat(32)).is_ok());
    let long = names::check(&"é".repeat(33)).unwrap_err();
    assert!(long.contains("33 characters"), "{long}");
    // Spaces are trimmed and collapsed.
    assert_eq!(names::check("  ann   lee ").unwrap().display, "ann lee");
}

#[test]
fn invisible_and_direction_characters_are_refused() {
    for (name, what) in [
        ("bob\u{200B}", "invisible"),                   // zero-width space
        ("\u{200B}\u{200B}", "invisible"),              // nothing visible at all
        ("\u{3164}", "invisible"),                      // Hangul filler, looks blank
        ("ab\u{202E}cd", "text-direction"),             // right-to-left override
        ("\u{2067}x", "text-direction"),                // right-to-left isolate
        ("b\u{200D}ob", "invisible"),                   // a joiner between letters
        ("line\nbreak", "control"),                     // control character
        ("tab\u{7}", "control"),                        // bell
        ("\u{301}a", "combining mark"),                 // starts with a mark
        ("z\u{301}\u{302}\u{303}\u{304}", "combining"), // stacked marks
        ("\u{E000}", "private-use"),
        ("   ", "empty"),
        ("", "empty"),
    ] {
        let why = names::check(name).expect_err(name);
        assert!(why.contains(what), "{name:?}: {why}");
    }
    // Emoji with their presentation selector and joiners are fine.
    assert!(names::check("ann ❤\u{FE0F}").is_ok());
    assert!(names::check("👩\u{200D}💻 dev").is_ok());
    // Right-to-left letters are fine (the page isolates names).
    assert!(names::check("שלום").is_ok());
}

#[test]
fn lookalike_names_share_a_key() {
    let key = |n: &str| names::check(n).unwrap().key;
    let bob = key("bob");
    for same in [
        "Bob",
        "BOB",
        "bоb", /* Cyrillic о */
        "Ｂｏｂ",
        "bób",
        "b o b",
    ] {
        assert_eq!(key(same), bob, "{same}");
    }
    assert_eq!(key("alice"), key("aIice")); // capital I
    assert_eq!(key("paypal"), key("pаypаl")); // Cyrillic а
    assert_eq!(key("modern"), key("rnodern"));
    assert_ne!(key("bob"), key("rob"));
    assert_ne!(key("ann"), key("anna"));
}

// ----- a client over the real protocol -----

/// The chat on a free port with `flags`; killed on drop.
struct Chat {
    addr: SocketAddr,
    _running: Running,
}

impl Chat {
    fn start(flags: &[&str]) -> Self {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(flags);
        let (running, addr) = start_server("chat", &all);
        Chat {
            addr,
            _running: running,
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    async fn connect(&self) -> Client {
        let options = Options::default().keepalive(None, Duration::from_secs(20));
        let (ws, _) = options.connect(&self.url()).await.expect("connect");
        Client { ws }
    }

    /// A client signed in as `nick`, its welcome read; returns the token.
    async fn user(&self, nick: &str) -> (Client, String) {
        let mut client = self.connect().await;
        client.send(json!({"type": "hello", "nick": nick})).await;
        let welcome = client.expect("welcome").await;
        let token = welcome["token"].as_str().expect("token").to_owned();
        // Then the rooms list, and the lobby's history and users list.
        client.expect("users").await;
        (client, token)
    }
}

const WAIT: Duration = Duration::from_secs(20);

struct Client {
    ws: WebSocket<TcpStream>,
}

impl Client {
    async fn send(&mut self, message: Value) {
        self.ws.send(message.to_string()).await.expect("send");
    }

    /// The next message (JSON), within WAIT.
    async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.recv())
                .await
                .expect("a message in time")
                .expect("no error")
                .expect("not closed");
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).expect("JSON");
            }
        }
    }

    /// The next message of type `kind`, skipping others.
    async fn expect(&mut self, kind: &str) -> Value {
        self.expect_where(kind, |_| true).await
    }

    /// The next message of type `kind` for which `pred` holds, skipping others.
    async fn expect_where(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Ok(message) = tokio::time::timeout(left, self.next()).await else {
                panic!("no {kind} in time; got {skipped:?}");
            };
            if message["type"] == kind && pred(&message) {
                return message;
            }
            skipped.push(message);
        }
    }

    /// Everything that arrives until the answer to a marker message (a round trip: all
    /// that the server sent before it is in).
    async fn until_sync(&mut self) -> Vec<Value> {
        self.send(json!({"type": "chat", "room": "no-such-room", "text": ".", "ref": "sync"}))
            .await;
        let mut seen = Vec::new();
        loop {
            let message = self.next().await;
            if message["type"] == "error" && message["ref"] == "sync" {
                return seen;
            }
            seen.push(message);
        }
    }

    /// The close the server sent, after reading whatever came first.
    async fn closed_with(&mut self) -> (Option<CloseCode>, usize) {
        let mut data = 0;
        loop {
            match tokio::time::timeout(WAIT, self.ws.recv()).await {
                Ok(Ok(Some(Message::Close(frame)))) => return (frame.map(|f| f.code), data),
                Ok(Ok(Some(_))) => data += 1,
                Ok(Ok(None)) => return (None, data),
                Ok(Err(e)) => panic!("error before the close: {e}"),
                Err(_) => panic!("no close within {WAIT:?}"),
            }
        }
    }
}

fn users(message: &Value) -> Vec<(String, bool)> {
    message["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| (u["nick"].as_str().unwrap().to_owned(), u["away"] == true))
        .collect()
}

fn texts(messages: &[Value], kind: &str) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["type"] == kind)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn hello_puts_a_user_in_the_lobby_with_a_token() {
    let chat = Chat::start(&[]);
    let mut alice = chat.connect().await;
    alice
        .send(json!({"type": "hello", "nick": " alice "}))
        .await;
    let welcome = alice.next().await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["nick"], "alice");
    assert_eq!(welcome["rooms"], json!(["lobby"]));
    assert_eq!(welcome["resumed"], false);
    assert_eq!(welcome["token"].as_str().unwrap().len(), 32);
    let rooms = alice.expect("rooms").await;
    assert_eq!(
        rooms,
        json!({"type": "rooms", "rooms": [{"name": "lobby", "users": 1}]})
    );
    let (_bob, _) = chat.user("bob").await;
    let list = alice
        .expect_where("users", |m| m["users"].as_array().unwrap().len() == 2)
        .await;
    assert_eq!(list["room"], "lobby");
    assert_eq!(
        users(&list),
        [("alice".into(), false), ("bob".into(), false)]
    );
}

#[tokio::test]
async fn rooms_join_list_broadcast_and_leave() {
    let chat = Chat::start(&[]);
    let (mut alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    let (mut carol, _) = chat.user("carol").await;
    alice.send(json!({"type": "join", "room": "Rust"})).await;
    let list = alice.expect_where("users", |m| m["room"] == "rust").await;
    assert_eq!(users(&list), [("alice".into(), false)]);
    let rooms = alice.expect("rooms").await;
    assert_eq!(
        rooms["rooms"],
        json!([{"name": "lobby", "users": 3}, {"name": "rust", "users": 1}])
    );
    bob.send(json!({"type": "join", "room": "rust"})).await;
    alice
        .expect_where("joined", |m| m["room"] == "rust" && m["nick"] == "bob")
        .await;
    // A message to #rust reaches its members only.
    alice
        .send(json!({"type": "chat", "room": "rust", "text": "borrowck", "ref": "a1"}))
        .await;
    let got = bob.expect_where("chat", |m| m["room"] == "rust").await;
    assert_eq!(got["from"], "alice");
    assert_eq!(got["text"], "borrowck");
    let carol_saw = carol.until_sync().await;
    assert!(texts(&carol_saw, "chat").is_empty(), "{carol_saw:?}");
    // One can't post to a room one is not in.
    carol
        .send(json!({"type": "chat", "room": "rust", "text": "hi", "ref": "c1"}))
        .await;
    let refused = carol.expect("error").await;
    assert_eq!(refused["code"], "not-in-room");
    assert_eq!(refused["ref"], "c1");
    // Leaving: the others are told, and the room's list shrinks.
    bob.send(json!({"type": "leave", "room": "rust"})).await;
    alice
        .expect_where("left", |m| m["room"] == "rust" && m["nick"] == "bob")
        .await;
    let list = alice.expect_where("users", |m| m["room"] == "rust").await;
    assert_eq!(users(&list), [("alice".into(), false)]);
    // Everyone stays in the lobby; bad room names are refused.
    bob.send(json!({"type": "leave", "room": "lobby"})).await;
    assert_eq!(bob.expect("error").await["code"], "invalid");
    bob.send(json!({"type": "join", "room": "no spaces!"}))
        .await;
    assert!(
        bob.expect("error").await["message"]
            .as_str()
            .unwrap()
            .contains("a-z")
    );
}

#[tokio::test]
async fn private_messages_cross_rooms_and_absent_recipients_are_refused() {
    let chat = Chat::start(&[]);
    let (mut alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    let (mut carol, _) = chat.user("carol").await;
    alice
        .send(json!({"type": "join", "room": "only-alice"}))
        .await;
    alice
        .expect_where("users", |m| m["room"] == "only-alice")
        .await;
    // To bob, named with look-alike letters and another case.
    alice
        .send(json!({"type": "private", "to": "BОB", "text": "psst", "ref": "p1"}))
        .await;
    let alice_saw = alice.until_sync().await;
    let ack = alice_saw
        .iter()
        .find(|m| m["type"] == "ack")
        .expect("an ack");
    assert_eq!(ack["ref"], "p1");
    let got = bob.expect("private").await;
    assert_eq!(got["from"], "alice");
    assert_eq!(got["to"], "bob");
    assert_eq!(got["id"], ack["id"]);
    let echo = alice_saw
        .iter()
        .find(|m| m["type"] == "private")
        .expect("the echo");
    assert_eq!(echo["id"], ack["id"]);
    let carol_saw = carol.until_sync().await;
    assert!(texts(&carol_saw, "private").is_empty(), "{carol_saw:?}");
    // Nobody by that name: refused, with the ref, so the page can mark it failed.
    alice
        .send(json!({"type": "private", "to": "zed", "text": "hi", "ref": "p2"}))
        .await;
    let refused = alice.expect("error").await;
    assert_eq!(refused["code"], "no-recipient");
    assert_eq!(refused["ref"], "p2");
}

#[tokio::test]
async fn acks_carry_the_id_and_a_retried_ref_is_not_sent_twice() {
    let chat = Chat::start(&[]);
    let (mut alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    let send = json!({"type": "chat", "text": "once", "ref": "r-1"});
    alice.send(send.clone()).await;
    let first = alice.expect("ack").await;
    alice.send(send).await; // a retry after a lost ack
    let second = alice.expect("ack").await;
    assert_eq!(first["id"], second["id"]);
    let bob_saw = bob.until_sync().await;
    assert_eq!(texts(&bob_saw, "chat"), ["once"], "delivered once");
    // A malformed message is an error to its sender only.
    alice.send(json!({"type": "chat"})).await;
    let error = alice.expect("error").await;
    assert!(error["message"].as_str().unwrap().starts_with("malformed"));
}

#[tokio::test]
async fn names_taken_or_lookalike_are_refused_on_the_wire() {
    let chat = Chat::start(&[]);
    let (_alice, _) = chat.user("alice").await;
    for name in [
        "ALICE",
        "аlice", /* Cyrillic а */
        "aIice",
        "ａｌｉｃｅ",
    ] {
        let mut other = chat.connect().await;
        other.send(json!({"type": "hello", "nick": name})).await;
        let refused = other.expect("error").await;
        assert_eq!(refused["code"], "name-taken", "{name}");
    }
    let mut sneaky = chat.connect().await;
    sneaky
        .send(json!({"type": "hello", "nick": "ali\u{200B}ce"}))
        .await;
    assert_eq!(sneaky.expect("error").await["code"], "name-invalid");
}

#[tokio::test]
async fn history_is_sent_on_join_and_limited_to_n() {
    let chat = Chat::start(&["--history", "3"]);
    let (mut alice, _) = chat.user("alice").await;
    for i in 1..=5 {
        alice
            .send(json!({"type": "chat", "text": format!("m{i}"), "ref": format!("r{i}")}))
            .await;
        alice.expect("ack").await;
    }
    let mut late = chat.connect().await;
    late.send(json!({"type": "hello", "nick": "late"})).await;
    let seen = late.until_sync().await;
    assert_eq!(texts(&seen, "chat"), ["m3", "m4", "m5"]);
}

#[tokio::test]
async fn resume_takes_the_name_back_at_once_and_replays_what_was_missed() {
    let chat = Chat::start(&[]);
    let (mut alice, token) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    alice.send(json!({"type": "join", "room": "rust"})).await;
    alice
        .send(json!({"type": "chat", "text": "before", "ref": "b"}))
        .await;
    let last = alice.expect("ack").await["id"].as_u64().unwrap();
    // alice's network goes away without a word: her old connection is still open on
    // the server (silent), as after a phone's blip.
    let dead = alice;
    bob.send(json!({"type": "chat", "text": "during the blip", "ref": "x"}))
        .await;
    bob.expect("ack").await;
    bob.send(json!({"type": "private", "to": "alice", "text": "did you see?", "ref": "y"}))
        .await;
    // Delivered to the (dead) connection or kept for the resume: either way, accepted.
    bob.expect("ack").await;
    // A newcomer cannot take the name meanwhile.
    let mut thief = chat.connect().await;
    thief.send(json!({"type": "hello", "nick": "alice"})).await;
    assert_eq!(thief.expect("error").await["code"], "name-taken");
    // The page reconnects with its token and the last id it saw.
    let mut alice = chat.connect().await;
    alice
        .send(json!({"type": "resume", "token": token, "last": last}))
        .await;
    let welcome = alice.expect("welcome").await;
    assert_eq!(welcome["resumed"], true);
    assert_eq!(welcome["nick"], "alice");
    assert_eq!(welcome["rooms"], json!(["lobby", "rust"]));
    let replayed = alice.until_sync().await;
    assert_eq!(texts(&replayed, "chat"), ["during the blip"]);
    assert_eq!(texts(&replayed, "private"), ["did you see?"]);
    // The old connection is closed with 4001, not left to time out.
    let mut dead = dead;
    let (code, _) = dead.closed_with().await;
    assert_eq!(code, Some(CloseCode(4001)));
    // And bob sees alice online.
    let list = bob
        .expect_where("users", |m| {
            m["room"] == "lobby" && users(m).contains(&("alice".into(), false))
        })
        .await;
    assert_eq!(list["users"].as_array().unwrap().len(), 2);
    // A bad token is refused so the page can sign in again.
    let mut stranger = chat.connect().await;
    stranger
        .send(json!({"type": "resume", "token": "nope", "last": 0}))
        .await;
    assert_eq!(stranger.expect("error").await["code"], "resume-failed");
}

#[tokio::test]
async fn a_dead_connection_is_found_by_ping_then_the_name_freed_after_the_grace() {
    let chat = Chat::start(&[
        "--ping-interval",
        "300ms",
        "--ping-timeout",
        "300ms",
        "--resume-grace",
        "1s",
    ]);
    let (alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    // alice stops answering (her client is never polled again): keepalive finds out,
    // and she shows as away...
    let _frozen = alice;
    bob.expect_where("users", |m| users(m).contains(&("alice".into(), true)))
        .await;
    // ...then, the grace period over, she has left and the name is free.
    bob.expect_where("left", |m| m["nick"] == "alice").await;
    let (_new_alice, _) = chat.user("alice").await;
}

#[tokio::test]
async fn quit_frees_the_name_at_once() {
    let chat = Chat::start(&[]);
    let (mut alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    alice.send(json!({"type": "quit"})).await;
    bob.expect_where("left", |m| m["nick"] == "alice").await;
    let (_again, _) = chat.user("Alice").await;
}

#[tokio::test]
async fn typing_notices_are_rate_limited_per_room() {
    let chat = Chat::start(&[]);
    let (mut alice, _) = chat.user("alice").await;
    let (mut bob, _) = chat.user("bob").await;
    for _ in 0..5 {
        alice.send(json!({"type": "typing", "room": "lobby"})).await;
    }
    alice.until_sync().await; // all five handled
    let seen = bob.until_sync().await;
    let typing: Vec<_> = seen.iter().filter(|m| m["type"] == "typing").collect();
    assert_eq!(typing.len(), 1, "{seen:?}");
    assert_eq!(typing[0]["nick"], "alice");
}

/// A client that stops reading while others send to it: its queue is dropped and the
/// close 1008 follows the frames already written, whole.
#[tokio::test]
async fn a_slow_reader_gets_1008_after_whole_frames() {
    let chat = Chat::start(&["--ping-interval", "120s", "--write-timeout", "120s"]);
    // The slow reader, with a small receive buffer so that the server's side fills.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(chat.addr).await.unwrap();
    let url = chat.url();
    let uri = rfc6455::handshake::WsUri::parse(&url).unwrap();
    let options = Options::default().keepalive(None, Duration::from_secs(20));
    let (ws, _) = options
        .client_handshake(stream, rfc6455::handshake::ClientHandshake::new(&uri))
        .await
        .unwrap();
    let mut slow = Client { ws };
    slow.send(json!({"type": "hello", "nick": "slow"})).await;
    slow.expect("welcome").await;
    let (mut watcher, _) = chat.user("watcher").await;
    // Twenty senders, 100 private messages of 4 KiB each to it: 8 MB, more than the
    // socket buffers, the adapter's write buffer and the 256-message queue hold.
    let text = "x".repeat(4000);
    let mut senders = Vec::new();
    for i in 0..20 {
        let (sender, _) = chat.user(&format!("sender{i}")).await;
        let text = text.clone();
        senders.push(tokio::spawn(async move {
            let mut sender = sender;
            for n in 0..100 {
                sender
                    .send(json!({"type": "private", "to": "slow", "text": text, "ref": format!("{n}")}))
                    .await;
                if n % 30 == 29 {
                    // Stay under the rate limit (20 a second, bursts of 40).
                    tokio::time::sleep(Duration::from_millis(1600)).await;
                }
            }
            // Every message answered (acked, or refused once slow was gone).
            let mut answered = 0;
            while answered < 100 {
                let m = sender.next().await;
                if m["type"] == "ack" || m["type"] == "error" {
                    answered += 1;
                }
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    // Now read: complete messages (the decoder would fail on a torn frame), then 1008.
    let (code, data) = slow.closed_with().await;
    assert_eq!(code, Some(CloseCode::POLICY_VIOLATION));
    assert!(
        data < 2000,
        "its queued messages were dropped ({data} arrived)"
    );
    // Its session is away (resumable), not left online for ever.
    watcher
        .expect_where("users", |m| users(m).contains(&("slow".into(), true)))
        .await;
}

/// Two connections, the cap; a third gets a 503, not silence. Handshakes in progress
/// have their own slots and do not take connection slots.
#[tokio::test]
async fn over_the_cap_is_503_and_handshakes_do_not_fill_it() {
    let chat = Chat::start(&["--max-connections", "2", "--max-handshakes", "3"]);
    // Two stalled handshakes (a TCP connection that never sends its request).
    let _stalled: Vec<TcpStream> = vec![
        TcpStream::connect(chat.addr).await.unwrap(),
        TcpStream::connect(chat.addr).await.unwrap(),
    ];
    let (_a, _) = chat.user("a").await;
    let (_b, _) = chat.user("b").await;
    let rejected = Options::default().connect(&chat.url()).await;
    match rejected {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 503);
        }
        other => panic!("expected a 503, got {:?}", other.map(|_| ())),
    }
    // With the handshake slots full too, a new connection still gets a 503.
    let _third = TcpStream::connect(chat.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // let it take its slot
    let busy = Options::default().connect(&chat.url()).await;
    match busy {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 503);
        }
        other => panic!("expected a 503, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn restart_with_a_state_file_keeps_names_rooms_and_history() {
    let dir = std::env::temp_dir().join(format!("chat-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();
    let chat = Chat::start(&["--state", state_arg]);
    let (mut alice, token) = chat.user("alice").await;
    alice.send(json!({"type": "join", "room": "rust"})).await;
    alice
        .send(json!({"type": "chat", "room": "rust", "text": "kept", "ref": "k"}))
        .await;
    alice.expect("ack").await;
    let addr = chat.addr;
    // SIGINT: the server closes with 1001 and saves its state.
    chat._running.interrupt();
    let (code, _) = alice.closed_with().await;
    assert_eq!(code, Some(CloseCode::GOING_AWAY));
    let mut running = chat._running;
    assert!(running.wait().success());
    let chat = Chat::start(&["--state", state_arg, "--addr", &addr.to_string()]);
    // A newcomer cannot take alice's name while she is reconnecting...
    let mut thief = chat.connect().await;
    thief.send(json!({"type": "hello", "nick": "alice"})).await;
    assert_eq!(thief.expect("error").await["code"], "name-taken");
    // ...and she resumes with her rooms and the history.
    let mut alice = chat.connect().await;
    alice
        .send(json!({"type": "resume", "token": token, "last": 0}))
        .await;
    let welcome = alice.expect("welcome").await;
    assert_eq!(welcome["rooms"], json!(["lobby", "rust"]));
    let replayed = alice.until_sync().await;
    assert_eq!(texts(&replayed, "chat"), ["kept"]);
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- several processes through Redis -----

/// `redis-server` from `RFC6455_REDIS_SERVER` or the PATH; `None` if there is none.
fn redis_server() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("RFC6455_REDIS_SERVER").map(std::path::PathBuf::from),
        Some("redis-server".into()),
        Some("/usr/bin/redis-server".into()),
    ];
    candidates.into_iter().flatten().find(|bin| {
        std::process::Command::new(bin)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// A throwaway Redis on a free port (no persistence); killed on drop.
struct Redis {
    port: u16,
    _running: Running,
    dir: std::path::PathBuf,
}

impl Redis {
    fn start(bin: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("chat-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = std::process::Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        let redis = Redis {
            port,
            _running: Running(child),
            dir,
        };
        // Ready once it answers PING.
        let deadline = std::time::Instant::now() + support::TIMEOUT;
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::{Read, Write};
                let mut reply = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut reply).is_ok() {
                    assert_eq!(&reply, b"+PONG\r\n");
                    return redis;
                }
            }
            assert!(std::time::Instant::now() < deadline, "redis did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Two chat processes on one Redis: users on either see each other in rooms, exchange
/// private messages, and when one process dies its users resume on the other with
/// their names, rooms and what they missed. Skipped (with a SKIP line) without
/// `redis-server`, unless `RFC6455_REQUIRE_REDIS` is set (scripts/chat/redis_test.sh
/// installs it and sets that).
#[tokio::test]
async fn scale_out_two_processes_share_rooms_names_and_history_through_redis() {
    let Some(bin) = redis_server() else {
        assert!(
            std::env::var_os("RFC6455_REQUIRE_REDIS").is_none(),
            "redis-server not found (RFC6455_REQUIRE_REDIS is set)"
        );
        println!("SKIP scale_out: no redis-server (run scripts/chat/redis_test.sh)");
        return;
    };
    let redis = Redis::start(&bin);
    let flags = [
        "--redis",
        &redis.url(),
        "--resume-grace",
        "30s",
        "--ping-interval",
        "20s",
    ];
    let a = Chat::start(&flags);
    let b = Chat::start(&flags);

    // Presence and rooms across processes.
    let (mut alice, token) = a.user("alice").await;
    let (mut bob, _) = b.user("bob").await;
    alice.expect_where("users", |m| users(m).len() == 2).await;
    alice.send(json!({"type": "join", "room": "rust"})).await;
    alice.expect_where("users", |m| m["room"] == "rust").await;
    bob.send(json!({"type": "join", "room": "rust"})).await;
    let list = alice
        .expect_where("users", |m| m["room"] == "rust" && users(m).len() == 2)
        .await;
    assert_eq!(
        users(&list),
        [("alice".into(), false), ("bob".into(), false)]
    );
    alice
        .send(json!({"type": "chat", "room": "rust", "text": "from A", "ref": "a1"}))
        .await;
    let got = bob.expect_where("chat", |m| m["text"] == "from A").await;
    assert_eq!(
        (got["from"].as_str(), got["room"].as_str()),
        (Some("alice"), Some("rust"))
    );
    bob.send(json!({"type": "chat", "room": "rust", "text": "from B", "ref": "b1"}))
        .await;
    let last = alice.expect_where("chat", |m| m["text"] == "from B").await["id"]
        .as_u64()
        .unwrap();
    // Room counts come from the shared state.
    bob.send(json!({"type": "rooms"})).await;
    let rooms = bob.expect("rooms").await;
    assert_eq!(
        rooms["rooms"],
        json!([{"name": "lobby", "users": 2}, {"name": "rust", "users": 2}])
    );

    // Private messages across processes, acknowledged.
    bob.send(json!({"type": "private", "to": "Alice", "text": "psst from B", "ref": "p1"}))
        .await;
    let ack = bob.expect("ack").await;
    let got = alice.expect("private").await;
    assert_eq!(got["text"], "psst from B");
    assert_eq!(got["id"], ack["id"]);
    // The highest id alice saw, as the page keeps it.
    let last = last.max(got["id"].as_u64().unwrap());

    // Names are unique across processes, look-alikes included.
    let mut carol = b.connect().await;
    carol.send(json!({"type": "hello", "nick": "ALİCE"})).await;
    assert_eq!(carol.expect("error").await["code"], "name-taken");
    drop(carol);

    // Process A dies without a word. Its users show as away on B, their names held.
    drop(a);
    bob.expect_where("users", |m| {
        m["room"] == "rust" && users(m).contains(&("alice".into(), true))
    })
    .await;
    bob.send(json!({"type": "chat", "room": "rust", "text": "while A was down", "ref": "b2"}))
        .await;
    bob.send(json!({"type": "private", "to": "alice", "text": "are you back?", "ref": "p2"}))
        .await;
    let mut carol = b.connect().await;
    carol.send(json!({"type": "hello", "nick": "alice"})).await;
    assert_eq!(carol.expect("error").await["code"], "name-taken");

    // alice reconnects to B and resumes: name, rooms, and what she missed.
    let mut alice = b.connect().await;
    alice
        .send(json!({"type": "resume", "token": token, "last": last}))
        .await;
    let welcome = alice.expect("welcome").await;
    assert_eq!(welcome["resumed"], true);
    assert_eq!(welcome["nick"], "alice");
    assert_eq!(welcome["rooms"], json!(["lobby", "rust"]));
    let missed = alice.until_sync().await;
    assert_eq!(texts(&missed, "chat"), ["while A was down"]);
    assert_eq!(texts(&missed, "private"), ["are you back?"]);
    bob.expect_where("users", |m| {
        m["room"] == "rust" && users(m).contains(&("alice".into(), false))
    })
    .await;
    // A late joiner on B gets #rust's history, written through A and B.
    let (mut dave, _) = b.user("dave").await;
    dave.send(json!({"type": "join", "room": "rust"})).await;
    let seen = dave.until_sync().await;
    assert_eq!(
        texts(&seen, "chat"),
        ["from A", "from B", "while A was down"]
    );
}

// ----- the README's commands -----

/// Every command in the README's chat section runs as written (with free ports and a
/// temporary state file): `redis-server` lines start a Redis that the block's `--redis`
/// lines then use, and each `cargo run --example chat` line starts a server.
#[test]
fn readme_chat_commands_start_as_written() {
    let readme = include_str!("../README.md");
    let start = readme.find("### The chat room").expect("the chat section");
    let section = &readme[start..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut blocks = 0;
    for block in section.split("```sh\n").skip(1) {
        let block = &block[..block.find("```").expect("closed block")];
        blocks += 1;
        let mut redis: Option<Redis> = None;
        for line in block.lines() {
            let words: Vec<String> = line
                .trim_end_matches('&')
                .split_whitespace()
                .map(|w| w.trim_matches('\'').to_owned())
                .collect();
            match words.first().map(String::as_str) {
                Some("redis-server") => {
                    let bin = redis_server();
                    let Some(bin) = bin else {
                        println!("SKIP README redis block: no redis-server");
                        break;
                    };
                    assert!(words.iter().any(|w| w == "--port"), "{line}");
                    redis = Some(Redis::start(&bin));
                }
                Some("cargo") => {
                    let args = words
                        .iter()
                        .position(|w| w == "--")
                        .map(|i| &words[i + 1..])
                        .unwrap_or_else(|| panic!("no `--` in {line}"));
                    assert!(line.starts_with("cargo run --example chat -- "), "{line}");
                    let dir = std::env::temp_dir();
                    let state = dir.join(format!("readme-chat-{}.json", std::process::id()));
                    let mut flags = Vec::new();
                    let mut args = args.iter();
                    while let Some(flag) = args.next() {
                        let value = args
                            .next()
                            .unwrap_or_else(|| panic!("{flag} needs a value"));
                        let value = match flag.as_str() {
                            "--addr" => "127.0.0.1:0".to_owned(),
                            "--state" => state.to_string_lossy().into_owned(),
                            "--redis" => redis.as_ref().expect("redis started above").url(),
                            _ => value.clone(),
                        };
                        flags.push(flag.clone());
                        flags.push(value);
                    }
                    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                    // start_server asserts the first line names the address it listens on.
                    let (_running, _addr) = start_server("chat", &flags);
                    let _ = std::fs::remove_file(&state);
                }
                _ => panic!("a README command this test does not know: {line}"),
            }
        }
    }
    assert_eq!(blocks, 3, "the chat section's command blocks");
}
