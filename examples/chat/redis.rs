//! The chat's state in Redis (`--redis redis://HOST:PORT`), shared by every chat process
//! pointed at the same server, as Socket.IO's Redis adapter shares its rooms.
//!
//! Keys, all under `chat:`:
//!
//! | key | type | what |
//! |---|---|---|
//! | `name:{skeleton}` | string, expires | the token holding a name; `SET NX` claims it |
//! | `online:{token}` | string, expires | the connection (uid) holding a session, refreshed by its process's heartbeat |
//! | `session:{token}` | hash | `nick`, `key` |
//! | `urooms:{token}` / `members:{room}` | sets | a session's rooms / a room's sessions |
//! | `rooms` | set | every room |
//! | `history:{room}` / `inbox:{token}` | lists | the last N messages (JSON) |
//! | `ref:{token}:{ref}` | string, expires | the id a client's message got, for retries |
//! | `seq` | counter | message ids |
//! | `names` / `presence` | sorted sets | token by expiry time, for the sweeper |
//!
//! Every change is one Lua script, so it is atomic however many processes run; posting
//! a message takes its id, appends it to the history and publishes it in one step, so
//! every process delivers messages in id order. Messages, kicks and list updates go out
//! on the channel `chat:events` (one line each; store.rs, [`Event`](crate::store::Event)),
//! to which every process subscribes.
//!
//! A process that dies stops its heartbeat: its users' `online:` keys expire within the
//! presence time (they show as away), their names within the grace period after that.
//! In between they reconnect to any other process and resume.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{Client, Script};

use crate::names::Nick;
use crate::protocol::{DEFAULT_ROOM, RoomInfo, UserInfo};
use crate::store::{
    Gone, MAX_ROOMS, Resumed, Session, StoreError, Swept, Target, Timing, millis, sort_users,
};

/// The channel every process subscribes to.
pub const CHANNEL: &str = "chat:events";

/// The first lines of every script: the key prefix, the time, and the removal of a
/// session (signed out or gone).
const PRELUDE: &str = r"
local P = 'chat:'
local LOBBY = 'lobby'
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function leave_room(token, room)
  local was = redis.call('SREM', P .. 'members:' .. room, token)
  if room ~= LOBBY and redis.call('SCARD', P .. 'members:' .. room) == 0 then
    redis.call('DEL', P .. 'members:' .. room, P .. 'history:' .. room)
    redis.call('SREM', P .. 'rooms', room)
  end
  return was
end
-- Removes a session; returns {nick, room...} or nil.
local function remove(token)
  local s = redis.call('HMGET', P .. 'session:' .. token, 'nick', 'key')
  redis.call('ZREM', P .. 'names', token)
  redis.call('ZREM', P .. 'presence', token)
  if not s[1] then return nil end
  if redis.call('GET', P .. 'name:' .. s[2]) == token then
    redis.call('DEL', P .. 'name:' .. s[2])
  end
  local rooms = redis.call('SMEMBERS', P .. 'urooms:' .. token)
  for _, room in ipairs(rooms) do leave_room(token, room) end
  redis.call('DEL', P .. 'session:' .. token, P .. 'urooms:' .. token,
    P .. 'online:' .. token, P .. 'inbox:' .. token)
  local out = {s[1]}
  for _, room in ipairs(rooms) do out[#out + 1] = room end
  return out
end
-- Marks a session online for a connection, its name held for the grace period after
-- the presence time.
local function hold(token, key, uid, grace, presence)
  local t = now()
  redis.call('SET', P .. 'online:' .. token, uid, 'PX', presence)
  redis.call('SET', P .. 'name:' .. key, token, 'PX', grace + presence)
  redis.call('ZADD', P .. 'presence', t + presence, token)
  redis.call('ZADD', P .. 'names', t + grace + presence, token)
end
";

/// ARGV: key, nick, token, uid, grace, presence. Returns 1, or 0 if the name is taken.
const CLAIM: &str = r"
local key, nick, token, uid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local grace, presence = tonumber(ARGV[5]), tonumber(ARGV[6])
if not redis.call('SET', P .. 'name:' .. key, token, 'NX', 'PX', grace + presence) then
  return 0
end
redis.call('HSET', P .. 'session:' .. token, 'nick', nick, 'key', key)
redis.call('SADD', P .. 'urooms:' .. token, LOBBY)
redis.call('SADD', P .. 'members:' .. LOBBY, token)
redis.call('SADD', P .. 'rooms', LOBBY)
hold(token, key, uid, grace, presence)
return 1
";

/// ARGV: token, uid, grace, presence. Returns {nick, key, room...}, or {} if unknown.
const RESUME: &str = r"
local token, uid = ARGV[1], ARGV[2]
local grace, presence = tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', P .. 'session:' .. token, 'nick', 'key')
if not s[1] then return {} end
local holder = redis.call('GET', P .. 'name:' .. s[2])
if holder and holder ~= token then
  remove(token)
  return {}
end
hold(token, s[2], uid, grace, presence)
local out = {s[1], s[2]}
for _, room in ipairs(redis.call('SMEMBERS', P .. 'urooms:' .. token)) do out[#out + 1] = room end
return out
";

/// ARGV: token, uid, grace. Returns the session's rooms if it was online on `uid`.
const OFFLINE: &str = r"
local token, uid, grace = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('GET', P .. 'online:' .. token) ~= uid then return {} end
redis.call('DEL', P .. 'online:' .. token)
redis.call('ZREM', P .. 'presence', token)
local key = redis.call('HGET', P .. 'session:' .. token, 'key')
if not key then return {} end
if redis.call('GET', P .. 'name:' .. key) == token then
  redis.call('PEXPIRE', P .. 'name:' .. key, grace)
end
redis.call('ZADD', P .. 'names', now() + grace, token)
return redis.call('SMEMBERS', P .. 'urooms:' .. token)
";

/// ARGV: token. Returns {nick, room...} or {}.
const RELEASE: &str = r"
return remove(ARGV[1]) or {}
";

/// ARGV: grace, presence, then token, uid pairs.
const HEARTBEAT: &str = r"
local grace, presence = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local token, uid = ARGV[i], ARGV[i + 1]
  local holder = redis.call('GET', P .. 'online:' .. token)
  local key = redis.call('HGET', P .. 'session:' .. token, 'key')
  if key and (not holder or holder == uid) then
    local name = redis.call('GET', P .. 'name:' .. key)
    if not name or name == token then hold(token, key, uid, grace, presence) end
  end
end
return 1
";

/// ARGV: key. Returns {token, nick, key, room...} or {}.
const LOOKUP: &str = r"
local token = redis.call('GET', P .. 'name:' .. ARGV[1])
if not token then return {} end
local s = redis.call('HMGET', P .. 'session:' .. token, 'nick', 'key')
if not s[1] then return {} end
local out = {token, s[1], s[2]}
for _, room in ipairs(redis.call('SMEMBERS', P .. 'urooms:' .. token)) do out[#out + 1] = room end
return out
";

/// ARGV: token, room, max rooms. Returns 1 joined, 0 already in, -1 no session, -2 too
/// many rooms.
const JOIN: &str = r"
local token, room, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', P .. 'session:' .. token) == 0 then return -1 end
if redis.call('SISMEMBER', P .. 'urooms:' .. token, room) == 1 then return 0 end
if redis.call('SISMEMBER', P .. 'rooms', room) == 0 and redis.call('SCARD', P .. 'rooms') >= max then
  return -2
end
redis.call('SADD', P .. 'urooms:' .. token, room)
redis.call('SADD', P .. 'members:' .. room, token)
redis.call('SADD', P .. 'rooms', room)
return 1
";

/// ARGV: token, room. Returns 1 if it was in.
const LEAVE: &str = r"
redis.call('SREM', P .. 'urooms:' .. ARGV[1], ARGV[2])
return leave_room(ARGV[1], ARGV[2])
";

/// Returns {room, count, room, count...}.
const ROOMS: &str = r"
redis.call('SADD', P .. 'rooms', LOBBY)
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', P .. 'rooms')) do
  out[#out + 1] = room
  out[#out + 1] = redis.call('SCARD', P .. 'members:' .. room)
end
return out
";

/// ARGV: room. Returns {nick, online (1/0), ...}.
const USERS: &str = r"
local out = {}
for _, token in ipairs(redis.call('SMEMBERS', P .. 'members:' .. ARGV[1])) do
  local nick = redis.call('HGET', P .. 'session:' .. token, 'nick')
  if nick then
    out[#out + 1] = nick
    out[#out + 1] = redis.call('EXISTS', P .. 'online:' .. token)
  end
end
return out
";

/// ARGV: kind (R or P), json with "id":0, room or from, to, sender token, ref, history
/// length. Returns the id.
const POST: &str = r#"
local kind, json, a, b, token, ref, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local id = redis.call('INCR', P .. 'seq')
json = string.gsub(json, '"id":0,', '"id":' .. id .. ',', 1)
local function keep_in(list)
  redis.call('RPUSH', list, json)
  redis.call('LTRIM', list, -keep, -1)
end
if kind == 'R' then
  keep_in(P .. 'history:' .. a)
  redis.call('PUBLISH', P .. 'events', 'R ' .. a .. '\n' .. json)
else
  keep_in(P .. 'inbox:' .. a)
  redis.call('PUBLISH', P .. 'events', 'U ' .. a .. '\n' .. json)
  if b ~= a then
    keep_in(P .. 'inbox:' .. b)
    redis.call('PUBLISH', P .. 'events', 'U ' .. b .. '\n' .. json)
  end
end
if ref ~= '' then redis.call('SET', P .. 'ref:' .. token .. ':' .. ref, id, 'PX', 600000) end
return id
"#;

/// ARGV: grace. Returns {{room whose list changed...}, {nick, room...}, ...}.
const SWEEP: &str = r"
local grace = tonumber(ARGV[1])
local t = now()
local away = {}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', P .. 'presence', '-inf', t, 'LIMIT', 0, 100)) do
  -- The key may outlive its score by a millisecond: then the next sweep takes it.
  if redis.call('EXISTS', P .. 'online:' .. token) == 0
      and redis.call('ZREM', P .. 'presence', token) == 1 then
    for _, room in ipairs(redis.call('SMEMBERS', P .. 'urooms:' .. token)) do away[#away + 1] = room end
  end
end
local out = {away}
for _, token in ipairs(redis.call('ZRANGEBYSCORE', P .. 'names', '-inf', t, 'LIMIT', 0, 100)) do
  if redis.call('EXISTS', P .. 'online:' .. token) == 1 then
    redis.call('ZADD', P .. 'names', t + grace, token)
  else
    local gone = remove(token)
    if gone then out[#out + 1] = gone end
  end
end
return out
";

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}\n{body}"))
}

fn err(e: &redis::RedisError) -> StoreError {
    StoreError(format!("redis: {e}"))
}

/// The scripts, loaded once.
struct Scripts {
    claim: Script,
    resume: Script,
    offline: Script,
    release: Script,
    heartbeat: Script,
    lookup: Script,
    join: Script,
    leave: Script,
    rooms: Script,
    users: Script,
    post: Script,
    sweep: Script,
}

/// The Redis store.
pub struct RedisStore {
    client: Client,
    /// The connection for commands; replaced after it broke (Redis restarted, say).
    conn: Mutex<MultiplexedConnection>,
    broken: AtomicBool,
    scripts: Scripts,
    timing: Timing,
}

impl RedisStore {
    /// Connects to `url` (`redis://HOST:PORT`), within `timeout`.
    pub async fn connect(url: &str, timing: Timing, timeout: Duration) -> Result<Self, String> {
        let client = Client::open(url).map_err(|e| format!("{url}: {e}"))?;
        let conn = tokio::time::timeout(timeout, client.get_multiplexed_async_connection())
            .await
            .map_err(|_| format!("{url}: no answer within {timeout:?}"))?
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(RedisStore {
            client,
            conn: Mutex::new(conn),
            broken: AtomicBool::new(false),
            scripts: Scripts {
                claim: script(CLAIM),
                resume: script(RESUME),
                offline: script(OFFLINE),
                release: script(RELEASE),
                heartbeat: script(HEARTBEAT),
                lookup: script(LOOKUP),
                join: script(JOIN),
                leave: script(LEAVE),
                rooms: script(ROOMS),
                users: script(USERS),
                post: script(POST),
                sweep: script(SWEEP),
            },
            timing,
        })
    }

    /// Subscribes to the events channel; each message's payload goes to `on_event`.
    /// Returns when the subscription ends (Redis went away).
    pub async fn subscribe(&self, mut on_event: impl FnMut(&str)) -> Result<(), StoreError> {
        let mut pubsub = self
            .client
            .get_async_pubsub()
            .await
            .map_err(|e| self.err(&e))?;
        pubsub.subscribe(CHANNEL).await.map_err(|e| self.err(&e))?;
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            if let Ok(payload) = message.get_payload::<String>() {
                on_event(&payload);
            }
        }
        Err(StoreError("redis: the subscription ended".into()))
    }

    /// Publishes an event line to every process.
    pub async fn publish(&self, line: &str) -> Result<(), StoreError> {
        redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(line)
            .query_async::<i64>(&mut self.conn().await)
            .await
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    /// The command connection: a new one if the last command found it broken.
    async fn conn(&self) -> MultiplexedConnection {
        if self.broken.swap(false, Ordering::Relaxed) {
            let fresh = tokio::time::timeout(
                Duration::from_secs(2),
                self.client.get_multiplexed_async_connection(),
            )
            .await;
            match fresh {
                Ok(Ok(conn)) => *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = conn,
                _ => self.broken.store(true, Ordering::Relaxed),
            }
        }
        self.conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// An error for the caller; a dropped connection is replaced before the next command.
    fn err(&self, e: &redis::RedisError) -> StoreError {
        if e.is_connection_dropped() || e.is_io_error() || e.is_unrecoverable_error() {
            self.broken.store(true, Ordering::Relaxed);
        }
        err(e)
    }

    fn grace(&self) -> u64 {
        millis(self.timing.grace)
    }

    fn presence(&self) -> u64 {
        millis(self.timing.presence)
    }

    /// As [`Store::claim`](crate::store::Store::claim).
    pub async fn claim(
        &self,
        nick: &Nick,
        token: &str,
        uid: &str,
    ) -> Result<Option<Session>, StoreError> {
        let ok: i64 = self
            .scripts
            .claim
            .arg(&nick.key)
            .arg(&nick.display)
            .arg(token)
            .arg(uid)
            .arg(self.grace())
            .arg(self.presence())
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        Ok((ok == 1).then(|| Session {
            token: token.to_owned(),
            nick: nick.display.clone(),
            key: nick.key.clone(),
            rooms: vec![DEFAULT_ROOM.to_owned()],
        }))
    }

    /// As [`Store::resume`](crate::store::Store::resume).
    pub async fn resume(&self, token: &str, uid: &str) -> Result<Resumed, StoreError> {
        let out: Vec<String> = self
            .scripts
            .resume
            .arg(token)
            .arg(uid)
            .arg(self.grace())
            .arg(self.presence())
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut out = out.into_iter();
        let (Some(nick), Some(key)) = (out.next(), out.next()) else {
            return Ok(Resumed::Unknown);
        };
        let mut rooms: Vec<String> = out.collect();
        rooms.sort();
        Ok(Resumed::Ok(Session {
            token: token.to_owned(),
            nick,
            key,
            rooms,
        }))
    }

    /// As [`Store::offline`](crate::store::Store::offline).
    pub async fn offline(&self, token: &str, uid: &str) -> Result<Vec<String>, StoreError> {
        self.scripts
            .offline
            .arg(token)
            .arg(uid)
            .arg(self.grace())
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))
    }

    /// As [`Store::release`](crate::store::Store::release).
    pub async fn release(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let out: Vec<String> = self
            .scripts
            .release
            .arg(token)
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut out = out.into_iter();
        Ok(out.next().map(|nick| Session {
            token: token.to_owned(),
            nick,
            key: String::new(),
            rooms: out.collect(),
        }))
    }

    /// As [`Store::heartbeat`](crate::store::Store::heartbeat).
    pub async fn heartbeat(&self, live: &[(String, String)]) -> Result<(), StoreError> {
        if live.is_empty() {
            return Ok(());
        }
        let mut invocation = self.scripts.heartbeat.prepare_invoke();
        invocation.arg(self.grace()).arg(self.presence());
        for (token, uid) in live {
            invocation.arg(token).arg(uid);
        }
        invocation
            .invoke_async::<i64>(&mut self.conn().await)
            .await
            .map(drop)
            .map_err(|e| self.err(&e))
    }

    /// As [`Store::lookup`](crate::store::Store::lookup).
    pub async fn lookup(&self, key: &str) -> Result<Option<Session>, StoreError> {
        let out: Vec<String> = self
            .scripts
            .lookup
            .arg(key)
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut out = out.into_iter();
        let (Some(token), Some(nick), Some(key)) = (out.next(), out.next(), out.next()) else {
            return Ok(None);
        };
        Ok(Some(Session {
            token,
            nick,
            key,
            rooms: out.collect(),
        }))
    }

    /// As [`Store::join`](crate::store::Store::join).
    pub async fn join(&self, token: &str, room: &str) -> Result<Option<bool>, StoreError> {
        let r: i64 = self
            .scripts
            .join
            .arg(token)
            .arg(room)
            .arg(MAX_ROOMS)
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        Ok(match r {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        })
    }

    /// As [`Store::leave`](crate::store::Store::leave).
    pub async fn leave(&self, token: &str, room: &str) -> Result<bool, StoreError> {
        let r: i64 = self
            .scripts
            .leave
            .arg(token)
            .arg(room)
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        Ok(r == 1)
    }

    /// As [`Store::rooms`](crate::store::Store::rooms).
    pub async fn rooms(&self) -> Result<Vec<RoomInfo>, StoreError> {
        let out: Vec<(String, usize)> = self
            .scripts
            .rooms
            .prepare_invoke()
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut rooms: Vec<RoomInfo> = out
            .into_iter()
            .map(|(name, users)| RoomInfo { name, users })
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    /// As [`Store::users`](crate::store::Store::users).
    pub async fn users(&self, room: &str) -> Result<Vec<UserInfo>, StoreError> {
        let out: Vec<(String, i64)> = self
            .scripts
            .users
            .arg(room)
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut users: Vec<UserInfo> = out
            .into_iter()
            .map(|(nick, online)| UserInfo {
                nick,
                away: online == 0,
            })
            .collect();
        sort_users(&mut users);
        Ok(users)
    }

    /// Stores and publishes a message (JSON with `"id":0`); returns its id.
    pub async fn post(
        &self,
        target: &Target,
        json: &str,
        token: &str,
        reference: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (kind, a, b) = match target {
            Target::Room(room) => ("R", room.as_str(), ""),
            Target::Private { from, to } => ("P", to.as_str(), from.as_str()),
        };
        self.scripts
            .post
            .arg(kind)
            .arg(json)
            .arg(a)
            .arg(b)
            .arg(token)
            .arg(reference.unwrap_or(""))
            .arg(self.timing.history.max(1))
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))
    }

    async fn list(&self, key: String, after: u64) -> Result<Vec<String>, StoreError> {
        let all: Vec<String> = redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        Ok(all
            .into_iter()
            .filter(|json| crate::store::id_of(json) > after)
            .collect())
    }

    /// As [`Store::history`](crate::store::Store::history).
    pub async fn history(&self, room: &str, after: u64) -> Result<Vec<String>, StoreError> {
        self.list(format!("chat:history:{room}"), after).await
    }

    /// As [`Store::inbox`](crate::store::Store::inbox).
    pub async fn inbox(&self, token: &str, after: u64) -> Result<Vec<String>, StoreError> {
        self.list(format!("chat:inbox:{token}"), after).await
    }

    /// As [`Store::seen`](crate::store::Store::seen); in Redis a ref is remembered for
    /// 10 minutes rather than the last [`MAX_REFS`](crate::store::MAX_REFS).
    pub async fn seen(&self, token: &str, reference: &str) -> Result<Option<u64>, StoreError> {
        redis::cmd("GET")
            .arg(format!("chat:ref:{token}:{reference}"))
            .query_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))
    }

    /// As [`Store::sweep`](crate::store::Store::sweep).
    pub async fn sweep(&self) -> Result<Swept, StoreError> {
        let out: Vec<Vec<String>> = self
            .scripts
            .sweep
            .arg(self.grace())
            .invoke_async(&mut self.conn().await)
            .await
            .map_err(|e| self.err(&e))?;
        let mut out = out.into_iter();
        let mut swept = Swept {
            away: out.next().unwrap_or_default().into_iter().collect(),
            gone: Vec::new(),
        };
        for gone in out {
            let mut gone = gone.into_iter();
            if let Some(nick) = gone.next() {
                swept.gone.push(Gone {
                    nick,
                    rooms: gone.collect(),
                });
            }
        }
        Ok(swept)
    }
}
