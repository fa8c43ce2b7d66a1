//! Where the chat's shared state lives: names, sessions, rooms, presence and history.
//!
//! [`Store::Memory`] keeps it in this process (and, with `--state FILE`, in a file
//! across restarts); [`Store::Redis`] keeps it in Redis, shared by every chat process
//! pointed at the same server (redis.rs). Both give the same answers; the hub (hub.rs)
//! does not know which one it talks to.
//!
//! A user is *online* while a connection holds the session, *away* once it dropped (the
//! name, rooms and messages kept for the resume grace period), and *gone* after that:
//! the sweeper ([`Store::sweep`]) then frees the name and takes them out of their rooms.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::names::Nick;
use crate::protocol::{DEFAULT_ROOM, RoomInfo, UserInfo, now_ms};
use crate::redis::RedisStore;

/// The most rooms that may exist at once.
pub const MAX_ROOMS: usize = 1000;

/// Recent `ref`s remembered per session, so that a retried message is not sent twice.
pub const MAX_REFS: usize = 64;

/// A signed-in user, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token that resumes it.
    pub token: String,
    /// The name as shown.
    pub nick: String,
    /// The name's skeleton (names.rs).
    pub key: String,
    /// The rooms it is in, sorted.
    pub rooms: Vec<String>,
}

/// What [`Store::resume`] found.
#[derive(Debug)]
pub enum Resumed {
    /// The session is back, its name held.
    Ok(Session),
    /// No such session (never was, or gone after the grace period).
    Unknown,
}

/// A user who did not come back in time: their rooms, to tell.
#[derive(Debug, Clone)]
pub struct Gone {
    /// Their name.
    pub nick: String,
    /// The rooms they were in.
    pub rooms: Vec<String>,
}

/// What the sweeper found.
#[derive(Debug, Default)]
pub struct Swept {
    /// Rooms whose lists changed because someone went away (a process died).
    pub away: BTreeSet<String>,
    /// Users whose grace period ended.
    pub gone: Vec<Gone>,
}

/// Timings the stores need.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long an away user's name and session are kept.
    pub grace: Duration,
    /// How long an online mark lasts without a heartbeat (a dead process's users turn
    /// away after this). Redis only.
    pub presence: Duration,
    /// How many messages each room (and each user's private inbox) keeps.
    pub history: usize,
}

/// An error talking to the store (Redis down, say): the client is told to retry.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a posted message goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// Everyone in a room (kept in the room's history).
    Room(String),
    /// Two sessions, sender and recipient (kept in both inboxes).
    Private {
        /// The sender's token.
        from: String,
        /// The recipient's token.
        to: String,
    },
}

/// An event for the connections of every process: a line of text, so that a Redis
/// script can build one.
///
/// `R room\njson` (to a room), `U token\njson` (to a session), `K token uid` (close the
/// session's connections other than `uid`: it resumed elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message to the members of a room.
    Room(String, String),
    /// A message to a session's connection.
    User(String, String),
    /// Close the connections of a session except the one with this uid.
    Kick(String, String),
}

impl Event {
    /// The wire form.
    pub fn encode(&self) -> String {
        match self {
            Event::Room(room, json) => format!("R {room}\n{json}"),
            Event::User(token, json) => format!("U {token}\n{json}"),
            Event::Kick(token, uid) => format!("K {token} {uid}"),
        }
    }

    /// Parses the wire form.
    pub fn decode(text: &str) -> Option<Event> {
        let (kind, rest) = text.split_at_checked(2)?;
        match kind {
            "R " => rest
                .split_once('\n')
                .map(|(r, j)| Event::Room(r.into(), j.into())),
            "U " => rest
                .split_once('\n')
                .map(|(t, j)| Event::User(t.into(), j.into())),
            "K " => rest
                .split_once(' ')
                .map(|(t, u)| Event::Kick(t.into(), u.into())),
            _ => None,
        }
    }
}

/// The store: in this process, or in Redis.
#[allow(
    clippy::large_enum_variant,
    reason = "one store per process, never moved"
)]
pub enum Store {
    /// In memory.
    Memory(MemoryStore),
    /// In Redis.
    Redis(RedisStore),
}

/// The message's JSON with its id filled in: the hub serializes messages with `"id":0`
/// right after the type, and the store puts the real id there.
pub fn with_id(json: &str, id: u64) -> String {
    json.replacen("\"id\":0,", &format!("\"id\":{id},"), 1)
}

/// The `id` of a stored message.
pub fn id_of(json: &str) -> u64 {
    #[derive(Deserialize)]
    struct Id {
        id: u64,
    }
    serde_json::from_str::<Id>(json).map_or(0, |m| m.id)
}

impl Store {
    /// Signs a new session in under `nick`; `None` if the name is taken.
    pub async fn claim(
        &self,
        nick: &Nick,
        token: &str,
        uid: &str,
    ) -> Result<Option<Session>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.claim(nick, token, uid)),
            Store::Redis(r) => r.claim(nick, token, uid).await,
        }
    }

    /// Takes a session back for the connection `uid`.
    pub async fn resume(&self, token: &str, uid: &str) -> Result<Resumed, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.resume(token, uid)),
            Store::Redis(r) => r.resume(token, uid).await,
        }
    }

    /// The connection `uid` of the session ended: the user is away, for the grace
    /// period. Returns the rooms to refresh, if this changed anything.
    pub async fn offline(&self, token: &str, uid: &str) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.offline(token, uid)),
            Store::Redis(r) => r.offline(token, uid).await,
        }
    }

    /// Signs out: the name is free, the rooms left. Returns the session as it was.
    pub async fn release(&self, token: &str) -> Result<Option<Session>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.release(token)),
            Store::Redis(r) => r.release(token).await,
        }
    }

    /// Keeps the sessions of live connections online (Redis: refreshes their expiry).
    pub async fn heartbeat(&self, live: &[(String, String)]) -> Result<(), StoreError> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Redis(r) => r.heartbeat(live).await,
        }
    }

    /// The session holding a name (by skeleton), if any.
    pub async fn lookup(&self, key: &str) -> Result<Option<Session>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.lookup(key)),
            Store::Redis(r) => r.lookup(key).await,
        }
    }

    /// Adds the session to a room. `Ok(None)`: too many rooms; `Ok(Some(false))`: it
    /// was already in.
    pub async fn join(&self, token: &str, room: &str) -> Result<Option<bool>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.join(token, room)),
            Store::Redis(r) => r.join(token, room).await,
        }
    }

    /// Takes the session out of a room; whether it was in.
    pub async fn leave(&self, token: &str, room: &str) -> Result<bool, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.leave(token, room)),
            Store::Redis(r) => r.leave(token, room).await,
        }
    }

    /// Every room with its number of users.
    pub async fn rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.rooms()),
            Store::Redis(r) => r.rooms().await,
        }
    }

    /// A room's users, sorted by name.
    pub async fn users(&self, room: &str) -> Result<Vec<UserInfo>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.users(room)),
            Store::Redis(r) => r.users(room).await,
        }
    }

    /// The messages of a room after `after`, oldest first.
    pub async fn history(&self, room: &str, after: u64) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.history(room, after)),
            Store::Redis(r) => r.history(room, after).await,
        }
    }

    /// The private messages to or from a session after `after`, oldest first.
    pub async fn inbox(&self, token: &str, after: u64) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.inbox(token, after)),
            Store::Redis(r) => r.inbox(token, after).await,
        }
    }

    /// The id already given to this session's message `reference`, if it was sent.
    pub async fn seen(&self, token: &str, reference: &str) -> Result<Option<u64>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.seen(token, reference)),
            Store::Redis(r) => r.seen(token, reference).await,
        }
    }

    /// Users whose grace period ended, and (Redis) users of dead processes.
    pub async fn sweep(&self) -> Result<Swept, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.sweep()),
            Store::Redis(r) => r.sweep().await,
        }
    }
}

// ----- in memory -----

/// One session, in memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MemSession {
    nick: String,
    key: String,
    rooms: BTreeSet<String>,
    /// The connection holding it, while online.
    #[serde(skip)]
    uid: Option<String>,
    /// While away: when the name is freed (ms since the epoch).
    away_until: Option<u64>,
    /// Recent refs and the ids they were given.
    refs: VecDeque<(String, u64)>,
}

/// Everything, in memory; saved to the `--state` file on shutdown.
#[derive(Debug, Default, Serialize, Deserialize)]
struct MemState {
    /// The last message id given.
    seq: u64,
    /// Token by name key.
    names: HashMap<String, String>,
    /// Sessions by token.
    sessions: HashMap<String, MemSession>,
    /// Members (tokens) by room; the default room always exists.
    rooms: BTreeMap<String, BTreeSet<String>>,
    /// Message JSON by room, the last `history`.
    history: HashMap<String, VecDeque<String>>,
    /// Private message JSON by token, the last `history`.
    inbox: HashMap<String, VecDeque<String>>,
}

/// The in-memory store.
pub struct MemoryStore {
    state: Mutex<MemState>,
    timing: Timing,
}

/// A lock on the in-memory state, held while a posted message is also delivered, so
/// that every connection sees messages in id order.
pub struct MemLock<'a>(MutexGuard<'a, MemState>, Timing);

impl MemLock<'_> {
    /// Stores a message (JSON with `"id":0`) and returns it with its id.
    pub fn post(&mut self, target: &Target, json: &str) -> (u64, String) {
        let state = &mut self.0;
        state.seq += 1;
        let id = state.seq;
        let json = with_id(json, id);
        let keep = self.1.history;
        let push = |list: &mut VecDeque<String>| {
            list.push_back(json.clone());
            while list.len() > keep {
                list.pop_front();
            }
        };
        match target {
            Target::Room(room) => push(state.history.entry(room.clone()).or_default()),
            Target::Private { from, to } => {
                push(state.inbox.entry(from.clone()).or_default());
                if from != to {
                    push(state.inbox.entry(to.clone()).or_default());
                }
            }
        }
        (id, json)
    }

    /// Remembers that this session's `reference` became message `id`.
    pub fn remember(&mut self, token: &str, reference: &str, id: u64) {
        if let Some(session) = self.0.sessions.get_mut(token) {
            session.refs.push_back((reference.to_owned(), id));
            while session.refs.len() > MAX_REFS {
                session.refs.pop_front();
            }
        }
    }
}

impl MemoryStore {
    /// An empty store, or the one saved in `saved` (a `--state` file's text): its
    /// sessions all away, for the grace period from now.
    pub fn new(timing: Timing, saved: Option<&str>) -> Result<Self, String> {
        let mut state: MemState = match saved {
            Some(text) => serde_json::from_str(text).map_err(|e| e.to_string())?,
            None => MemState::default(),
        };
        let until = now_ms() + millis(timing.grace);
        for session in state.sessions.values_mut() {
            session.uid = None;
            session.away_until = Some(until);
        }
        state.rooms.entry(DEFAULT_ROOM.into()).or_default();
        Ok(MemoryStore {
            state: Mutex::new(state),
            timing,
        })
    }

    /// The state as JSON, for the `--state` file.
    pub fn save(&self) -> String {
        serde_json::to_string(&*self.lock().0).unwrap_or_default()
    }

    /// Locks the state (see [`MemLock`]).
    pub fn lock(&self) -> MemLock<'_> {
        MemLock(
            self.state.lock().unwrap_or_else(PoisonError::into_inner),
            self.timing,
        )
    }

    fn session(state: &MemState, token: &str) -> Option<Session> {
        state.sessions.get(token).map(|s| Session {
            token: token.to_owned(),
            nick: s.nick.clone(),
            key: s.key.clone(),
            rooms: s.rooms.iter().cloned().collect(),
        })
    }

    fn claim(&self, nick: &Nick, token: &str, uid: &str) -> Option<Session> {
        let mut lock = self.lock();
        let state = &mut lock.0;
        if state.names.contains_key(&nick.key) {
            return None;
        }
        state.names.insert(nick.key.clone(), token.to_owned());
        state.sessions.insert(
            token.to_owned(),
            MemSession {
                nick: nick.display.clone(),
                key: nick.key.clone(),
                rooms: BTreeSet::from([DEFAULT_ROOM.to_owned()]),
                uid: Some(uid.to_owned()),
                away_until: None,
                refs: VecDeque::new(),
            },
        );
        state
            .rooms
            .entry(DEFAULT_ROOM.into())
            .or_default()
            .insert(token.to_owned());
        Self::session(state, token)
    }

    fn resume(&self, token: &str, uid: &str) -> Resumed {
        let mut lock = self.lock();
        let state = &mut lock.0;
        let Some(session) = state.sessions.get_mut(token) else {
            return Resumed::Unknown;
        };
        session.uid = Some(uid.to_owned());
        session.away_until = None;
        Self::session(state, token).map_or(Resumed::Unknown, Resumed::Ok)
    }

    fn offline(&self, token: &str, uid: &str) -> Vec<String> {
        let mut lock = self.lock();
        let grace = millis(lock.1.grace);
        let Some(session) = lock.0.sessions.get_mut(token) else {
            return Vec::new();
        };
        if session.uid.as_deref() != Some(uid) {
            return Vec::new();
        }
        session.uid = None;
        session.away_until = Some(now_ms() + grace);
        session.rooms.iter().cloned().collect()
    }

    fn release(&self, token: &str) -> Option<Session> {
        let mut lock = self.lock();
        let state = &mut lock.0;
        let session = Self::session(state, token)?;
        Self::remove(state, token);
        Some(session)
    }

    fn remove(state: &mut MemState, token: &str) {
        let Some(session) = state.sessions.remove(token) else {
            return;
        };
        if state.names.get(&session.key).is_some_and(|t| t == token) {
            state.names.remove(&session.key);
        }
        for room in &session.rooms {
            Self::leave_room(state, token, room);
        }
        state.inbox.remove(token);
    }

    fn leave_room(state: &mut MemState, token: &str, room: &str) -> bool {
        let Some(members) = state.rooms.get_mut(room) else {
            return false;
        };
        let was = members.remove(token);
        if members.is_empty() && room != DEFAULT_ROOM {
            state.rooms.remove(room);
            state.history.remove(room);
        }
        was
    }

    fn lookup(&self, key: &str) -> Option<Session> {
        let lock = self.lock();
        let token = lock.0.names.get(key)?;
        Self::session(&lock.0, token)
    }

    fn join(&self, token: &str, room: &str) -> Option<bool> {
        let mut lock = self.lock();
        let state = &mut lock.0;
        if !state.rooms.contains_key(room) && state.rooms.len() >= MAX_ROOMS {
            return None;
        }
        let session = state.sessions.get_mut(token)?;
        let new = session.rooms.insert(room.to_owned());
        state
            .rooms
            .entry(room.to_owned())
            .or_default()
            .insert(token.to_owned());
        Some(new)
    }

    fn leave(&self, token: &str, room: &str) -> bool {
        let mut lock = self.lock();
        let state = &mut lock.0;
        if let Some(session) = state.sessions.get_mut(token) {
            session.rooms.remove(room);
        }
        Self::leave_room(state, token, room)
    }

    fn rooms(&self) -> Vec<RoomInfo> {
        let lock = self.lock();
        lock.0
            .rooms
            .iter()
            .map(|(name, members)| RoomInfo {
                name: name.clone(),
                users: members.len(),
            })
            .collect()
    }

    fn users(&self, room: &str) -> Vec<UserInfo> {
        let lock = self.lock();
        let state = &lock.0;
        let mut users: Vec<UserInfo> = state
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(|token| state.sessions.get(token))
            .map(|s| UserInfo {
                nick: s.nick.clone(),
                away: s.uid.is_none(),
            })
            .collect();
        sort_users(&mut users);
        users
    }

    fn history(&self, room: &str, after: u64) -> Vec<String> {
        let lock = self.lock();
        after_id(lock.0.history.get(room), after)
    }

    fn inbox(&self, token: &str, after: u64) -> Vec<String> {
        let lock = self.lock();
        after_id(lock.0.inbox.get(token), after)
    }

    fn seen(&self, token: &str, reference: &str) -> Option<u64> {
        let lock = self.lock();
        let session = lock.0.sessions.get(token)?;
        session
            .refs
            .iter()
            .find(|(r, _)| r == reference)
            .map(|&(_, id)| id)
    }

    fn sweep(&self) -> Swept {
        let mut lock = self.lock();
        let state = &mut lock.0;
        let now = now_ms();
        let expired: Vec<String> = state
            .sessions
            .iter()
            .filter(|(_, s)| s.away_until.is_some_and(|t| t <= now))
            .map(|(token, _)| token.clone())
            .collect();
        let mut swept = Swept::default();
        for token in expired {
            if let Some(session) = Self::session(state, &token) {
                Self::remove(state, &token);
                swept.gone.push(Gone {
                    nick: session.nick,
                    rooms: session.rooms,
                });
            }
        }
        swept
    }
}

/// Users sorted by name, case-insensitively.
pub fn sort_users(users: &mut [UserInfo]) {
    users.sort_by(|a, b| {
        a.nick
            .to_lowercase()
            .cmp(&b.nick.to_lowercase())
            .then_with(|| a.nick.cmp(&b.nick))
    });
}

fn after_id(list: Option<&VecDeque<String>>, after: u64) -> Vec<String> {
    list.into_iter()
        .flatten()
        .filter(|json| id_of(json) > after)
        .cloned()
        .collect()
}

/// A duration in whole milliseconds.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
