//! The chat's logic: what each client message does, in whichever store (store.rs), and
//! the delivery of messages to this process's connections.
//!
//! Each connection registers an outgoing queue of bounded length. Everything for it —
//! answers, room messages, private messages — goes through [`Hub::dispatch`] into that
//! queue; a connection whose queue is full is *kicked* as too slow (main.rs then drops
//! what it had queued and closes it with 1008), so one slow reader never holds up the
//! others or grows memory.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rfc6455::PreparedMessage;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::names;
use crate::protocol::{
    ClientMessage, DEFAULT_ROOM, MAX_ROOMS_PER_USER, ServerMessage, check_ref, check_room,
    check_text, now_ms, truncate,
};
use crate::store::{Event, Resumed, Store, StoreError, Target};

/// Identifies a connection in this process.
pub type ConnId = u64;

/// The most bytes of a parser's error quoted back to the client.
const MAX_DETAIL_BYTES: usize = 200;

/// How often a connection's typing notices are forwarded, at most, per room.
pub const TYPING_EVERY: Duration = Duration::from_secs(2);

/// Why a connection is being closed by the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// Its outgoing queue filled: close 1008.
    Slow,
    /// The session was resumed by another connection: close 4001.
    Replaced,
}

/// A connection of this process, as the hub routes to it.
struct Conn {
    /// A unique id across processes (`process-conn`), to tell connections apart.
    uid: String,
    /// The session it holds, once signed in.
    token: Option<String>,
    /// The rooms of that session.
    rooms: BTreeSet<String>,
    queue: Option<mpsc::Sender<PreparedMessage>>,
    kick: Option<oneshot::Sender<Kick>>,
}

impl Conn {
    fn push(&mut self, message: &PreparedMessage) {
        let Some(queue) = &self.queue else { return };
        if queue.try_send(message.clone()).is_err() {
            // Full (too slow) or closed (ending anyway): nothing more goes to it. It keeps
            // its token, so that its end marks the user away (store.offline checks that
            // the session is still this connection's).
            self.queue = None;
            self.rooms.clear();
            if let Some(kick) = self.kick.take() {
                let _ = kick.send(Kick::Slow);
            }
        }
    }
}

/// Per-connection state that only its own task touches.
#[derive(Debug, Default)]
pub struct Session {
    /// The session's token, once signed in.
    pub token: Option<String>,
    /// The name, once signed in.
    pub nick: String,
    /// The rooms, once signed in (a copy of the hub's).
    pub rooms: BTreeSet<String>,
    /// When a typing notice was last forwarded, per room.
    typing: HashMap<String, Instant>,
}

/// The hub: the store, and this process's connections.
pub struct Hub {
    /// Where the state lives.
    pub store: Store,
    conns: Mutex<HashMap<ConnId, Conn>>,
    /// Distinguishes this process's connection uids from other processes'.
    process: String,
}

impl Hub {
    /// A hub over `store`.
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Hub {
            store,
            conns: Mutex::new(HashMap::new()),
            // Only tells connections apart: the process id will do if there is no
            // randomness (hello then refuses to sign anyone in).
            process: random_token(6).unwrap_or_else(|| std::process::id().to_string()),
        })
    }

    fn conns(&self) -> MutexGuard<'_, HashMap<ConnId, Conn>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection: its outgoing queue, and how to kick it.
    pub fn register(
        &self,
        id: ConnId,
        queue: mpsc::Sender<PreparedMessage>,
        kick: oneshot::Sender<Kick>,
    ) {
        let uid = format!("{}-{id}", self.process);
        self.conns().insert(
            id,
            Conn {
                uid,
                token: None,
                rooms: BTreeSet::new(),
                queue: Some(queue),
                kick: Some(kick),
            },
        );
    }

    fn uid(&self, id: ConnId) -> String {
        format!("{}-{id}", self.process)
    }

    /// The connection ended: if it still held its session, the user is away (for the
    /// grace period), and their rooms are told.
    pub async fn unregister(&self, id: ConnId) {
        let conn = self.conns().remove(&id);
        let Some(Conn {
            token: Some(token),
            uid,
            ..
        }) = conn
        else {
            return;
        };
        match self.store.offline(&token, &uid).await {
            Ok(rooms) => {
                for room in rooms {
                    self.refresh_users(&room).await;
                }
            }
            Err(e) => eprintln!("chat: marking a user away: {e}"),
        }
    }

    /// Delivers an event to this process's connections.
    pub fn dispatch(&self, event: &Event) {
        let mut conns = self.conns();
        match event {
            Event::Room(room, json) => {
                let message = PreparedMessage::text(json.clone());
                for conn in conns.values_mut().filter(|c| c.rooms.contains(room)) {
                    conn.push(&message);
                }
            }
            Event::User(token, json) => {
                let message = PreparedMessage::text(json.clone());
                for conn in conns
                    .values_mut()
                    .filter(|c| c.token.as_ref() == Some(token))
                {
                    conn.push(&message);
                }
            }
            Event::Kick(token, except) => {
                for conn in conns
                    .values_mut()
                    .filter(|c| c.token.as_ref() == Some(token) && &c.uid != except)
                {
                    // Its end will not mark the user away: the session is another
                    // connection's now (store.offline checks).
                    conn.rooms.clear();
                    conn.queue = None;
                    if let Some(kick) = conn.kick.take() {
                        let _ = kick.send(Kick::Replaced);
                    }
                }
            }
        }
    }

    /// Sends an event to every process (in memory: this one).
    pub async fn publish(&self, event: Event) {
        match &self.store {
            Store::Memory(_) => self.dispatch(&event),
            Store::Redis(redis) => {
                if let Err(e) = redis.publish(&event.encode()).await {
                    eprintln!("chat: publishing: {e}");
                }
            }
        }
    }

    /// Sends a message to one local connection.
    pub fn reply(&self, id: ConnId, message: &ServerMessage) {
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.push(&PreparedMessage::text(message.to_json()));
        }
    }

    fn reply_json(&self, id: ConnId, json: String) {
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.push(&PreparedMessage::text(json));
        }
    }

    /// Tells a room who is in it now.
    pub async fn refresh_users(&self, room: &str) {
        match self.store.users(room).await {
            Ok(users) => {
                let message = ServerMessage::Users {
                    room: room.to_owned(),
                    users,
                };
                self.publish(Event::Room(room.to_owned(), message.to_json()))
                    .await;
            }
            Err(e) => eprintln!("chat: listing users: {e}"),
        }
    }

    /// The sessions of live connections, for the heartbeat.
    pub fn live(&self) -> Vec<(String, String)> {
        self.conns()
            .values()
            .filter(|c| c.queue.is_some())
            .filter_map(|c| c.token.clone().map(|t| (t, c.uid.clone())))
            .collect()
    }

    /// One round of the sweeper: tells rooms about users who went away (their process
    /// died) or are gone (their grace period ended).
    pub async fn sweep(&self) -> Result<(), StoreError> {
        let swept = self.store.sweep().await?;
        for room in &swept.away {
            self.refresh_users(room).await;
        }
        let changed = !swept.gone.is_empty();
        for gone in swept.gone {
            for room in &gone.rooms {
                let left = ServerMessage::Left {
                    room: room.clone(),
                    nick: gone.nick.clone(),
                };
                self.publish(Event::Room(room.clone(), left.to_json()))
                    .await;
                self.refresh_users(room).await;
            }
        }
        if changed {
            self.publish_rooms().await;
        }
        Ok(())
    }

    /// Handles a text message from connection `id`.
    pub async fn on_text(&self, id: ConnId, session: &mut Session, text: &str) {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(e) => {
                let mut detail = e.to_string();
                truncate(&mut detail, MAX_DETAIL_BYTES);
                let error = format!(
                    "malformed message ({detail}); expected JSON such as \
                     {{\"type\":\"chat\",\"room\":\"lobby\",\"text\":\"hello\"}}"
                );
                self.reply(id, &ServerMessage::error("invalid", error, None));
                return;
            }
        };
        if let Err(e) = self.handle(id, session, message).await {
            eprintln!("chat: {e}");
            self.reply(
                id,
                &ServerMessage::error(
                    "unavailable",
                    "the server cannot reach its store right now; try again",
                    None,
                ),
            );
        }
    }

    async fn handle(
        &self,
        id: ConnId,
        session: &mut Session,
        message: ClientMessage,
    ) -> Result<(), StoreError> {
        let signed_in = session.token.is_some();
        match message {
            ClientMessage::Hello { .. } | ClientMessage::Resume { .. } if signed_in => {
                let error = format!("you are already signed in as \"{}\"", session.nick);
                self.reply(id, &ServerMessage::error("invalid", error, None));
            }
            ClientMessage::Hello { nick } => self.hello(id, session, &nick).await?,
            ClientMessage::Resume { token, last } => {
                self.resume(id, session, &token, last).await?;
            }
            _ if !signed_in => {
                let reference = match &message {
                    ClientMessage::Chat { reference, .. }
                    | ClientMessage::Private { reference, .. } => reference.clone(),
                    _ => None,
                };
                let error = "sign in (hello) before anything else";
                self.reply(id, &ServerMessage::error("invalid", error, reference));
            }
            ClientMessage::Join { room } => self.join(id, session, &room).await?,
            ClientMessage::Leave { room } => self.leave(id, session, &room).await?,
            ClientMessage::Rooms {} => self.send_rooms(id).await?,
            ClientMessage::Chat {
                room,
                text,
                reference,
            } => {
                let room = room.unwrap_or_else(|| DEFAULT_ROOM.to_owned());
                self.chat(id, session, room, text, reference).await?;
            }
            ClientMessage::Private {
                to,
                text,
                reference,
            } => self.private(id, session, &to, text, reference).await?,
            ClientMessage::Typing { room } => self.typing(session, room).await,
            ClientMessage::Quit {} => self.quit(id, session).await?,
        }
        Ok(())
    }

    fn attach(&self, id: ConnId, session: &mut Session, token: &str, nick: &str, rooms: &[String]) {
        session.token = Some(token.to_owned());
        session.nick = nick.to_owned();
        session.rooms = rooms.iter().cloned().collect();
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.token = Some(token.to_owned());
            conn.rooms.clone_from(&session.rooms);
        }
    }

    async fn hello(&self, id: ConnId, session: &mut Session, raw: &str) -> Result<(), StoreError> {
        let nick = match names::check(raw) {
            Ok(nick) => nick,
            Err(why) => {
                self.reply(id, &ServerMessage::error("name-invalid", why, None));
                return Ok(());
            }
        };
        let Some(token) = random_token(16) else {
            return Err(StoreError("no random source for the session token".into()));
        };
        let Some(new) = self.store.claim(&nick, &token, &self.uid(id)).await? else {
            let why = format!(
                "the nickname \"{}\" is taken (or looks like one that is); choose another",
                nick.display
            );
            self.reply(id, &ServerMessage::error("name-taken", why, None));
            return Ok(());
        };
        self.attach(id, session, &new.token, &new.nick, &new.rooms);
        self.reply(
            id,
            &ServerMessage::Welcome {
                nick: new.nick.clone(),
                token: new.token.clone(),
                rooms: new.rooms.clone(),
                resumed: false,
            },
        );
        for room in &new.rooms {
            self.send_history(id, room, 0).await?;
            let joined = ServerMessage::Joined {
                room: room.clone(),
                nick: new.nick.clone(),
            };
            self.publish(Event::Room(room.clone(), joined.to_json()))
                .await;
            self.refresh_users(room).await;
        }
        self.publish_rooms().await;
        Ok(())
    }

    async fn resume(
        &self,
        id: ConnId,
        session: &mut Session,
        token: &str,
        last: u64,
    ) -> Result<(), StoreError> {
        let uid = self.uid(id);
        let Resumed::Ok(resumed) = self.store.resume(token, &uid).await? else {
            let why = "that session ended (or the name was taken meanwhile); sign in again";
            self.reply(id, &ServerMessage::error("resume-failed", why, None));
            return Ok(());
        };
        // Any other connection holding this session (the dead one, still waiting for
        // its ping to time out) is closed, here or in another process.
        self.publish(Event::Kick(resumed.token.clone(), uid)).await;
        self.attach(id, session, &resumed.token, &resumed.nick, &resumed.rooms);
        self.reply(
            id,
            &ServerMessage::Welcome {
                nick: resumed.nick.clone(),
                token: resumed.token.clone(),
                rooms: resumed.rooms.clone(),
                resumed: true,
            },
        );
        self.send_rooms(id).await?;
        // What was missed, in every room and in private, in id order.
        let mut missed = self.store.inbox(&resumed.token, last).await?;
        for room in &resumed.rooms {
            missed.extend(self.store.history(room, last).await?);
        }
        missed.sort_by_key(|json| crate::store::id_of(json));
        for json in missed {
            self.reply_json(id, json);
        }
        for room in &resumed.rooms {
            self.refresh_users(room).await;
        }
        Ok(())
    }

    async fn send_history(&self, id: ConnId, room: &str, after: u64) -> Result<(), StoreError> {
        for json in self.store.history(room, after).await? {
            self.reply_json(id, json);
        }
        Ok(())
    }

    /// Tells everyone (all are in the lobby) the rooms and their counts, after a change.
    async fn publish_rooms(&self) {
        match self.store.rooms().await {
            Ok(rooms) => {
                let json = ServerMessage::Rooms { rooms }.to_json();
                self.publish(Event::Room(DEFAULT_ROOM.to_owned(), json))
                    .await;
            }
            Err(e) => eprintln!("chat: listing rooms: {e}"),
        }
    }

    async fn send_rooms(&self, id: ConnId) -> Result<(), StoreError> {
        let rooms = self.store.rooms().await?;
        self.reply(id, &ServerMessage::Rooms { rooms });
        Ok(())
    }

    async fn join(&self, id: ConnId, session: &mut Session, room: &str) -> Result<(), StoreError> {
        let room = match check_room(room) {
            Ok(room) => room,
            Err(why) => {
                self.reply(id, &ServerMessage::error("invalid", why, None));
                return Ok(());
            }
        };
        if !session.rooms.contains(&room) && session.rooms.len() >= MAX_ROOMS_PER_USER {
            let why = format!("you are in {MAX_ROOMS_PER_USER} rooms already; leave one first");
            self.reply(id, &ServerMessage::error("invalid", why, None));
            return Ok(());
        }
        let token = session.token.clone().unwrap_or_default();
        let Some(new) = self.store.join(&token, &room).await? else {
            let why = "there are too many rooms; join an existing one";
            self.reply(id, &ServerMessage::error("invalid", why, None));
            return Ok(());
        };
        session.rooms.insert(room.clone());
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.rooms.insert(room.clone());
        }
        self.send_history(id, &room, 0).await?;
        if new {
            let joined = ServerMessage::Joined {
                room: room.clone(),
                nick: session.nick.clone(),
            };
            self.publish(Event::Room(room.clone(), joined.to_json()))
                .await;
        }
        self.refresh_users(&room).await;
        if new {
            self.publish_rooms().await;
        }
        Ok(())
    }

    async fn leave(&self, id: ConnId, session: &mut Session, room: &str) -> Result<(), StoreError> {
        let room = room.trim().to_ascii_lowercase();
        if room == DEFAULT_ROOM {
            let why = format!("everyone stays in #{DEFAULT_ROOM}");
            self.reply(id, &ServerMessage::error("invalid", why, None));
            return Ok(());
        }
        if !session.rooms.remove(&room) {
            let why = format!("you are not in #{room}");
            self.reply(id, &ServerMessage::error("not-in-room", why, None));
            return Ok(());
        }
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.rooms.remove(&room);
        }
        let token = session.token.clone().unwrap_or_default();
        if self.store.leave(&token, &room).await? {
            let left = ServerMessage::Left {
                room: room.clone(),
                nick: session.nick.clone(),
            };
            // To the leaver too (it is no longer routed there: send it directly).
            self.reply(id, &left);
            self.publish(Event::Room(room.clone(), left.to_json()))
                .await;
            self.refresh_users(&room).await;
        }
        self.send_rooms(id).await?;
        self.publish_rooms().await;
        Ok(())
    }

    async fn chat(
        &self,
        id: ConnId,
        session: &Session,
        room: String,
        text: String,
        reference: Option<String>,
    ) -> Result<(), StoreError> {
        let reference = match check_ref(reference) {
            Ok(r) => r,
            Err(why) => {
                self.reply(id, &ServerMessage::error("invalid", why, None));
                return Ok(());
            }
        };
        if let Err(why) = check_text(&text) {
            self.reply(id, &ServerMessage::error("invalid", why, reference));
            return Ok(());
        }
        if !session.rooms.contains(&room) {
            let why = format!("you are not in #{room}; join it first");
            self.reply(id, &ServerMessage::error("not-in-room", why, reference));
            return Ok(());
        }
        let token = session.token.clone().unwrap_or_default();
        if self.acked_before(id, &token, reference.as_deref()).await? {
            return Ok(());
        }
        let message = ServerMessage::Chat {
            id: 0,
            room: room.clone(),
            from: session.nick.clone(),
            text,
            reference: reference.clone(),
            ts: now_ms(),
        };
        let id_given = self
            .post(
                Target::Room(room),
                &message.to_json(),
                &token,
                reference.as_deref(),
            )
            .await?;
        self.ack(id, reference, id_given);
        Ok(())
    }

    async fn private(
        &self,
        id: ConnId,
        session: &Session,
        to: &str,
        text: String,
        reference: Option<String>,
    ) -> Result<(), StoreError> {
        let reference = match check_ref(reference) {
            Ok(r) => r,
            Err(why) => {
                self.reply(id, &ServerMessage::error("invalid", why, None));
                return Ok(());
            }
        };
        if let Err(why) = check_text(&text) {
            self.reply(id, &ServerMessage::error("invalid", why, reference));
            return Ok(());
        }
        let token = session.token.clone().unwrap_or_default();
        let Some(target) = self.store.lookup(&names::skeleton(to)).await? else {
            let mut to = to.to_owned();
            truncate(&mut to, names::MAX_NICK_CHARS * 4);
            let why = format!("nobody called \"{to}\" is signed in; the message was not sent");
            self.reply(id, &ServerMessage::error("no-recipient", why, reference));
            return Ok(());
        };
        if self.acked_before(id, &token, reference.as_deref()).await? {
            return Ok(());
        }
        let message = ServerMessage::Private {
            id: 0,
            from: session.nick.clone(),
            to: target.nick.clone(),
            text,
            reference: reference.clone(),
            ts: now_ms(),
        };
        let target = Target::Private {
            from: token.clone(),
            to: target.token,
        };
        let id_given = self
            .post(target, &message.to_json(), &token, reference.as_deref())
            .await?;
        self.ack(id, reference, id_given);
        Ok(())
    }

    /// A retried message that already went out is acknowledged again, not re-sent.
    async fn acked_before(
        &self,
        id: ConnId,
        token: &str,
        reference: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some(reference) = reference else {
            return Ok(false);
        };
        let Some(given) = self.store.seen(token, reference).await? else {
            return Ok(false);
        };
        self.ack(id, Some(reference.to_owned()), given);
        Ok(true)
    }

    fn ack(&self, id: ConnId, reference: Option<String>, given: u64) {
        if let Some(reference) = reference {
            self.reply(
                id,
                &ServerMessage::Ack {
                    reference,
                    id: given,
                },
            );
        }
    }

    /// Stores a message and delivers it (in memory, under the store's lock, so that
    /// every connection sees messages in id order).
    async fn post(
        &self,
        target: Target,
        json: &str,
        token: &str,
        reference: Option<&str>,
    ) -> Result<u64, StoreError> {
        match &self.store {
            Store::Memory(memory) => {
                let mut lock = memory.lock();
                let (id, json) = lock.post(&target, json);
                if let Some(reference) = reference {
                    lock.remember(token, reference, id);
                }
                match target {
                    Target::Room(room) => self.dispatch(&Event::Room(room, json)),
                    Target::Private { from, to } => {
                        self.dispatch(&Event::User(to.clone(), json.clone()));
                        if from != to {
                            self.dispatch(&Event::User(from, json));
                        }
                    }
                }
                Ok(id)
            }
            Store::Redis(redis) => redis.post(&target, json, token, reference).await,
        }
    }

    async fn typing(&self, session: &mut Session, room: String) {
        if !session.rooms.contains(&room) {
            return;
        }
        let now = Instant::now();
        if session
            .typing
            .get(&room)
            .is_some_and(|last| now.duration_since(*last) < TYPING_EVERY)
        {
            return;
        }
        session.typing.insert(room.clone(), now);
        let message = ServerMessage::Typing {
            room: room.clone(),
            nick: session.nick.clone(),
        };
        self.publish(Event::Room(room, message.to_json())).await;
    }

    async fn quit(&self, id: ConnId, session: &mut Session) -> Result<(), StoreError> {
        let Some(token) = session.token.take() else {
            return Ok(());
        };
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.token = None;
            conn.rooms.clear();
        }
        session.rooms.clear();
        if let Some(gone) = self.store.release(&token).await? {
            for room in &gone.rooms {
                let left = ServerMessage::Left {
                    room: room.clone(),
                    nick: gone.nick.clone(),
                };
                self.publish(Event::Room(room.clone(), left.to_json()))
                    .await;
                self.refresh_users(room).await;
            }
            self.publish_rooms().await;
        }
        Ok(())
    }
}

/// `bytes` random bytes from the operating system, in hex; `None` if it has none (then
/// no guessable token is made instead).
pub fn random_token(bytes: usize) -> Option<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).ok()?;
    Some(buf.iter().map(|b| format!("{b:02x}")).collect())
}
