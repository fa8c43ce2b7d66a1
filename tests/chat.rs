//! The chat example's room logic (examples/chat/room.rs), tested without sockets.

#[allow(dead_code)]
#[path = "../examples/chat/room.rs"]
mod room;

use room::{ClientId, Delivery, MAX_TEXT_BYTES, Room, ServerMessage};
use serde_json::json;

/// What each client received from a batch of deliveries, as JSON values, in order.
fn inbox(deliveries: &[Delivery], id: ClientId) -> Vec<serde_json::Value> {
    deliveries
        .iter()
        .filter(|d| d.to.contains(&id))
        .map(|d| serde_json::to_value(&d.message).expect("serializable"))
        .collect()
}

fn join(room: &mut Room, id: ClientId, nick: &str) -> Vec<Delivery> {
    room.on_text(id, &json!({"type": "join", "nick": nick}).to_string())
}

fn error_text(deliveries: &[Delivery], id: ClientId) -> String {
    assert_eq!(deliveries.len(), 1, "one delivery: {deliveries:?}");
    assert_eq!(deliveries[0].to, [id], "to the sender only");
    match &deliveries[0].message {
        ServerMessage::Error { message } => message.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A room with alice (1), bob (2) and carol (3).
fn three() -> Room {
    let mut room = Room::new();
    for (id, nick) in [(1, "alice"), (2, "bob"), (3, "carol")] {
        join(&mut room, id, nick);
    }
    room
}

#[test]
fn join_welcomes_and_tells_the_others() {
    let mut room = Room::new();
    let first = join(&mut room, 1, "alice");
    assert_eq!(
        inbox(&first, 1),
        [json!({"type": "welcome", "nick": "alice", "users": ["alice"]})]
    );
    let second = join(&mut room, 2, "  bob ");
    assert_eq!(
        inbox(&second, 2),
        [json!({"type": "welcome", "nick": "bob", "users": ["alice", "bob"]})]
    );
    assert_eq!(
        inbox(&second, 1),
        [
            json!({"type": "joined", "nick": "bob"}),
            json!({"type": "users", "users": ["alice", "bob"]}),
        ]
    );
    assert_eq!(room.users(), ["alice", "bob"]);
    assert_eq!(room.nick(2), Some("bob"));
}

#[test]
fn duplicate_nick_is_refused_regardless_of_case() {
    let mut room = three();
    let out = join(&mut room, 4, "Alice");
    assert!(error_text(&out, 4).contains("taken"), "{out:?}");
    assert_eq!(room.len(), 3);
    assert_eq!(room.nick(4), None);
    // The refused client can try again.
    let out = join(&mut room, 4, "dave");
    assert_eq!(inbox(&out, 4)[0]["type"], "welcome");
}

#[test]
fn invalid_nicks_are_refused() {
    let mut room = Room::new();
    for nick in ["", "   ", "a\u{0}b", "line\nbreak", &"x".repeat(33)] {
        let out = join(&mut room, 1, nick);
        let _ = error_text(&out, 1);
    }
    // 32 characters (not bytes) is the limit.
    let out = join(&mut room, 1, &"é".repeat(32));
    assert_eq!(inbox(&out, 1)[0]["type"], "welcome");
}

#[test]
fn joining_twice_is_refused() {
    let mut room = three();
    let out = join(&mut room, 1, "alice2");
    assert!(error_text(&out, 1).contains("already joined"));
    assert_eq!(room.users(), ["alice", "bob", "carol"]);
}

#[test]
fn broadcast_is_seen_by_all_including_the_sender() {
    let mut room = three();
    let out = room.on_text(2, r#"{"type":"chat","text":"hello <b>all</b>"}"#);
    for id in [1, 2, 3] {
        assert_eq!(
            inbox(&out, id),
            [json!({"type": "chat", "from": "bob", "text": "hello <b>all</b>"})]
        );
    }
    // A client that has not joined sees nothing.
    assert!(inbox(&out, 4).is_empty());
}

#[test]
fn private_is_seen_only_by_target_and_sender() {
    let mut room = three();
    let out = room.on_text(1, r#"{"type":"private","to":"BOB","text":"psst"}"#);
    let expected = [json!({"type": "private", "from": "alice", "to": "bob", "text": "psst"})];
    assert_eq!(inbox(&out, 2), expected, "target");
    assert_eq!(inbox(&out, 1), expected, "sender's echo");
    assert!(inbox(&out, 3).is_empty(), "third party");
}

#[test]
fn private_to_oneself_is_delivered_once() {
    let mut room = three();
    let out = room.on_text(3, r#"{"type":"private","to":"carol","text":"note"}"#);
    assert_eq!(inbox(&out, 3).len(), 1);
    assert_eq!(out[0].to, [3]);
}

#[test]
fn private_to_nobody_is_an_error() {
    let mut room = three();
    let out = room.on_text(1, r#"{"type":"private","to":"zed","text":"hi"}"#);
    assert!(error_text(&out, 1).contains("zed"));
}

#[test]
fn leave_notifies_the_others_with_the_new_list() {
    let mut room = three();
    let out = room.leave(2);
    for id in [1, 3] {
        assert_eq!(
            inbox(&out, id),
            [
                json!({"type": "left", "nick": "bob"}),
                json!({"type": "users", "users": ["alice", "carol"]}),
            ]
        );
    }
    assert!(inbox(&out, 2).is_empty());
    // The nickname is free again; leaving twice or without joining is silent.
    assert!(room.leave(2).is_empty());
    assert!(room.leave(99).is_empty());
    assert_eq!(inbox(&join(&mut room, 5, "Bob"), 5)[0]["type"], "welcome");
}

#[test]
fn last_user_leaving_sends_nothing() {
    let mut room = Room::new();
    join(&mut room, 1, "solo");
    assert!(room.leave(1).is_empty());
    assert!(room.is_empty());
}

#[test]
fn malformed_json_is_an_error_to_that_user_only() {
    let mut room = three();
    for bad in [
        "not json",
        "{\"type\":\"chat\"",
        "[1,2]",
        r#"{"type":"shout","text":"hi"}"#,
        r#"{"type":"chat"}"#,
        r#"{"type":"chat","text":42}"#,
        r#"{"text":"no type"}"#,
    ] {
        let out = room.on_text(2, bad);
        assert!(
            error_text(&out, 2).starts_with("malformed message"),
            "{bad}: {out:?}"
        );
    }
    assert_eq!(room.users(), ["alice", "bob", "carol"]);
}

#[test]
fn quoted_parser_errors_are_bounded() {
    let mut room = three();
    let variant = "x".repeat(50_000);
    let out = room.on_text(1, &format!(r#"{{"type":"{variant}"}}"#));
    assert!(error_text(&out, 1).len() < 400);
}

#[test]
fn oversized_and_empty_texts_are_errors() {
    let mut room = three();
    let big = "a".repeat(MAX_TEXT_BYTES + 1);
    let out = room.on_text(1, &json!({"type": "chat", "text": big}).to_string());
    assert!(error_text(&out, 1).contains("limit"));
    let out = room.on_text(
        1,
        &json!({"type": "private", "to": "bob", "text": big}).to_string(),
    );
    assert!(error_text(&out, 1).contains("limit"));
    let out = room.on_text(1, r#"{"type":"chat","text":"  "}"#);
    assert!(error_text(&out, 1).contains("empty"));
    // Exactly at the limit is fine.
    let max = "a".repeat(MAX_TEXT_BYTES);
    let out = room.on_text(1, &json!({"type": "chat", "text": max}).to_string());
    assert_eq!(inbox(&out, 3)[0]["type"], "chat");
}

#[test]
fn messages_before_joining_are_errors() {
    let mut room = three();
    let out = room.on_text(9, r#"{"type":"chat","text":"hi"}"#);
    assert!(error_text(&out, 9).contains("join"));
    let out = room.on_text(9, r#"{"type":"private","to":"bob","text":"hi"}"#);
    assert!(error_text(&out, 9).contains("join"));
}

#[test]
fn binary_is_an_error() {
    let mut room = three();
    let out = room.on_binary(1);
    assert!(error_text(&out, 1).contains("binary"));
}

#[test]
fn unknown_fields_are_ignored() {
    let mut room = three();
    let out = room.on_text(1, r#"{"type":"chat","text":"hi","color":"red"}"#);
    assert_eq!(inbox(&out, 2)[0]["text"], "hi");
}
