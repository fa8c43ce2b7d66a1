//! The connection against oracles it does not share code with.
//!
//! 1. **The reference model** (`tests/support/reference.rs`, byte at a time): streams of
//!    valid frames with at most one violation of the RFC placed somewhere in them (a
//!    structured generator, so that the input reaches deep into the state machine instead
//!    of dying at its first byte), fed in any chunking to either role. The events, the
//!    close code of the failure and the frames written back (read by the model's own
//!    decoder) must be the model's; and the model's close code must be the one the
//!    violation calls for by construction (§7.4.1), so that the model is checked too.
//! 2. **tungstenite**, a peer crate: whole conversations, tungstenite on one end and a
//!    `Connection` on the other, both ways; what one sends the other receives.

#[path = "support/compare.rs"]
mod compare;
#[path = "support/reference.rs"]
mod reference;

use std::io::{self, Read, Write};

use proptest::prelude::*;
use proptest::sample::Index;
use reference::{Receiver, RefEvent};
use rfc6455::{CloseCode, Config, Connection, Event, Role};

// ----- a structured generator: valid frame streams with one violation -----

/// One frame of the stream, before encoding.
#[derive(Debug, Clone)]
struct WireFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: Vec<u8>,
    /// Masked (as a client's frames are); flipped by [`Violation::WrongMask`].
    masked: bool,
    /// The length form (7, 16, 64) when not the minimal one.
    form: Option<u8>,
    /// The announced length when it is not the payload's.
    len: Option<u64>,
}

impl WireFrame {
    fn new(fin: bool, opcode: u8, payload: Vec<u8>) -> Self {
        WireFrame {
            fin,
            rsv: 0,
            opcode,
            payload,
            masked: false,
            form: None,
            len: None,
        }
    }
}

/// A logical item of the stream.
#[derive(Debug, Clone)]
enum Item {
    /// A data message, cut at `cuts` into fragments, with pings or pongs between them
    /// (`controls`: after which fragment, ping or pong, payload).
    Message {
        text: bool,
        payload: Vec<u8>,
        cuts: Vec<Index>,
        controls: Vec<(Index, bool, Vec<u8>)>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// How the stream ends.
#[derive(Debug, Clone)]
enum Ending {
    /// A close with a code and a reason, maybe followed by bytes that must be ignored.
    Close(u16, String, Vec<u8>),
    /// An empty close frame (§7.1.5: the code seen is 1005).
    CloseEmpty,
    /// No close: the end of stream comes first (1006).
    Nothing,
}

/// The one thing wrong with the stream, and the close code §7.4.1 gives it.
#[derive(Debug, Clone)]
enum Violation {
    None,
    /// §5.2: an opcode reserved for future use.
    ReservedOpcode(u8),
    /// §5.2: an RSV bit without an extension.
    Rsv(u8),
    /// §5.5: a ping with FIN clear.
    FragmentedControl,
    /// §5.5: a ping with more than 125 bytes.
    ControlTooLong(usize),
    /// §5.1: masked toward a client, unmasked toward a server.
    WrongMask,
    /// §5.2: a length not in its minimal encoding (16- or 64-bit form).
    NonMinimal(bool),
    /// §5.2: a 64-bit length with its most significant bit set.
    TopBit,
    /// §5.4: a continuation frame with no message in progress.
    StrayContinuation,
    /// §5.4: a new data frame in the middle of a fragmented message.
    Interleaved,
    /// §8.1: an invalid sequence inserted in a text message.
    InvalidUtf8(usize),
    /// §8.1: a text message that ends inside a code point.
    UnfinishedUtf8,
    /// §5.5.1: a close frame with a 1-byte payload.
    CloseOneByte,
    /// §7.4: a close code that may not be sent.
    CloseBadCode(u16),
    /// §5.5.1: a close reason that is not UTF-8.
    CloseBadReason,
    /// A frame over the configured frame limit.
    FrameTooBig,
    /// A message over the configured message limit.
    MessageTooBig,
    /// The stream stops at `Index` (§7.1.5).
    Truncate(Index),
}

/// Sequences that are never part of valid UTF-8 (Unicode table 3-7): a surrogate, two
/// overlong forms, a code point above U+10FFFF, a stray continuation byte, bytes that
/// never occur.
const INVALID_UTF8: [&[u8]; 7] = [
    b"\xED\xA0\x80",
    b"\xC0\x80",
    b"\xE0\x80\x80",
    b"\xF4\x90\x80\x80",
    b"\x80",
    b"\xFF",
    b"\xF5\x80\x80\x80",
];

/// Close codes no endpoint may send (§7.4.1, §7.4.2).
const BAD_CODES: [u16; 10] = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535];

#[derive(Debug, Clone)]
struct Plan {
    role: Role,
    items: Vec<Item>,
    ending: Ending,
    violation: Violation,
    at: Index,
    stream_fragments: bool,
    chunks: Vec<usize>,
}

fn payload(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..max.min(40)),
        1 => prop::collection::vec(any::<u8>(), 0..=max),
    ]
}

/// Text, weighted toward multi-byte code points (so that cuts split them).
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<String>(),
        "[a-zé€😀]{0,40}",
        "[\u{80}-\u{7ff}\u{800}-\u{ffff}\u{10000}-\u{10ffff}]{0,20}",
        // Lengths around the 16-bit length form (§5.2).
        (120usize..135).prop_map(|n| "é".repeat(n / 2) + &"a".repeat(n % 2)),
    ]
    .prop_map(String::into_bytes)
}

fn item() -> impl Strategy<Value = Item> {
    let controls = prop::collection::vec((any::<Index>(), any::<bool>(), payload(125)), 0..3);
    prop_oneof![
        3 => (any::<bool>(), prop_oneof![text(), payload(300).prop_map(|p| p)],
             prop::collection::vec(any::<Index>(), 0..4), controls)
            .prop_map(|(is_text, payload, cuts, controls)| {
                // Binary messages take any payload; text ones only text.
                let text = is_text && std::str::from_utf8(&payload).is_ok();
                Item::Message { text, payload, cuts, controls }
            }),
        1 => payload(125).prop_map(Item::Ping),
        1 => payload(125).prop_map(Item::Pong),
        // Around the 64-bit length form, now and then.
        1 => prop::sample::select(vec![65_535usize, 65_536, 70_000]).prop_map(|n| Item::Message {
            text: false,
            payload: vec![0xA5; n],
            cuts: Vec::new(),
            controls: Vec::new(),
        }),
    ]
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        4 => (prop::sample::select(vec![1000u16, 1001, 1003, 1011, 1012, 3000, 4999]),
              "[a-zé]{0,20}", prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(code, reason, junk)| Ending::Close(code, reason, junk)),
        1 => Just(Ending::CloseEmpty),
        1 => Just(Ending::Nothing),
    ]
}

fn violation() -> impl Strategy<Value = Violation> {
    prop_oneof![
        4 => Just(Violation::None),
        1 => prop::sample::select(vec![3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
            .prop_map(Violation::ReservedOpcode),
        1 => prop::sample::select(vec![0b100u8, 0b010, 0b001]).prop_map(Violation::Rsv),
        1 => Just(Violation::FragmentedControl),
        1 => (126usize..300).prop_map(Violation::ControlTooLong),
        1 => Just(Violation::WrongMask),
        1 => any::<bool>().prop_map(Violation::NonMinimal),
        1 => Just(Violation::TopBit),
        1 => Just(Violation::StrayContinuation),
        1 => Just(Violation::Interleaved),
        2 => (0..INVALID_UTF8.len()).prop_map(Violation::InvalidUtf8),
        1 => Just(Violation::UnfinishedUtf8),
        1 => Just(Violation::CloseOneByte),
        1 => prop::sample::select(BAD_CODES.to_vec()).prop_map(Violation::CloseBadCode),
        1 => Just(Violation::CloseBadReason),
        1 => Just(Violation::FrameTooBig),
        1 => Just(Violation::MessageTooBig),
        1 => any::<Index>().prop_map(Violation::Truncate),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop_oneof![Just(Role::Server), Just(Role::Client)],
        prop::collection::vec(item(), 0..6),
        ending(),
        violation(),
        any::<Index>(),
        prop::bool::weighted(0.2),
        prop::collection::vec(1usize..40, 1..5),
    )
        .prop_map(
            |(role, items, ending, violation, at, stream_fragments, chunks)| Plan {
                role,
                items,
                ending,
                violation,
                at,
                stream_fragments,
                chunks,
            },
        )
}

/// A stream built from a plan: the bytes, the configuration, the close code the
/// violation calls for, and — for a stream without a violation — the events the
/// receiver must report.
struct Built {
    input: Vec<u8>,
    config: Config,
    code: Option<u16>,
    events: Option<Vec<RefEvent>>,
}

fn build(plan: &Plan) -> Built {
    let mut items = plan.items.clone();
    let mut config = Config::default()
        .stream_fragments(plan.stream_fragments)
        .max_pending_pongs(usize::MAX);
    let text_messages = |items: &[Item]| {
        items
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, Item::Message { text: true, .. }))
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    // Violations of a message's content, before it is cut into frames.
    match plan.violation {
        Violation::InvalidUtf8(_) | Violation::UnfinishedUtf8
            if text_messages(&items).is_empty() =>
        {
            items.push(Item::Message {
                text: true,
                payload: "héllo wörld".into(),
                cuts: Vec::new(),
                controls: Vec::new(),
            });
        }
        _ => {}
    }
    let texts = text_messages(&items);
    match plan.violation {
        Violation::InvalidUtf8(which) => {
            let Item::Message { payload, .. } = &mut items[texts[plan.at.index(texts.len())]]
            else {
                unreachable!()
            };
            let text = String::from_utf8(payload.clone()).expect("text");
            let boundaries: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let at = boundaries[plan.at.index(boundaries.len())];
            payload.splice(at..at, INVALID_UTF8[which].iter().copied());
        }
        Violation::UnfinishedUtf8 => {
            let Item::Message { payload, .. } = &mut items[texts[plan.at.index(texts.len())]]
            else {
                unreachable!()
            };
            // The first bytes of "€" (E2 82 AC) or "😀" (F0 9F 98 80).
            payload.extend_from_slice(if payload.len() % 2 == 0 {
                b"\xE2\x82"
            } else {
                b"\xF0\x9F"
            });
        }
        _ => {}
    }

    // Cut into frames, with the expected events of a valid stream beside them.
    let mut frames: Vec<WireFrame> = Vec::new();
    // Where a frame may be inserted between messages: indexes into `frames`.
    let mut between = vec![0];
    let mut events = Vec::new();
    let mut message_sizes = Vec::new();
    for item in &items {
        match item {
            Item::Ping(p) => {
                frames.push(WireFrame::new(true, 0x9, p.clone()));
                events.push(RefEvent::Ping(p.clone()));
            }
            Item::Pong(p) => {
                frames.push(WireFrame::new(true, 0xA, p.clone()));
                events.push(RefEvent::Pong(p.clone()));
            }
            Item::Message {
                text,
                payload,
                cuts,
                controls,
            } => {
                let mut cuts: Vec<usize> =
                    cuts.iter().map(|c| c.index(payload.len() + 1)).collect();
                cuts.push(0);
                cuts.push(payload.len());
                cuts.sort_unstable();
                cuts.dedup();
                if payload.is_empty() {
                    cuts = vec![0, 0];
                }
                let n = cuts.len() - 1;
                let controls: Vec<(usize, bool, &Vec<u8>)> = controls
                    .iter()
                    .map(|(at, ping, p)| (at.index(n), *ping, p))
                    .collect();
                for (i, w) in cuts.windows(2).enumerate() {
                    let opcode = match (i, text) {
                        (0, true) => 0x1,
                        (0, false) => 0x2,
                        _ => 0x0,
                    };
                    let part = payload[w[0]..w[1]].to_vec();
                    frames.push(WireFrame::new(i + 1 == n, opcode, part.clone()));
                    if plan.stream_fragments {
                        events.push(RefEvent::Fragment {
                            text: *text,
                            data: part,
                            first: i == 0,
                            fin: i + 1 == n,
                        });
                    }
                    if i + 1 < n {
                        for &(_, ping, p) in controls.iter().filter(|c| c.0 == i) {
                            frames.push(WireFrame::new(
                                true,
                                if ping { 0x9 } else { 0xA },
                                p.clone(),
                            ));
                            events.push(if ping {
                                RefEvent::Ping(p.clone())
                            } else {
                                RefEvent::Pong(p.clone())
                            });
                        }
                    }
                }
                if !plan.stream_fragments {
                    events.push(if *text {
                        RefEvent::Text(payload.clone())
                    } else {
                        RefEvent::Binary(payload.clone())
                    });
                }
                message_sizes.push(payload.len() as u64);
            }
        }
        between.push(frames.len());
    }

    // The violations of the frames.
    let mut code = match plan.ending {
        Ending::Nothing => Some(reference::ABNORMAL),
        _ => None,
    };
    let mut ending = plan.ending.clone();
    let some_frame = |frames: &mut Vec<WireFrame>| {
        if frames.is_empty() {
            frames.push(WireFrame::new(true, 0x9, b"p".to_vec()));
        }
        plan.at.index(frames.len())
    };
    let insert_between = |frames: &mut Vec<WireFrame>, frame: WireFrame| {
        let at = between[plan.at.index(between.len())];
        frames.insert(at, frame);
    };
    let mut truncate = None;
    match &plan.violation {
        Violation::None => {}
        Violation::ReservedOpcode(op) => {
            let k = some_frame(&mut frames);
            frames[k].opcode = *op;
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::Rsv(bit) => {
            let k = some_frame(&mut frames);
            frames[k].rsv = *bit;
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::FragmentedControl => {
            insert_between(&mut frames, WireFrame::new(false, 0x9, b"frag".to_vec()));
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::ControlTooLong(n) => {
            insert_between(&mut frames, WireFrame::new(true, 0x9, vec![b'x'; *n]));
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::WrongMask => {
            let k = some_frame(&mut frames);
            frames[k].masked = true; // flipped again for a server below
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::NonMinimal(wide) => {
            let k = some_frame(&mut frames);
            let len = frames[k].payload.len();
            frames[k].form = Some(match len {
                0..=125 if !wide => 16,
                0..=0xFFFF => 64,
                _ => {
                    frames[k].payload.truncate(100);
                    64
                }
            });
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::TopBit => {
            let k = some_frame(&mut frames);
            frames[k].form = Some(64);
            frames[k].len = Some(frames[k].payload.len() as u64 | 1 << 63);
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::StrayContinuation => {
            insert_between(
                &mut frames,
                WireFrame::new(plan.at.index(2) == 0, 0x0, b"cont".to_vec()),
            );
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::Interleaved => {
            let at = between[plan.at.index(between.len())];
            frames.insert(at, WireFrame::new(false, 0x1, b"first".to_vec()));
            frames.insert(at + 1, WireFrame::new(true, 0x2, b"second".to_vec()));
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::InvalidUtf8(_) | Violation::UnfinishedUtf8 => {
            code = Some(reference::INVALID_PAYLOAD);
        }
        Violation::CloseOneByte => {
            ending = Ending::Close(0, String::new(), Vec::new());
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::CloseBadCode(bad) => {
            ending = Ending::Close(*bad, "why".into(), Vec::new());
            code = Some(reference::PROTOCOL_ERROR);
        }
        Violation::CloseBadReason => {
            ending = Ending::Close(1000, String::new(), Vec::new());
            code = Some(reference::INVALID_PAYLOAD);
        }
        Violation::FrameTooBig => {
            if frames.iter().all(|f| f.payload.is_empty()) {
                frames.push(WireFrame::new(true, 0xA, b"big".to_vec()));
            }
            let largest = frames.iter().map(|f| f.payload.len()).max().unwrap_or(1);
            config = config.max_frame_size(largest as u64 - 1);
            code = Some(reference::MESSAGE_TOO_BIG);
        }
        Violation::MessageTooBig => {
            config = config.stream_fragments(false);
            let largest = message_sizes.iter().copied().max().unwrap_or(0);
            if largest == 0 {
                frames.push(WireFrame::new(true, 0x2, b"big".to_vec()));
                config = config.max_message_size(2);
            } else {
                config = config.max_message_size(largest - 1);
            }
            code = Some(reference::MESSAGE_TOO_BIG);
        }
        Violation::Truncate(at) => {
            truncate = Some(*at);
            ending = Ending::Nothing;
            code = Some(reference::ABNORMAL);
        }
    }

    // The ending.
    let mut junk = Vec::new();
    match &ending {
        Ending::Close(0, ..) => frames.push(WireFrame::new(true, 0x8, b"\x03".to_vec())),
        Ending::Close(code_sent, reason, after) => {
            let mut payload = code_sent.to_be_bytes().to_vec();
            if matches!(plan.violation, Violation::CloseBadReason) {
                payload.extend_from_slice(b"ok \xC3\x28");
            } else {
                payload.extend_from_slice(reason.as_bytes());
            }
            events.push(RefEvent::Close(*code_sent, reason.as_bytes().to_vec()));
            frames.push(WireFrame::new(true, 0x8, payload));
            junk.clone_from(after);
        }
        Ending::CloseEmpty => {
            events.push(RefEvent::Close(reference::NO_STATUS, Vec::new()));
            frames.push(WireFrame::new(true, 0x8, Vec::new()));
        }
        Ending::Nothing => {}
    }

    // Encode, masking toward a server (§5.1) with keys that vary per frame.
    let mut input = Vec::new();
    let mut key_seed = 0x1234_5678u32;
    for frame in &frames {
        key_seed = key_seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let masked = frame.masked != (plan.role == Role::Server);
        let key = masked.then(|| key_seed.to_be_bytes());
        let b0 = u8::from(frame.fin) << 7 | frame.rsv << 4 | frame.opcode;
        let len = frame.len.unwrap_or(frame.payload.len() as u64);
        input.extend(reference::encode(b0, &frame.payload, key, len, frame.form));
    }
    if let Some(at) = truncate {
        input.truncate(at.index(input.len() + 1));
    }
    input.extend_from_slice(&junk);
    let valid = matches!(plan.violation, Violation::None);
    Built {
        input,
        config,
        code,
        events: valid.then_some(events),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A valid stream, or one with one violation: the model reports the close code the
    /// violation calls for (and, for a valid stream, exactly the messages sent), and the
    /// connection does what the model does, whole, byte by byte and in random pieces.
    #[test]
    fn streams_with_one_violation_match_the_model(plan in plan()) {
        let built = build(&plan);
        let model = Receiver::run(compare::end(plan.role), compare::settings(&built.config), &built.input);
        prop_assert_eq!(model.failure, built.code, "the model on {:?}: {}", plan.violation, compare::describe(&model));
        if let Some(events) = &built.events {
            prop_assert_eq!(&model.events, events);
        }
        // Whole, in random pieces, and byte by byte (for inputs short enough that a
        // debug build does it quickly).
        let mut chunkings = vec![vec![], plan.chunks.clone()];
        if built.input.len() <= 4096 {
            chunkings.push(vec![1]);
        }
        for chunks in chunkings {
            let result = compare::compare(plan.role, built.config, &built.input, &chunks);
            prop_assert!(result.is_ok(), "{:?}: {}", plan.violation, result.unwrap_err());
        }
    }

    /// Uniform random bytes after a valid prefix (a masked text frame and a ping): the
    /// connection still does what the model does.
    #[test]
    fn random_bytes_after_a_valid_prefix_match_the_model(
        role in prop_oneof![Just(Role::Server), Just(Role::Client)],
        tail in prop::collection::vec(any::<u8>(), 0..64),
        chunks in prop::collection::vec(1usize..20, 1..4),
    ) {
        let key = (role == Role::Server).then_some([1, 2, 3, 4]);
        let mut input = reference::frame(0x1, "ok €".as_bytes(), key);
        input.extend(reference::frame(0x9, b"ping", key));
        input.extend(tail);
        let config = Config::default().max_pending_pongs(usize::MAX);
        for chunks in [vec![], chunks] {
            let result = compare::compare(role, config, &input, &chunks);
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
        }
    }
}

/// The pending-pong cap as the model has it: more pings than `max_pending_pongs` before
/// the output is taken leave the pongs of the most recent ones (§5.5.3), for 0 (treated
/// as 1), 1, and a few more.
#[test]
fn pending_pongs_match_the_model_at_each_cap() {
    for cap in [0, 1, 2, 3, 16] {
        for role in [Role::Server, Role::Client] {
            let key = (role == Role::Server).then_some([9, 8, 7, 6]);
            let mut input = Vec::new();
            for i in 0..20u8 {
                input.extend(reference::frame(0x9, &[i, i], key));
            }
            input.extend(reference::frame(0x8, &1000u16.to_be_bytes(), key));
            let config = Config::default().max_pending_pongs(cap);
            let model = compare::compare(role, config, &input, &[]).unwrap();
            let pongs: Vec<Vec<u8>> = model
                .sent
                .iter()
                .filter(|f| f.opcode == 0xA)
                .map(|f| f.payload.clone())
                .collect();
            let kept = cap.max(1);
            let want: Vec<Vec<u8>> = (20 - kept as u8..20).map(|i| vec![i, i]).collect();
            assert_eq!(pongs, want, "cap {cap}");
        }
    }
}

// ----- tungstenite, a peer that shares no code with us -----

/// An in-memory transport for tungstenite: reads what we wrote to it, records what it
/// writes; reading an empty input would block.
#[derive(Default)]
struct Pipe {
    input: Vec<u8>,
    read_at: usize,
    output: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.input[self.read_at..];
        if rest.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len()).min(7); // small reads, to split frames
        buf[..n].copy_from_slice(&rest[..n]);
        self.read_at += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        any::<String>().prop_map(Msg::Text),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Msg::Binary),
        prop::sample::select(vec![125usize, 126, 127, 65_535, 65_536])
            .prop_map(|n| Msg::Binary(vec![0x3C; n])),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Msg::Ping),
    ]
}

fn tungstenite_message(m: &Msg) -> tungstenite::Message {
    match m {
        Msg::Text(t) => tungstenite::Message::text(t.clone()),
        Msg::Binary(b) => tungstenite::Message::binary(b.clone()),
        Msg::Ping(p) => tungstenite::Message::Ping(p.clone().into()),
    }
}

/// Everything tungstenite can read from its input now.
fn tungstenite_read_all(ws: &mut tungstenite::WebSocket<Pipe>) -> Vec<tungstenite::Message> {
    let mut got = Vec::new();
    loop {
        match ws.read() {
            Ok(m) => got.push(m),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return got,
            Err(tungstenite::Error::ConnectionClosed) => return got,
            Err(e) => panic!("tungstenite failed on our bytes: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// tungstenite on one end and a `Connection` on the other, in both roles: messages
    /// and pings each way (ours split into frames of `frame` bytes), pongs back, then a
    /// close from tungstenite echoed by us with its code and reason.
    #[test]
    fn conversations_with_tungstenite(
        ours_is_server in any::<bool>(),
        theirs in prop::collection::vec(msg(), 0..6),
        mine in prop::collection::vec(msg(), 0..6),
        frame in prop_oneof![Just(1usize << 20), 1usize..200],
        chunks in prop::collection::vec(1usize..50, 1..4),
    ) {
        let (our_role, their_role) = if ours_is_server {
            (Role::Server, tungstenite::protocol::Role::Client)
        } else {
            (Role::Client, tungstenite::protocol::Role::Server)
        };
        let config = Config::default().max_send_frame_size(frame).max_pending_pongs(usize::MAX);
        let mut us = compare::connection(our_role, config);
        let mut them = tungstenite::WebSocket::from_raw_socket(Pipe::default(), their_role, None);

        // Theirs to us.
        for m in &theirs {
            them.send(tungstenite_message(m)).unwrap();
        }
        them.close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Away,
            reason: "bye".into(),
        })).unwrap();
        let wire = std::mem::take(&mut them.get_mut().output);
        // Our messages go out before we read theirs, so they are sent while open.
        for m in &mine {
            match m {
                Msg::Text(t) => us.send_text(t.as_str()).unwrap(),
                Msg::Binary(b) => us.send_binary(b.as_slice()).unwrap(),
                Msg::Ping(p) => us.send_ping(p).unwrap(),
            }
        }
        let mut received = Vec::new();
        let mut rest = &wire[..];
        for &n in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(n.min(rest.len()));
            us.receive(now);
            while let Some(event) = us.next_event().expect("tungstenite's bytes are valid") {
                received.push(event);
            }
            rest = later;
        }
        let mut want: Vec<Event> = theirs
            .iter()
            .map(|m| match m {
                Msg::Text(t) => Event::Text(t.clone().into()),
                Msg::Binary(b) => Event::Binary(b.clone().into()),
                Msg::Ping(p) => Event::Ping(p.clone().into()),
            })
            .collect();
        want.push(Event::Close(rfc6455::CloseFrame { code: CloseCode::GOING_AWAY, reason: "bye".into() }));
        prop_assert_eq!(&received, &want);

        // Ours to them: our messages, the pongs for their pings, our close echo.
        them.get_mut().input = us.take_outgoing();
        let got = tungstenite_read_all(&mut them);
        let mut want = Vec::new();
        for m in &mine {
            want.push(match m {
                Msg::Text(t) => tungstenite::Message::text(t.clone()),
                Msg::Binary(b) => tungstenite::Message::binary(b.clone()),
                Msg::Ping(p) => tungstenite::Message::Ping(p.clone().into()),
            });
        }
        for m in &theirs {
            if let Msg::Ping(p) = m {
                want.push(tungstenite::Message::Pong(p.clone().into()));
            }
        }
        want.push(tungstenite::Message::Close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Away,
            reason: "bye".into(),
        })));
        prop_assert_eq!(got, want);
    }
}

/// A client of ours against a tungstenite server for a message of every length around
/// the three length forms (§5.2), masked with keys from the connection: tungstenite
/// unmasks each to the bytes we sent.
#[test]
fn every_length_form_reaches_tungstenite_intact() {
    for len in [
        0, 1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 125, 126, 127, 65_535, 65_536, 65_537,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
        let mut us = compare::connection(Role::Client, Config::default());
        us.send_binary(data.as_slice()).unwrap();
        let mut them = tungstenite::WebSocket::from_raw_socket(
            Pipe {
                input: us.take_outgoing(),
                ..Pipe::default()
            },
            tungstenite::protocol::Role::Server,
            None,
        );
        assert_eq!(
            tungstenite_read_all(&mut them),
            vec![tungstenite::Message::binary(data)],
            "length {len}"
        );
    }
}

/// And back: tungstenite as a client (masking with its own random keys) to our server.
#[test]
fn every_length_form_from_tungstenite_arrives_intact() {
    for len in [
        0, 1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 125, 126, 127, 65_535, 65_536, 65_537,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 11 + 5) as u8).collect();
        let mut them = tungstenite::WebSocket::from_raw_socket(
            Pipe::default(),
            tungstenite::protocol::Role::Client,
            None,
        );
        them.send(tungstenite::Message::binary(data.clone()))
            .unwrap();
        let mut us = Connection::server(Config::default());
        us.receive(&them.get_ref().output);
        assert_eq!(
            us.next_event(),
            Ok(Some(Event::Binary(data.into()))),
            "length {len}"
        );
    }
}
