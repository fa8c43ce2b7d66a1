//! The chat room's logic, with no I/O: messages from clients go in, deliveries (a message
//! and the clients it goes to) come out. `main.rs` does the sockets; `tests/chat.rs`
//! tests this module directly.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Identifies one connection. Assigned by the caller, never reused while connected.
pub type ClientId = u64;

/// The most characters (Unicode scalar values) in a nickname.
pub const MAX_NICK_CHARS: usize = 32;

/// The most bytes of UTF-8 in a chat or private message's text.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;

/// The most bytes of a parser's error quoted back to the client.
const MAX_DETAIL_BYTES: usize = 200;

/// A message from a client, a JSON object tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    /// `{"type":"join","nick":"alice"}`: enter the room under a nickname.
    Join {
        /// 1 to 32 characters, no control characters; surrounding spaces are trimmed.
        nick: String,
    },
    /// `{"type":"chat","text":"hello"}`: a message to everyone in the room.
    Chat {
        /// 1 to 4096 bytes of UTF-8.
        text: String,
    },
    /// `{"type":"private","to":"bob","text":"psst"}`: a message to one user.
    Private {
        /// The recipient's nickname (case-insensitive).
        to: String,
        /// 1 to 4096 bytes of UTF-8.
        text: String,
    },
}

/// A message from the server, a JSON object tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// To a client whose join succeeded: its nickname and everyone online, itself
    /// included.
    Welcome {
        /// The nickname as registered (trimmed).
        nick: String,
        /// Everyone online, sorted.
        users: Vec<String>,
    },
    /// To everyone else: a user joined.
    Joined {
        /// Who joined.
        nick: String,
    },
    /// To everyone still there: a user left.
    Left {
        /// Who left.
        nick: String,
    },
    /// To everyone in the room after a join or a leave: who is online now, sorted.
    Users {
        /// Everyone online.
        users: Vec<String>,
    },
    /// A message to everyone, sent to every user, the sender included.
    Chat {
        /// The sender's nickname.
        from: String,
        /// The text, as sent.
        text: String,
    },
    /// A private message, sent to its recipient and echoed to its sender.
    Private {
        /// The sender's nickname.
        from: String,
        /// The recipient's nickname as registered.
        to: String,
        /// The text, as sent.
        text: String,
    },
    /// To one client only: its last message was refused, and why. Nothing else happened.
    Error {
        /// A sentence for a human.
        message: String,
    },
}

/// One message and the clients it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The recipients, each once.
    pub to: Vec<ClientId>,
    /// The message.
    pub message: ServerMessage,
}

impl Delivery {
    fn one(to: ClientId, message: ServerMessage) -> Self {
        Delivery {
            to: vec![to],
            message,
        }
    }

    /// An error for one client.
    pub fn error(to: ClientId, message: impl Into<String>) -> Vec<Self> {
        vec![Delivery::one(
            to,
            ServerMessage::Error {
                message: message.into(),
            },
        )]
    }
}

/// The users in the room. A connection that has not joined yet is not in it: it receives
/// nothing but the answers to its own messages.
#[derive(Debug, Default)]
pub struct Room {
    /// Nickname by client.
    nicks: HashMap<ClientId, String>,
    /// Client by lowercased nickname: nicknames are unique regardless of case. Sorted, so
    /// user lists come out in a stable order.
    by_key: BTreeMap<String, ClientId>,
}

impl Room {
    /// An empty room.
    pub fn new() -> Self {
        Self::default()
    }

    /// The nickname of `id`, if it has joined.
    pub fn nick(&self, id: ClientId) -> Option<&str> {
        self.nicks.get(&id).map(String::as_str)
    }

    /// Everyone online, sorted by lowercased nickname.
    pub fn users(&self) -> Vec<String> {
        self.by_key
            .values()
            .filter_map(|id| self.nicks.get(id).cloned())
            .collect()
    }

    /// How many users have joined.
    pub fn len(&self) -> usize {
        self.nicks.len()
    }

    /// Whether nobody has joined.
    pub fn is_empty(&self) -> bool {
        self.nicks.is_empty()
    }

    /// Handles a text message from client `from`.
    pub fn on_text(&mut self, from: ClientId, text: &str) -> Vec<Delivery> {
        match serde_json::from_str::<ClientMessage>(text) {
            Ok(ClientMessage::Join { nick }) => self.join(from, &nick),
            Ok(ClientMessage::Chat { text }) => self.chat(from, text),
            Ok(ClientMessage::Private { to, text }) => self.private(from, &to, text),
            Err(e) => {
                let mut detail = e.to_string();
                truncate(&mut detail, MAX_DETAIL_BYTES);
                Delivery::error(
                    from,
                    format!(
                        "malformed message ({detail}); expected JSON such as \
                         {{\"type\":\"chat\",\"text\":\"hello\"}}"
                    ),
                )
            }
        }
    }

    /// Handles a binary message from client `from`: refused, the protocol is JSON text.
    pub fn on_binary(&mut self, from: ClientId) -> Vec<Delivery> {
        Delivery::error(from, "binary messages are not supported; send JSON text")
    }

    /// Client `id` disconnected: if it had joined, everyone left is told.
    pub fn leave(&mut self, id: ClientId) -> Vec<Delivery> {
        let Some(nick) = self.nicks.remove(&id) else {
            return Vec::new();
        };
        self.by_key.remove(&nick.to_lowercase());
        if self.nicks.is_empty() {
            return Vec::new();
        }
        let everyone = self.everyone();
        vec![
            Delivery {
                to: everyone.clone(),
                message: ServerMessage::Left { nick },
            },
            Delivery {
                to: everyone,
                message: ServerMessage::Users {
                    users: self.users(),
                },
            },
        ]
    }

    fn join(&mut self, id: ClientId, nick: &str) -> Vec<Delivery> {
        if let Some(current) = self.nicks.get(&id) {
            return Delivery::error(id, format!("you already joined as \"{current}\""));
        }
        let nick = nick.trim();
        if let Err(why) = check_nick(nick) {
            return Delivery::error(id, why);
        }
        let key = nick.to_lowercase();
        if self.by_key.contains_key(&key) {
            return Delivery::error(
                id,
                format!("the nickname \"{nick}\" is taken; choose another"),
            );
        }
        let others = self.everyone();
        self.nicks.insert(id, nick.to_owned());
        self.by_key.insert(key, id);
        let users = self.users();
        let mut out = vec![Delivery::one(
            id,
            ServerMessage::Welcome {
                nick: nick.to_owned(),
                users: users.clone(),
            },
        )];
        if !others.is_empty() {
            out.push(Delivery {
                to: others.clone(),
                message: ServerMessage::Joined {
                    nick: nick.to_owned(),
                },
            });
            out.push(Delivery {
                to: others,
                message: ServerMessage::Users { users },
            });
        }
        out
    }

    fn chat(&mut self, id: ClientId, text: String) -> Vec<Delivery> {
        let Some(from) = self.nicks.get(&id) else {
            return Delivery::error(id, "join the room before sending messages");
        };
        if let Err(why) = check_text(&text) {
            return Delivery::error(id, why);
        }
        vec![Delivery {
            to: self.everyone(),
            message: ServerMessage::Chat {
                from: from.clone(),
                text,
            },
        }]
    }

    fn private(&mut self, id: ClientId, to: &str, text: String) -> Vec<Delivery> {
        let Some(from) = self.nicks.get(&id) else {
            return Delivery::error(id, "join the room before sending messages");
        };
        if let Err(why) = check_text(&text) {
            return Delivery::error(id, why);
        }
        let Some(&target) = self.by_key.get(&to.trim().to_lowercase()) else {
            let mut to = to.to_owned();
            truncate(&mut to, MAX_NICK_CHARS * 4);
            return Delivery::error(id, format!("nobody called \"{to}\" is online"));
        };
        let recipients = if target == id {
            vec![id]
        } else {
            vec![target, id]
        };
        vec![Delivery {
            to: recipients,
            message: ServerMessage::Private {
                from: from.clone(),
                to: self.nicks[&target].clone(),
                text,
            },
        }]
    }

    /// Every user, in nickname order.
    fn everyone(&self) -> Vec<ClientId> {
        self.by_key.values().copied().collect()
    }
}

fn check_nick(nick: &str) -> Result<(), String> {
    let chars = nick.chars().count();
    if chars == 0 {
        return Err("the nickname is empty".into());
    }
    if chars > MAX_NICK_CHARS {
        return Err(format!(
            "the nickname is {chars} characters long; the limit is {MAX_NICK_CHARS}"
        ));
    }
    if nick.chars().any(char::is_control) {
        return Err("the nickname contains control characters".into());
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), String> {
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

/// Cuts `s` to at most `max` bytes, on a character boundary, marking the cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
}
