//! The conformance harness: builds the bytes a peer sends, drives a [`Connection`] the way
//! the echo server (or echo client) that Autobahn|Testsuite tests does, and checks the
//! events, the error and the exact outgoing bytes under several chunkings of the input.

use std::fmt;

use bytes::Bytes;
use rfc6455::{
    Config, Connection, ConnectionState, Event, MessageKind, ProtocolError, Role, UsageError,
};

// ----- opcodes and first bytes -----

pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;
pub const FIN: u8 = 0x80;

// ----- deterministic masking keys -----

/// A deterministic byte stream: the masking keys of a peer (in its input) or of our client
/// (passed to `Connection::client_with_random`, so its outgoing bytes are exact).
#[derive(Debug, Clone)]
pub struct KeyStream {
    seed: u64,
    pos: u64,
}

impl KeyStream {
    /// The keys our client uses; `client()` below gives the same ones to the connection.
    pub fn ours() -> Self {
        KeyStream {
            seed: 0x0BAD_5EED,
            pos: 0,
        }
    }

    /// The keys a masking peer (Autobahn's fuzzing client) uses.
    pub fn peer() -> Self {
        KeyStream {
            seed: 0xA070_BA11,
            pos: 0,
        }
    }

    pub fn next_byte(&mut self) -> u8 {
        // splitmix64 of (seed, position): every key differs, some bytes are zero.
        let mut z = self.seed ^ self.pos.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.pos += 1;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u8
    }

    pub fn next_key(&mut self) -> [u8; 4] {
        [
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
        ]
    }
}

/// A connection for `role`; a client gets the masking keys of [`KeyStream::ours`].
pub fn connection(role: Role, config: Config) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => {
            let mut keys = KeyStream::ours();
            Connection::client_with_random(config, move |buf: &mut [u8]| {
                for b in buf {
                    *b = keys.next_byte();
                }
            })
        }
    }
}

// ----- building frames -----

/// The bytes one endpoint puts on the wire, frame by frame (§5.2), masked with fresh keys
/// (§5.3) when `keys` is set.
#[derive(Debug, Clone)]
pub struct Wire {
    keys: Option<KeyStream>,
    pub bytes: Vec<u8>,
}

impl Wire {
    /// What the peer of `role` sends: masked if we are the server (§5.1).
    pub fn peer_of(role: Role) -> Self {
        Wire {
            keys: (role == Role::Server).then(KeyStream::peer),
            bytes: Vec::new(),
        }
    }

    /// What an endpoint of `role` sends, with the keys our test client uses.
    pub fn sent_by(role: Role) -> Self {
        Wire {
            keys: (role == Role::Client).then(KeyStream::ours),
            bytes: Vec::new(),
        }
    }

    /// A frame with first byte `b0` (FIN, RSV1-3, opcode) and `payload`, its length in the
    /// minimal encoding.
    pub fn frame(&mut self, b0: u8, payload: &[u8]) -> &mut Self {
        let len = payload.len();
        self.frame_with_len(b0, payload, len as u64)
    }

    /// A frame announcing `len` (which may differ from the payload actually written).
    pub fn frame_with_len(&mut self, b0: u8, payload: &[u8], len: u64) -> &mut Self {
        let mask_bit = if self.keys.is_some() { 0x80 } else { 0 };
        self.bytes.push(b0);
        match len {
            0..=125 => self.bytes.push(mask_bit | len as u8),
            126..=0xFFFF => {
                self.bytes.push(mask_bit | 126);
                self.bytes.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                self.bytes.push(mask_bit | 127);
                self.bytes.extend_from_slice(&len.to_be_bytes());
            }
        }
        let start = self.bytes.len();
        match &mut self.keys {
            Some(keys) => {
                let key = keys.next_key();
                self.bytes.extend_from_slice(&key);
                let body = start + 4;
                self.bytes.extend_from_slice(payload);
                for (i, b) in self.bytes[body..].iter_mut().enumerate() {
                    *b ^= key[i & 3];
                }
            }
            None => self.bytes.extend_from_slice(payload),
        }
        self
    }

    pub fn text(&mut self, payload: impl AsRef<[u8]>) -> &mut Self {
        self.frame(FIN | TEXT, payload.as_ref())
    }

    pub fn binary(&mut self, payload: impl AsRef<[u8]>) -> &mut Self {
        self.frame(FIN | BINARY, payload.as_ref())
    }

    pub fn ping(&mut self, payload: impl AsRef<[u8]>) -> &mut Self {
        self.frame(FIN | PING, payload.as_ref())
    }

    pub fn pong(&mut self, payload: impl AsRef<[u8]>) -> &mut Self {
        self.frame(FIN | PONG, payload.as_ref())
    }

    /// A close frame with a status code and a reason (§5.5.1).
    pub fn close(&mut self, code: u16, reason: impl AsRef<[u8]>) -> &mut Self {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_ref());
        self.frame(FIN | CLOSE, &payload)
    }

    /// A close frame with no body.
    pub fn close_empty(&mut self) -> &mut Self {
        self.frame(FIN | CLOSE, &[])
    }

    /// A message of `opcode` split into frames of at most `max` bytes (§5.4), as
    /// `Connection::send_*` does; an empty message is one empty frame.
    pub fn message(&mut self, opcode: u8, payload: &[u8], max: usize) -> &mut Self {
        if payload.is_empty() {
            return self.frame(FIN | opcode, &[]);
        }
        let chunks: Vec<&[u8]> = payload.chunks(max.max(1)).collect();
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let op = if i == 0 { opcode } else { CONT };
            let fin = if i == last { FIN } else { 0 };
            self.frame(fin | op, chunk);
        }
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

// ----- events -----

/// An event reduced to plain data, for comparison and short failure messages.
#[derive(Clone, PartialEq, Eq)]
pub enum Ev {
    Text(Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    /// Code (1005 for an empty close frame) and reason.
    Close(u16, Bytes),
    Fragment {
        kind: MessageKind,
        data: Bytes,
        first: bool,
        fin: bool,
    },
}

impl Ev {
    pub fn text(p: impl AsRef<[u8]>) -> Ev {
        Ev::Text(Bytes::copy_from_slice(p.as_ref()))
    }
    pub fn binary(p: impl AsRef<[u8]>) -> Ev {
        Ev::Binary(Bytes::copy_from_slice(p.as_ref()))
    }
    pub fn ping(p: impl AsRef<[u8]>) -> Ev {
        Ev::Ping(Bytes::copy_from_slice(p.as_ref()))
    }
    pub fn pong(p: impl AsRef<[u8]>) -> Ev {
        Ev::Pong(Bytes::copy_from_slice(p.as_ref()))
    }
    pub fn close(code: u16, reason: impl AsRef<[u8]>) -> Ev {
        Ev::Close(code, Bytes::copy_from_slice(reason.as_ref()))
    }
    pub fn fragment(kind: MessageKind, data: impl AsRef<[u8]>, first: bool, fin: bool) -> Ev {
        Ev::Fragment {
            kind,
            data: Bytes::copy_from_slice(data.as_ref()),
            first,
            fin,
        }
    }

    pub fn from_event(event: Event) -> Ev {
        match event {
            Event::Text(t) => Ev::Text(t.into_bytes()),
            Event::Binary(b) => Ev::Binary(b),
            Event::Ping(p) => Ev::Ping(p),
            Event::Pong(p) => Ev::Pong(p),
            Event::Close(c) => Ev::Close(c.code.0, c.reason.into_bytes()),
            Event::Fragment(f) => Ev::Fragment {
                kind: f.kind,
                data: f.data,
                first: f.first,
                fin: f.fin,
            },
            other => panic!("unknown event {other:?}"),
        }
    }
}

/// Payloads shown in full when short, summarised when long.
pub struct Short<'a>(pub &'a [u8]);

impl fmt::Debug for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= 48 {
            match std::str::from_utf8(self.0) {
                Ok(s) => write!(f, "{s:?}"),
                Err(_) => write!(f, "{:02x?}", self.0),
            }
        } else {
            let sum = self
                .0
                .iter()
                .fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            write!(
                f,
                "<{} bytes, {:02x?}.., sum {sum:08x}>",
                self.0.len(),
                &self.0[..8]
            )
        }
    }
}

impl fmt::Debug for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ev::Text(p) => write!(f, "Text({:?})", Short(p)),
            Ev::Binary(p) => write!(f, "Binary({:?})", Short(p)),
            Ev::Ping(p) => write!(f, "Ping({:?})", Short(p)),
            Ev::Pong(p) => write!(f, "Pong({:?})", Short(p)),
            Ev::Close(c, r) => write!(f, "Close({c}, {:?})", Short(r)),
            Ev::Fragment {
                kind,
                data,
                first,
                fin,
            } => write!(
                f,
                "Fragment({kind:?}, {:?}, first={first}, fin={fin})",
                Short(data)
            ),
        }
    }
}

// ----- chunking -----

/// Whether `RFC6455_QUICK_CONFORMANCE` is set: the mutation runs of `.ci/mutants`, where
/// this suite runs once per mutant, take the large cases (Autobahn 9.x) scaled down and
/// cut fewer ways. `cargo test` runs them in full.
pub fn quick() -> bool {
    std::env::var_os("RFC6455_QUICK_CONFORMANCE").is_some()
}

/// How the input is handed to `receive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    Whole,
    /// Fixed-size pieces (1: byte by byte).
    Fixed(usize),
    /// Pieces of random sizes in `1..=max`, from a fixed seed.
    Random {
        seed: u64,
        max: usize,
    },
}

impl Chunking {
    /// The chunkings every case is run under: whole, byte by byte and fixed random splits.
    /// Inputs over 256 KiB skip byte by byte (millions of calls in a debug build) and get
    /// 997-byte pieces and coarser random splits instead.
    ///
    /// In [`quick`] runs the line is 4 KiB instead of 256 KiB: cutting
    /// every case up to 4 KiB at every byte still reaches each resumption point of the
    /// decoder, and the byte-by-byte runs of the larger cases are most of the suite's
    /// time.
    pub fn standard(len: usize) -> Vec<Chunking> {
        let byte_by_byte_up_to = if quick() { 4 << 10 } else { 256 << 10 };
        if len <= byte_by_byte_up_to {
            vec![
                Chunking::Whole,
                Chunking::Fixed(1),
                Chunking::Random { seed: 1, max: 3 },
                Chunking::Random { seed: 2, max: 17 },
                Chunking::Random { seed: 3, max: 300 },
            ]
        } else {
            vec![
                Chunking::Whole,
                Chunking::Fixed(997),
                Chunking::Random {
                    seed: 4,
                    max: 256 << 10,
                },
            ]
        }
    }

    pub fn split(self, input: &[u8]) -> Vec<&[u8]> {
        match self {
            Chunking::Whole => vec![input],
            Chunking::Fixed(n) => input.chunks(n.max(1)).collect(),
            Chunking::Random { seed, max } => {
                let mut state = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
                let mut rest = input;
                let mut out = Vec::new();
                while !rest.is_empty() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let n = (1 + (state % max.max(1) as u64) as usize).min(rest.len());
                    let (head, tail) = rest.split_at(n);
                    out.push(head);
                    rest = tail;
                }
                out
            }
        }
    }
}

// ----- driving a connection -----

/// What came out of a connection.
#[derive(Debug, Default)]
pub struct Run {
    pub events: Vec<Ev>,
    pub error: Option<ProtocolError>,
    /// Index of the chunk whose `receive` led to the error.
    pub error_chunk: Option<usize>,
    pub output: Vec<u8>,
}

/// The echo endpoint Autobahn tests: echoes text as text and binary as binary. A send
/// refused because the connection is closing is dropped, as a real echo server would.
pub fn echo(conn: &mut Connection, event: &Event) {
    let result = match event {
        Event::Text(t) => conn.send_text(t),
        Event::Binary(b) => conn.send_binary(b),
        _ => Ok(()),
    };
    match result {
        Ok(()) | Err(UsageError::Closed) => {}
        Err(e) => panic!("echo failed: {e:?}"),
    }
}

/// Calls `next_event` until it returns `Ok(None)`, echoing; after an error, checks that
/// nothing more comes out.
pub fn drain(conn: &mut Connection, run: &mut Run, chunk: usize, echo_data: bool) {
    loop {
        match conn.next_event() {
            Ok(Some(event)) => {
                assert!(
                    run.error.is_none(),
                    "event {event:?} after the error {:?}",
                    run.error
                );
                if echo_data {
                    echo(conn, &event);
                }
                run.events.push(Ev::from_event(event));
            }
            Ok(None) => return,
            Err(e) => {
                assert!(
                    run.error.is_none(),
                    "second error {e:?} after {:?}",
                    run.error
                );
                run.error = Some(e);
                run.error_chunk = Some(chunk);
            }
        }
    }
}

/// Feeds `chunks` one `receive` at a time, draining events (and echoing when `echo_data`)
/// and taking the outgoing bytes after each; then the end of stream if `eof`.
pub fn drive(conn: &mut Connection, chunks: &[&[u8]], eof: bool, echo_data: bool) -> Run {
    let mut run = Run::default();
    for (i, chunk) in chunks.iter().enumerate() {
        conn.receive(chunk);
        drain(conn, &mut run, i, echo_data);
        conn.take_outgoing_into(&mut run.output);
    }
    if eof {
        conn.receive_eof();
        drain(conn, &mut run, chunks.len(), echo_data);
        conn.take_outgoing_into(&mut run.output);
    }
    // Whatever came before, asking again yields nothing new.
    drain(conn, &mut run, chunks.len(), echo_data);
    assert!(
        conn.take_outgoing().is_empty(),
        "bytes queued after the last take"
    );
    run
}

/// Panics with the first differing offset when two byte strings differ.
pub fn assert_bytes_eq(what: &str, got: &[u8], want: &[u8]) {
    if got == want {
        return;
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let window = |b: &[u8]| b[at.saturating_sub(8).min(b.len())..(at + 16).min(b.len())].to_vec();
    panic!(
        "{what}: {} bytes, expected {}; first difference at {at}\n  got:  {:02x?}\n  want: {:02x?}",
        got.len(),
        want.len(),
        window(got),
        window(want),
    );
}

// ----- the close codes of the RFC -----

/// The close code each failure calls for, from the RFC's rules (§7.4.1) rather than from
/// [`ProtocolError::close_code`], so that the cases check the implementation's codes
/// instead of repeating them. A failure this table does not know fails the test: add it
/// here, with the rule it comes from.
pub fn rfc_close_code(error: &ProtocolError) -> u16 {
    match error {
        // §7.4.1: 1007, "data within a message that was not consistent with the type of
        // the message (e.g., non-UTF-8 [RFC3629] data within a text message)" (§8.1), and
        // a close reason that is not UTF-8 (§5.5.1: "the data MUST be UTF-8").
        ProtocolError::InvalidUtf8 | ProtocolError::InvalidCloseReason => 1007,
        // §7.4.1: 1009, "a message that is too big for it to process".
        ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. } => 1009,
        // §7.1.5: the transport closed without a close frame: 1006, never sent (§7.4.1).
        ProtocolError::UnexpectedEof => 1006,
        // §7.4.1: 1002, "a protocol error": the framing rules of §5 and the close codes
        // of §7.4.
        ProtocolError::ReservedOpcode(_)
        | ProtocolError::ReservedBitsSet(_)
        | ProtocolError::LengthTopBitSet
        | ProtocolError::NonMinimalLength
        | ProtocolError::ControlFrameTooLarge
        | ProtocolError::FragmentedControlFrame
        | ProtocolError::UnmaskedFrameFromClient
        | ProtocolError::MaskedFrameFromServer
        | ProtocolError::CloseFrameOneByte
        | ProtocolError::InvalidCloseCode(_)
        | ProtocolError::UnexpectedContinuation
        | ProtocolError::ExpectedContinuation => 1002,
        // RFC 7692 §8.1 fails the connection on data the extension cannot decode and names
        // no code; a protocol error is the general one.
        ProtocolError::Extension(_) => 1002,
        other => panic!("no close code in the table for {other:?}: add it with its rule"),
    }
}

// ----- cases -----

/// One Autobahn-style case: what the peer sends and what the echo endpoint must do.
///
/// The expected outgoing bytes follow from the expected events, as the echo endpoint
/// produces them: each text or binary message echoed in
/// frames of `max_send_frame_size`, each ping answered by a pong with its payload
/// (§5.5.2), the peer's close echoed with its code and reason (§5.5.1), and a protocol
/// error answered by a close with its code (§7.1.7, §7.4.1) unless a close was already
/// exchanged. Nothing is sent after the close.
pub struct Case {
    pub id: String,
    pub role: Role,
    pub config: Config,
    pub input: Wire,
    pub events: Vec<Ev>,
    pub error: Option<ProtocolError>,
    /// The close code of the failure, from [`rfc_close_code`].
    pub close_code: Option<u16>,
    pub eof: bool,
    pub chunkings: Option<Vec<Chunking>>,
}

impl Case {
    pub fn new(id: &str, role: Role) -> Case {
        Case {
            id: format!("{id} ({role:?})"),
            role,
            config: Config::default(),
            input: Wire::peer_of(role),
            events: Vec::new(),
            error: None,
            close_code: None,
            eof: false,
            chunkings: None,
        }
    }

    pub fn config(mut self, config: Config) -> Case {
        self.config = config;
        self
    }

    /// Appends frames the peer sends.
    pub fn send(mut self, build: impl FnOnce(&mut Wire)) -> Case {
        build(&mut self.input);
        self
    }

    pub fn expect(mut self, events: impl IntoIterator<Item = Ev>) -> Case {
        self.events.extend(events);
        self
    }

    /// The peer closes normally (code 1000, as Autobahn does at the end of a passing
    /// case) and the close is echoed.
    pub fn then_close(self) -> Case {
        self.send(|w| {
            w.close(1000, "");
        })
        .expect([Ev::close(1000, "")])
    }

    /// The peer breaks a rule: the connection fails with `error`, and the close frame it
    /// sends carries the code the RFC gives that failure ([`rfc_close_code`]), not the
    /// one the implementation computes.
    pub fn fails(mut self, error: ProtocolError) -> Case {
        self.close_code = Some(rfc_close_code(&error));
        self.error = Some(error);
        self
    }

    pub fn eof(mut self) -> Case {
        self.eof = true;
        self
    }

    pub fn chunkings(mut self, chunkings: Vec<Chunking>) -> Case {
        self.chunkings = Some(chunkings);
        self
    }

    /// The bytes the echo endpoint must send, derived from the expected events.
    pub fn echo_output(&self) -> Vec<u8> {
        let mut w = Wire::sent_by(self.role);
        let mut open = true;
        for ev in &self.events {
            match ev {
                Ev::Text(p) if open => {
                    w.message(TEXT, p, self.config.max_send_frame_size);
                }
                Ev::Binary(p) if open => {
                    w.message(BINARY, p, self.config.max_send_frame_size);
                }
                Ev::Ping(p) if open && self.config.auto_pong => {
                    w.frame(FIN | PONG, p);
                }
                Ev::Close(code, reason) => {
                    if open {
                        if *code == 1005 {
                            w.close_empty();
                        } else {
                            w.close(*code, reason);
                        }
                    }
                    open = false;
                }
                _ => {}
            }
        }
        if let Some(code) = self.close_code {
            // §7.4.1: 1006 "MUST NOT be set as a status code in a Close control frame".
            if open && code != 1006 {
                w.close(code, "");
            }
        }
        w.take()
    }

    /// Runs the case under each chunking and checks events, error, outgoing bytes and the
    /// final state.
    pub fn check(self) {
        let input = self.input.bytes.clone();
        let output = self.echo_output();
        let chunkings = self
            .chunkings
            .clone()
            .unwrap_or_else(|| Chunking::standard(input.len()));
        let final_state =
            if self.error.is_some() || self.events.iter().any(|e| matches!(e, Ev::Close(..))) {
                ConnectionState::Closed
            } else {
                ConnectionState::Open
            };
        for chunking in chunkings {
            let what = format!("case {} under {chunking:?}", self.id);
            let mut conn = connection(self.role, self.config);
            let run = drive(&mut conn, &chunking.split(&input), self.eof, true);
            assert_eq!(run.events, self.events, "{what}: events");
            assert_eq!(
                run.error, self.error,
                "{what}: error (events {:?})",
                run.events
            );
            assert_eq!(
                run.error.map(|e| e.close_code().0),
                self.close_code,
                "{what}: the error's close code"
            );
            assert_bytes_eq(&format!("{what}: outgoing bytes"), &run.output, &output);
            assert_eq!(conn.state(), final_state, "{what}: final state");
            if self.error.is_some() {
                assert!(
                    conn.should_close_transport(),
                    "{what}: should close transport"
                );
            }
        }
    }
}

/// Runs `case` for both roles: our server fed masked frames (Autobahn's fuzzing client)
/// and our client fed unmasked ones (Autobahn's fuzzing server).
pub fn both(case: impl Fn(Role) -> Case) {
    for role in [Role::Server, Role::Client] {
        case(role).check();
    }
}

/// A payload of `len` bytes cycling through `pattern`.
pub fn repeat(pattern: &[u8], len: usize) -> Vec<u8> {
    pattern.iter().copied().cycle().take(len).collect()
}
