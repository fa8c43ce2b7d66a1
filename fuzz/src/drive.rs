//! Shared by the connection targets: feed bytes whole and in chunks, compare transcripts
//! with each other and with the reference model (the target includes
//! `tests/support/reference.rs` and `compare.rs` as `crate::reference` and
//! `crate::compare`).

use bytes::{BufMut, Bytes};
use rfc6455::{
    CloseFrame, Config, Connection, Event, EventRef, Fragment, ProtocolError, Role, Utf8Bytes,
};

/// Everything a connection said about some input.
#[derive(Debug, PartialEq)]
pub struct Transcript {
    pub events: Vec<Event>,
    pub error: Option<ProtocolError>,
    pub outgoing: Vec<u8>,
}

fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => {
            // Deterministic masking keys, so that two runs produce the same bytes.
            let mut n = 0u8;
            Connection::client_with_random(config, move |buf: &mut [u8]| {
                for b in buf {
                    n = n.wrapping_add(37);
                    *b = n;
                }
            })
        }
    }
}

/// The owned form of a borrowed event, to compare transcripts.
fn owned(event: EventRef<'_>) -> Event {
    match event {
        EventRef::Text(text) => Event::Text(Utf8Bytes::from(text)),
        EventRef::Binary(data) => Event::Binary(Bytes::copy_from_slice(data)),
        EventRef::Ping(data) => Event::Ping(Bytes::copy_from_slice(data)),
        EventRef::Pong(data) => Event::Pong(Bytes::copy_from_slice(data)),
        EventRef::Close { code, reason } => Event::Close(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        }),
        EventRef::Fragment {
            kind,
            data,
            first,
            fin,
        } => Event::Fragment(Fragment {
            kind,
            data: Bytes::copy_from_slice(data),
            first,
            fin,
        }),
        _ => unreachable!("every event kind is listed"),
    }
}

fn drain(ws: &mut Connection, t: &mut Transcript, borrowed: bool) {
    loop {
        let next = if borrowed {
            ws.next_event_ref().map(|e| e.map(owned))
        } else {
            ws.next_event()
        };
        match next {
            Ok(Some(event)) => {
                assert!(t.error.is_none(), "an event after the error");
                t.events.push(event);
            }
            Ok(None) => return,
            Err(e) => {
                assert!(t.error.is_none(), "a second error: {e:?}");
                t.error = Some(e);
            }
        }
    }
}

/// Runs `input` through a connection in the given chunk sizes (cycled; empty means all at
/// once), then reports end of stream. `borrowed`: bytes are read into `receive_buffer`
/// and events taken with `next_event_ref`, instead of `receive` and `next_event`.
pub fn run(
    role: Role,
    config: Config,
    input: &[u8],
    chunks: &[usize],
    borrowed: bool,
) -> Transcript {
    let mut ws = connection(role, config);
    let mut t = Transcript {
        events: Vec::new(),
        error: None,
        outgoing: Vec::new(),
    };
    if chunks.is_empty() {
        ws.receive(input);
        drain(&mut ws, &mut t, borrowed);
    } else {
        let mut rest = input;
        for &n in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(n.clamp(1, rest.len()));
            if borrowed {
                ws.receive_buffer().put_slice(now);
            } else {
                ws.receive(now);
            }
            drain(&mut ws, &mut t, borrowed);
            rest = later;
        }
    }
    ws.receive_eof();
    drain(&mut ws, &mut t, borrowed);
    // A failed or finished connection stays quiet.
    ws.receive(input);
    assert_eq!(ws.next_event(), Ok(None));
    t.outgoing = ws.take_outgoing();
    t
}

/// The first input byte picks a small configuration, the next up to 8 bytes chunk sizes,
/// the rest is the wire input.
pub fn chunking_is_invisible(role: Role, data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let n_chunks = usize::from(selector & 7).min(rest.len());
    let (chunk_bytes, input) = rest.split_at(n_chunks);
    let chunks: Vec<usize> = chunk_bytes.iter().map(|&b| usize::from(b) + 1).collect();
    let mut config = Config::default().max_pending_pongs(usize::MAX);
    if selector & 8 != 0 {
        config = config.max_frame_size(64).max_message_size(100);
    }
    if selector & 16 != 0 {
        config = config.stream_fragments(true);
    }
    if selector & 32 != 0 {
        config = config.auto_pong(false);
    }
    let whole = run(role, config, input, &[], false);
    let byte_by_byte = run(role, config, input, &[1], false);
    assert_eq!(whole, byte_by_byte);
    // The independent oracle: the byte-at-a-time reference model of the receive side
    // (tests/support/reference.rs) on the same input, events, close code and the frames
    // written back, read by the model's own decoder.
    if let Err(difference) = crate::compare::compare(role, config, input, &[]) {
        panic!("the connection differs from the reference model: {difference}");
    }
    if !chunks.is_empty() {
        let chunked = run(role, config, input, &chunks, false);
        assert_eq!(whole, chunked);
        // The borrowed path, reading into the lent room: the same transcript.
        let borrowed = run(role, config, input, &chunks, true);
        assert_eq!(whole, borrowed);
    }
}
