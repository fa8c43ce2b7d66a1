//! Runs a [`Connection`] over an input and describes what it did in the reference model's
//! terms ([`crate::reference::Outcome`]), so that the two can be compared: the events, the
//! close code of the failure, and the frames it wrote — read back by the reference's own
//! decoder, so that the crate's encoder is not trusted either.
//!
//! Used by `tests/connection_oracle.rs` and, by path, by the fuzz targets.

#![allow(dead_code, reason = "each user takes a different part")]

use rfc6455::{Config, Connection, Event, EventRef, MessageKind, Role};

use crate::reference::{End, Outcome, RefEvent, Settings, decode_all};

/// The model's settings for `config`.
pub fn settings(config: &Config) -> Settings {
    Settings {
        max_frame: config.max_frame_size,
        max_message: config.max_message_size,
        stream_fragments: config.stream_fragments,
        auto_pong: config.auto_pong,
        max_pending_pongs: config.max_pending_pongs,
    }
}

/// The end of the connection that `role` plays, receiving.
pub fn end(role: Role) -> End {
    match role {
        Role::Server => End::Server,
        Role::Client => End::Client,
    }
}

/// An event in the model's terms.
pub fn ref_event(event: Event) -> RefEvent {
    match event {
        Event::Text(text) => RefEvent::Text(text.as_bytes().to_vec()),
        Event::Binary(data) => RefEvent::Binary(data.to_vec()),
        Event::Ping(data) => RefEvent::Ping(data.to_vec()),
        Event::Pong(data) => RefEvent::Pong(data.to_vec()),
        Event::Close(close) => RefEvent::Close(close.code.0, close.reason.as_bytes().to_vec()),
        Event::Fragment(f) => RefEvent::Fragment {
            text: f.kind == MessageKind::Text,
            data: f.data.to_vec(),
            first: f.first,
            fin: f.fin,
        },
        other => panic!("an event the model does not know: {other:?}"),
    }
}

/// A borrowed event in the model's terms.
pub fn ref_event_borrowed(event: EventRef<'_>) -> RefEvent {
    match event {
        EventRef::Text(text) => RefEvent::Text(text.as_bytes().to_vec()),
        EventRef::Binary(data) => RefEvent::Binary(data.to_vec()),
        EventRef::Ping(data) => RefEvent::Ping(data.to_vec()),
        EventRef::Pong(data) => RefEvent::Pong(data.to_vec()),
        EventRef::Close { code, reason } => RefEvent::Close(code.0, reason.as_bytes().to_vec()),
        EventRef::Fragment {
            kind,
            data,
            first,
            fin,
        } => RefEvent::Fragment {
            text: kind == MessageKind::Text,
            data: data.to_vec(),
            first,
            fin,
        },
        other => panic!("an event the model does not know: {other:?}"),
    }
}

/// A connection for `role`; a client masks with a fixed, varied key sequence.
pub fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => {
            let mut n = 0x5Au8;
            Connection::client_with_random(config, move |buf: &mut [u8]| {
                for b in buf {
                    n = n.wrapping_mul(13).wrapping_add(101);
                    *b = n;
                }
            })
        }
    }
}

/// Feeds `input` to a connection in pieces of the sizes in `chunks` (cycled; empty: all
/// at once), taking every event after each piece, then ends the stream; the outgoing
/// bytes are taken once, at the end. Returns what happened in the model's terms, or a
/// description of output the reference cannot read.
///
/// `borrowed`: bytes are read into `receive_buffer` and events taken with
/// `next_event_ref`, instead of `receive` and `next_event`.
pub fn run_ours(
    role: Role,
    config: Config,
    input: &[u8],
    chunks: &[usize],
    borrowed: bool,
) -> Result<Outcome, String> {
    let mut ws = connection(role, config);
    let mut events = Vec::new();
    let mut failure = None;
    let mut drain = |ws: &mut Connection| -> Result<(), String> {
        loop {
            let next = if borrowed {
                ws.next_event_ref().map(|e| e.map(ref_event_borrowed))
            } else {
                ws.next_event().map(|e| e.map(ref_event))
            };
            match next {
                Ok(Some(event)) => {
                    if failure.is_some() {
                        return Err(format!("event {event:?} after the failure"));
                    }
                    events.push(event);
                }
                Ok(None) => return Ok(()),
                Err(error) => {
                    if failure.is_some() {
                        return Err(format!("a second error {error:?}"));
                    }
                    failure = Some(error.close_code().0);
                }
            }
        }
    };
    let mut rest = input;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().map_or(rest.len(), |&n| n.clamp(1, rest.len()));
        let (now, later) = rest.split_at(n);
        if borrowed {
            ws.receive_buffer().extend_from_slice(now);
        } else {
            ws.receive(now);
        }
        drain(&mut ws)?;
        rest = later;
    }
    ws.receive_eof();
    drain(&mut ws)?;
    let wire = ws.take_outgoing();
    // What we write is read by the peer's end: a client's frames by a server.
    let peer = match role {
        Role::Server => End::Client,
        Role::Client => End::Server,
    };
    let (frames, left) =
        decode_all(peer, &wire).map_err(|why| format!("our output is malformed: {why:?}"))?;
    if left != 0 {
        return Err(format!(
            "{left} bytes of a partial frame at the end of our output"
        ));
    }
    let sent = frames
        .into_iter()
        .map(|f| crate::reference::SentFrame {
            opcode: f.opcode,
            payload: f.payload,
        })
        .collect();
    Ok(Outcome {
        events,
        failure,
        sent,
    })
}

/// Ours against the model on `input`, through the owned API (`receive`, `next_event`)
/// and the borrowed one (`receive_buffer`, `next_event_ref`); `Err` describes the first
/// difference.
pub fn compare(
    role: Role,
    config: Config,
    input: &[u8],
    chunks: &[usize],
) -> Result<Outcome, String> {
    let model = crate::reference::Receiver::run(end(role), settings(&config), input);
    for borrowed in [false, true] {
        let ours = run_ours(role, config, input, chunks, borrowed)?;
        if ours != model {
            return Err(format!(
                "{role:?} in chunks {chunks:?}{}:\n  ours:  {}\n  model: {}",
                if borrowed { ", borrowed" } else { "" },
                describe(&ours),
                describe(&model)
            ));
        }
    }
    Ok(model)
}

/// A short description of an outcome, payloads summarised.
pub fn describe(outcome: &Outcome) -> String {
    let short = |p: &[u8]| {
        if p.len() <= 24 {
            format!("{p:02x?}")
        } else {
            format!("<{} bytes {:02x?}..>", p.len(), &p[..8])
        }
    };
    let events: Vec<String> = outcome
        .events
        .iter()
        .map(|e| match e {
            RefEvent::Text(p) => format!("Text{}", short(p)),
            RefEvent::Binary(p) => format!("Binary{}", short(p)),
            RefEvent::Ping(p) => format!("Ping{}", short(p)),
            RefEvent::Pong(p) => format!("Pong{}", short(p)),
            RefEvent::Close(c, r) => format!("Close({c}, {})", short(r)),
            RefEvent::Fragment {
                text,
                data,
                first,
                fin,
            } => format!(
                "Fragment(text {text}, {}, first {first}, fin {fin})",
                short(data)
            ),
        })
        .collect();
    let sent: Vec<String> = outcome
        .sent
        .iter()
        .map(|f| format!("{:#x}{}", f.opcode, short(&f.payload)))
        .collect();
    format!(
        "events {events:?}, failure {:?}, sent {sent:?}",
        outcome.failure
    )
}
