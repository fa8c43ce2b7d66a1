//! The chat's JSON protocol: one object per WebSocket text message, tagged by `"type"`.
//! README.md ("The chat room") documents every message; this file is its source.

use serde::{Deserialize, Serialize};

/// The room everyone is in after signing in.
pub const DEFAULT_ROOM: &str = "lobby";

/// The most bytes of UTF-8 in a message's text.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// The most characters in a room name (`a-z`, `0-9`, `-`, `_`).
pub const MAX_ROOM_CHARS: usize = 24;

/// The most rooms one user may be in at once.
pub const MAX_ROOMS_PER_USER: usize = 16;

/// The most bytes of a client's `ref` (its own id for a message, echoed in the ack).
pub const MAX_REF_BYTES: usize = 32;

/// A message from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    /// Sign in under a nickname, as a new session.
    Hello {
        /// See names.rs for what is allowed.
        nick: String,
    },
    /// Take a session back after a reconnect: its name, rooms, and what was missed.
    Resume {
        /// The token from the `welcome`.
        token: String,
        /// The highest message `id` the page has seen; messages after it are replayed.
        #[serde(default)]
        last: u64,
    },
    /// Join (and create, if new) a room.
    Join {
        /// The room's name.
        room: String,
    },
    /// Leave a room.
    Leave {
        /// The room's name.
        room: String,
    },
    /// Ask for the list of rooms.
    Rooms {},
    /// A message to everyone in a room the sender is in.
    Chat {
        /// The room; the default room if absent.
        #[serde(default)]
        room: Option<String>,
        /// 1 to 4096 bytes.
        text: String,
        /// The client's own id for the message, echoed in the `ack` (and the message).
        #[serde(default, rename = "ref")]
        reference: Option<String>,
    },
    /// A message to one user, wherever they are.
    Private {
        /// The recipient's nickname (compared as names are, look-alikes included).
        to: String,
        /// 1 to 4096 bytes.
        text: String,
        /// As for `chat`.
        #[serde(default, rename = "ref")]
        reference: Option<String>,
    },
    /// The sender is typing in a room (forwarded at most once per 2 s).
    Typing {
        /// The room.
        room: String,
    },
    /// Sign out: the name is free at once, the rooms are left.
    Quit {},
}

/// A room and how many users are in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// The room's name.
    pub name: String,
    /// Users in it, online or reconnecting.
    pub users: usize,
}

/// A user in a room's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The nickname as shown.
    pub nick: String,
    /// Disconnected, and within the resume grace period.
    pub away: bool,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// Signed in (or resumed): the name, the token to resume with, the rooms.
    Welcome {
        /// The nickname as registered (normalised).
        nick: String,
        /// Present it in `resume` after a reconnect.
        token: String,
        /// The rooms the user is in.
        rooms: Vec<String>,
        /// Whether this was a `resume`.
        resumed: bool,
    },
    /// The list of rooms.
    Rooms {
        /// Every room, sorted by name.
        rooms: Vec<RoomInfo>,
    },
    /// Someone joined a room (or signed in into it).
    Joined {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Someone left a room (or signed out, or did not come back in time).
    Left {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// Who is in a room now, sorted by name, after every change.
    Users {
        /// The room.
        room: String,
        /// Its users.
        users: Vec<UserInfo>,
    },
    /// A message to a room.
    Chat {
        /// Unique, increasing across all rooms and processes.
        id: u64,
        /// The room.
        room: String,
        /// The sender.
        from: String,
        /// The text.
        text: String,
        /// The sender's `ref`, if it gave one.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<String>,
        /// Milliseconds since the Unix epoch, when the server accepted it.
        ts: u64,
    },
    /// A private message, to its recipient and its sender.
    Private {
        /// As for `chat`.
        id: u64,
        /// The sender.
        from: String,
        /// The recipient.
        to: String,
        /// The text.
        text: String,
        /// The sender's `ref`, if it gave one.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<String>,
        /// As for `chat`.
        ts: u64,
    },
    /// The server accepted the message with this `ref`, as message `id`.
    Ack {
        /// The client's `ref`.
        #[serde(rename = "ref")]
        reference: String,
        /// The message's id.
        id: u64,
    },
    /// Someone is typing in a room.
    Typing {
        /// The room.
        room: String,
        /// Who.
        nick: String,
    },
    /// The last message was refused, and why; nothing else happened.
    Error {
        /// A sentence for a human.
        message: String,
        /// What kind of refusal, for the page: `invalid`, `name-taken`, `name-invalid`,
        /// `resume-failed`, `no-recipient`, `not-in-room`, `too-fast`, `unavailable`.
        code: String,
        /// The refused message's `ref`, if it had one.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none", default)]
        reference: Option<String>,
    },
}

impl ServerMessage {
    /// An error with a code and an optional `ref`.
    pub fn error(code: &str, message: impl Into<String>, reference: Option<String>) -> Self {
        ServerMessage::Error {
            message: message.into(),
            code: code.to_owned(),
            reference,
        }
    }

    /// The message as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Checks a room name: `a-z`, `0-9`, `-`, `_`, 1 to 24 characters; upper case is
/// lowered.
pub fn check_room(room: &str) -> Result<String, String> {
    let room = room.trim().to_ascii_lowercase();
    if room.is_empty() {
        return Err("the room name is empty".into());
    }
    if room.chars().count() > MAX_ROOM_CHARS {
        return Err(format!("the room name is over {MAX_ROOM_CHARS} characters"));
    }
    if !room
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("a room name may hold only a-z, 0-9, - and _".into());
    }
    Ok(room)
}

/// Checks a message's text.
pub fn check_text(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("the message is empty".into());
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "the message is {} bytes long; the limit is {MAX_TEXT_BYTES}",
            text.len()
        ));
    }
    Ok(())
}

/// Checks a client's `ref`: at most 32 bytes of printable ASCII.
pub fn check_ref(reference: Option<String>) -> Result<Option<String>, String> {
    match reference {
        Some(r) if r.len() > MAX_REF_BYTES || !r.bytes().all(|b| b.is_ascii_graphic()) => Err(
            format!("a ref is at most {MAX_REF_BYTES} printable ASCII characters"),
        ),
        r => Ok(r),
    }
}

/// Cuts `s` to at most `max` bytes, on a character boundary, marking the cut.
pub fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
