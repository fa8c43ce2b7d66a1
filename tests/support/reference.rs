//! A reference model of RFC 6455's receive side, written for the tests and sharing no
//! code with `src/`: the oracle that property tests and fuzz targets compare the crate
//! against, so that a bug the encoder and the decoder share (a mask that skips a byte on
//! both sides) or a close code the implementation computes wrongly cannot grade itself.
//!
//! It is meant to be obviously right rather than fast: one byte at a time, each rule of
//! §5 and §7 as a plain `if` with its section beside it, no buffering tricks. It knows
//! nothing of `rfc6455` (the fuzz crate includes this file by path, too).
//!
//! When the RFC leaves a choice open, the model makes the choice the crate documents,
//! and says so:
//! - a header is checked as soon as the bytes a rule needs are in: the first two bytes
//!   (opcode, RSV, control-frame rules, mask bit), then the extended length (its
//!   encoding, then the size limit); the message-level rules (continuation, message size)
//!   once the whole header, masking key included, is in. At the same byte, a malformed
//!   header (1002) is reported before a size over a limit (1009);
//! - text is checked as it arrives: the first byte after which the text can no longer be
//!   valid UTF-8 fails the connection (1007), and an unfinished code point at the end of
//!   the message fails it at its last frame (§8.1);
//! - a close frame's payload is checked once the frame is whole;
//! - held automatic pongs: at most `max_pending_pongs` (0 counts as 1), the oldest
//!   dropped (§5.5.3 lets an endpoint answer only the most recent ping), written before
//!   any other frame the endpoint sends.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::collections::VecDeque;

/// Which end receives: a server expects masked frames, a client unmasked ones (§5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Server,
    Client,
}

/// The settings the model honours, as plain numbers.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub max_frame: u64,
    pub max_message: u64,
    pub stream_fragments: bool,
    pub auto_pong: bool,
    pub max_pending_pongs: usize,
}

impl Default for Settings {
    /// The crate's documented defaults (`Config::default`).
    fn default() -> Self {
        Settings {
            max_frame: 16 << 20,
            max_message: 64 << 20,
            stream_fragments: false,
            auto_pong: true,
            max_pending_pongs: 16,
        }
    }
}

/// What the receiving application sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefEvent {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// Status code (1005 for an empty close frame, §7.1.5) and reason.
    Close(u16, Vec<u8>),
    Fragment {
        text: bool,
        data: Vec<u8>,
        first: bool,
        fin: bool,
    },
}

/// A frame the endpoint sends, unmasked: its opcode and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Everything the model says about an input stream that ends after its last byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<RefEvent>,
    /// The close code the connection failed with: 1002, 1007, 1009, or 1006 for an end of
    /// stream before the closing handshake (§7.1.5).
    pub failure: Option<u16>,
    /// The frames the endpoint sends in reply, in order: pongs, the close echo or the
    /// close that fails the connection.
    pub sent: Vec<SentFrame>,
}

// ----- the RFC's tables -----

/// §5.2: the opcodes defined; every other value is reserved.
pub fn opcode_is_defined(op: u8) -> bool {
    matches!(op, 0x0 | 0x1 | 0x2 | 0x8 | 0x9 | 0xA)
}

/// §5.5: control frames have the most significant opcode bit set.
pub fn opcode_is_control(op: u8) -> bool {
    op >= 0x8
}

/// §7.4.1 and §7.4.2: the status codes a close frame may carry. 1000-1003 and 1007-1011
/// are §7.4.1's; 1012-1014 were registered with IANA later (RFC 6455 §11.7's registry);
/// 1004 is reserved, 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
/// control frame"; 0-999 are unused, 1016-2999 reserved for this protocol, 3000-4999 for
/// libraries and applications; above 4999 nothing is defined.
pub fn close_code_may_be_sent(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The close codes of §7.4.1 that answer a failure.
pub const PROTOCOL_ERROR: u16 = 1002;
pub const INVALID_PAYLOAD: u16 = 1007;
pub const MESSAGE_TOO_BIG: u16 = 1009;
pub const NO_STATUS: u16 = 1005;
pub const ABNORMAL: u16 = 1006;

// ----- UTF-8, one byte at a time (Unicode 15, table 3-7) -----

/// Where a UTF-8 decoder is inside a code point: how many continuation bytes are still
/// due, and the range the next one must be in (table 3-7 narrows the second byte after
/// E0, ED, F0 and F4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Utf8State {
    due: u8,
    lo: u8,
    hi: u8,
}

impl Utf8State {
    /// Takes one byte; `false` if the bytes so far cannot begin valid UTF-8.
    pub fn push(&mut self, b: u8) -> bool {
        if self.due > 0 {
            if b < self.lo || b > self.hi {
                return false;
            }
            self.due -= 1;
            (self.lo, self.hi) = (0x80, 0xBF);
            return true;
        }
        let (due, lo, hi) = match b {
            0x00..=0x7F => (0, 0, 0),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            // 80-C1 (a continuation byte without a lead, or an overlong lead) and F5-FF.
            _ => return false,
        };
        *self = Utf8State { due, lo, hi };
        true
    }

    /// Whether the bytes so far end between code points.
    pub fn at_boundary(&self) -> bool {
        self.due == 0
    }
}

/// Whether `bytes` is valid UTF-8, by the byte-at-a-time decoder.
pub fn utf8_valid(bytes: &[u8]) -> bool {
    let mut state = Utf8State::default();
    bytes.iter().all(|&b| state.push(b)) && state.at_boundary()
}

// ----- encoding frames (for building inputs) -----

/// The bytes of one frame: first byte `b0` (FIN, RSV1-3, opcode), `payload` masked with
/// `key` if given, the length announced as `len` (normally `payload.len()`) in the
/// encoding `form` picks: `None` for the minimal one (§5.2), `Some(7 | 16 | 64)` to force
/// one.
pub fn encode(b0: u8, payload: &[u8], key: Option<[u8; 4]>, len: u64, form: Option<u8>) -> Vec<u8> {
    let form = form.unwrap_or(match len {
        0..=125 => 7,
        126..=0xFFFF => 16,
        _ => 64,
    });
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    let mut out = vec![b0];
    match form {
        7 => out.push(mask_bit | (len & 0x7F) as u8),
        16 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&[(len >> 8) as u8, len as u8]);
        }
        _ => {
            out.push(mask_bit | 127);
            for shift in (0..8).rev() {
                out.push((len >> (8 * shift)) as u8);
            }
        }
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    for (i, &b) in payload.iter().enumerate() {
        out.push(match key {
            Some(key) => b ^ key[i % 4],
            None => b,
        });
    }
    out
}

/// A final frame with opcode `op` and `payload`, minimal length, masked with `key`.
pub fn frame(op: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    encode(0x80 | op, payload, key, payload.len() as u64, None)
}

// ----- decoding frames -----

/// A whole frame, as the byte-at-a-time decoder read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefFrame {
    pub fin: bool,
    /// RSV1-3 as the three bits `0b_rsv1_rsv2_rsv3`.
    pub rsv: u8,
    pub opcode: u8,
    pub key: Option<[u8; 4]>,
    /// Unmasked.
    pub payload: Vec<u8>,
    /// Header and payload bytes.
    pub wire_len: usize,
}

/// The header of the frame being read, field by field.
#[derive(Debug, Clone, Default)]
struct Head {
    bytes: Vec<u8>,
    /// Known after two bytes: how many bytes the header has (2 to 14).
    len: usize,
    payload_len: u64,
}

/// Why a header or a frame is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A rule of §5 is broken (1002).
    Malformed,
    /// Over the configured frame limit (1009).
    TooBig,
}

/// The frame-level rules, as a decoder of one frame at a time fed one byte at a time.
#[derive(Debug, Clone)]
pub struct FrameReader {
    end: End,
    /// RSV bits allowed (a negotiated extension), as `0b_rsv1_rsv2_rsv3`.
    allowed_rsv: u8,
    max_frame: u64,
    head: Head,
    payload: Vec<u8>,
}

/// What one byte did to the frame being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// More bytes are needed.
    More,
    /// The header is now whole (the frame may still have payload to come).
    Header {
        fin: bool,
        opcode: u8,
        rsv: u8,
        payload_len: u64,
    },
    /// A payload byte (unmasked) arrived; the frame is not whole yet.
    Payload(u8),
    /// The frame is whole.
    Frame(RefFrame),
    Refused(Refusal),
}

impl FrameReader {
    pub fn new(end: End, allowed_rsv: u8, max_frame: u64) -> Self {
        FrameReader {
            end,
            allowed_rsv,
            max_frame,
            head: Head::default(),
            payload: Vec::new(),
        }
    }

    fn key(&self) -> Option<[u8; 4]> {
        let masked = self.head.bytes[1] & 0x80 != 0;
        masked.then(|| {
            let k = &self.head.bytes[self.head.len - 4..self.head.len];
            [k[0], k[1], k[2], k[3]]
        })
    }

    fn frame(&mut self) -> RefFrame {
        let b0 = self.head.bytes[0];
        let frame = RefFrame {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0b111,
            opcode: b0 & 0x0F,
            key: self.key(),
            payload: std::mem::take(&mut self.payload),
            wire_len: self.head.len + self.head.payload_len as usize,
        };
        self.head = Head::default();
        frame
    }

    /// Takes one byte of the stream.
    pub fn push(&mut self, b: u8) -> Read {
        let head = &mut self.head;
        if head.len == 0 || head.bytes.len() < head.len {
            head.bytes.push(b);
            return self.header_byte();
        }
        // A payload byte: §5.3, octet i XOR masking-key octet i MOD 4.
        let i = self.payload.len();
        let b = match self.key() {
            Some(key) => b ^ key[i % 4],
            None => b,
        };
        self.payload.push(b);
        if self.payload.len() as u64 == self.head.payload_len {
            Read::Frame(self.frame())
        } else {
            Read::Payload(b)
        }
    }

    fn header_byte(&mut self) -> Read {
        let bytes = &self.head.bytes;
        let n = bytes.len();
        if n < 2 {
            return Read::More;
        }
        let (b0, b1) = (bytes[0], bytes[1]);
        let (fin, rsv, opcode) = (b0 & 0x80 != 0, (b0 >> 4) & 0b111, b0 & 0x0F);
        let (masked, len7) = (b1 & 0x80 != 0, b1 & 0x7F);
        if n == 2 {
            // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail
            // the WebSocket Connection_."
            if !opcode_is_defined(opcode) {
                return Read::Refused(Refusal::Malformed);
            }
            // §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated".
            if rsv & !self.allowed_rsv != 0 {
                return Read::Refused(Refusal::Malformed);
            }
            // §5.5: control frames "MUST have a payload length of 125 bytes or less and
            // MUST NOT be fragmented".
            if opcode_is_control(opcode) && (!fin || len7 > 125) {
                return Read::Refused(Refusal::Malformed);
            }
            // §5.1: client-to-server frames are masked, server-to-client ones are not.
            if masked != (self.end == End::Server) {
                return Read::Refused(Refusal::Malformed);
            }
            let extended = match len7 {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            self.head.len = 2 + extended + if masked { 4 } else { 0 };
        }
        let extended_end = match len7 {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        if n == extended_end {
            let len = if extended_end == 2 {
                u64::from(len7)
            } else {
                bytes[2..extended_end]
                    .iter()
                    .fold(0u64, |len, &b| len << 8 | u64::from(b))
            };
            // §5.2: the 64-bit length's "most significant bit MUST be 0", and "the
            // minimal number of bytes MUST be used to encode the length".
            let minimal = match len7 {
                126 => len >= 126,
                127 => len > 0xFFFF,
                _ => true,
            };
            if len >> 63 != 0 || !minimal {
                return Read::Refused(Refusal::Malformed);
            }
            if len > self.max_frame {
                return Read::Refused(Refusal::TooBig);
            }
            self.head.payload_len = len;
        }
        if n < self.head.len {
            return Read::More;
        }
        // The header is whole; an empty frame is taken next with `take_empty`.
        Read::Header {
            fin,
            opcode,
            rsv,
            payload_len: self.head.payload_len,
        }
    }

    /// After a [`Read::Header`] for an empty payload, the whole (empty) frame.
    pub fn take_empty(&mut self) -> Option<RefFrame> {
        (self.head.len != 0 && self.head.bytes.len() == self.head.len && self.head.payload_len == 0)
            .then(|| self.frame())
    }
}

/// Decodes a whole stream of frames that `end` receives, with no limit and no RSV bit
/// allowed: the frames, and the bytes left over after the last whole frame, or `Err`
/// at the first malformed frame.
pub fn decode_all(end: End, bytes: &[u8]) -> Result<(Vec<RefFrame>, usize), Refusal> {
    let mut reader = FrameReader::new(end, 0, u64::MAX >> 1);
    let mut frames = Vec::new();
    let mut consumed = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match reader.push(b) {
            Read::Refused(why) => return Err(why),
            Read::Frame(frame) => {
                frames.push(frame);
                consumed = i + 1;
            }
            Read::Header { .. } => {
                if let Some(frame) = reader.take_empty() {
                    frames.push(frame);
                    consumed = i + 1;
                }
            }
            Read::More | Read::Payload(_) => {}
        }
    }
    Ok((frames, bytes.len() - consumed))
}

// ----- the connection -----

/// The message being received, between its first and last frame.
#[derive(Debug, Clone)]
struct Message {
    text: bool,
    /// Payload bytes received so far (what the message limit counts).
    size: u64,
    data: Vec<u8>,
    utf8: Utf8State,
}

/// The receive side of a connection, fed one byte at a time.
#[derive(Debug, Clone)]
pub struct Receiver {
    settings: Settings,
    reader: FrameReader,
    /// The payload of the frame being read is text, to be checked as it arrives.
    frame_is_text: bool,
    /// The frame being read is the first of its message.
    frame_first: bool,
    message: Option<Message>,
    /// Pongs owed and not yet written (§5.5.2), oldest first.
    held_pongs: VecDeque<Vec<u8>>,
    done: bool,
    pub outcome: Outcome,
}

impl Receiver {
    pub fn new(end: End, settings: Settings) -> Self {
        Receiver {
            settings,
            reader: FrameReader::new(end, 0, settings.max_frame),
            frame_is_text: false,
            frame_first: false,
            message: None,
            held_pongs: VecDeque::new(),
            done: false,
            outcome: Outcome {
                events: Vec::new(),
                failure: None,
                sent: Vec::new(),
            },
        }
    }

    /// Whether the connection still reads: not closed, not failed.
    pub fn is_open(&self) -> bool {
        !self.done
    }

    /// §7.1.7: _Fail the WebSocket Connection_ with `code`: the pongs owed first, then a
    /// close frame with the code, unless it is one that may not be sent (1006).
    fn fail(&mut self, code: u16) {
        self.flush_pongs();
        if close_code_may_be_sent(code) {
            self.send(0x8, code.to_be_bytes().to_vec());
        }
        self.outcome.failure = Some(code);
        self.done = true;
    }

    fn flush_pongs(&mut self) {
        while let Some(payload) = self.held_pongs.pop_front() {
            self.outcome.sent.push(SentFrame {
                opcode: 0xA,
                payload,
            });
        }
    }

    fn send(&mut self, opcode: u8, payload: Vec<u8>) {
        self.flush_pongs();
        self.outcome.sent.push(SentFrame { opcode, payload });
    }

    /// The written output so far (held pongs go out when the output is taken).
    pub fn take_output(&mut self) {
        self.flush_pongs();
    }

    /// Takes one byte from the transport.
    pub fn push(&mut self, b: u8) {
        if self.done {
            return;
        }
        match self.reader.push(b) {
            Read::More => {}
            Read::Refused(Refusal::Malformed) => self.fail(PROTOCOL_ERROR),
            Read::Refused(Refusal::TooBig) => self.fail(MESSAGE_TOO_BIG),
            Read::Header {
                opcode,
                payload_len,
                ..
            } => {
                if let Err(code) = self.on_header(opcode, payload_len) {
                    return self.fail(code);
                }
                if let Some(frame) = self.reader.take_empty() {
                    self.on_frame(frame);
                }
            }
            Read::Payload(b) => {
                if let Err(code) = self.on_payload_byte(b) {
                    self.fail(code);
                }
            }
            Read::Frame(frame) => {
                let last = *frame.payload.last().expect("a payload byte completed it");
                if let Err(code) = self.on_payload_byte(last) {
                    return self.fail(code);
                }
                self.on_frame(frame);
            }
        }
    }

    /// The end of the stream (§7.1.5: without a closing handshake, the close code is
    /// 1006, and nothing can be sent).
    pub fn end(&mut self) {
        self.take_output();
        if !self.done {
            self.outcome.failure = Some(ABNORMAL);
            self.done = true;
        }
    }

    /// Runs a whole input through a fresh receiver and ends the stream.
    pub fn run(end: End, settings: Settings, input: &[u8]) -> Outcome {
        let mut receiver = Receiver::new(end, settings);
        for &b in input {
            receiver.push(b);
        }
        receiver.end();
        receiver.outcome
    }

    /// The message-level rules, once a header is whole.
    fn on_header(&mut self, opcode: u8, payload_len: u64) -> Result<(), u16> {
        self.frame_is_text = false;
        if opcode_is_control(opcode) {
            return Ok(());
        }
        match (opcode, &self.message) {
            // §5.4: a continuation frame continues a message begun with FIN clear ...
            (0x0, None) => return Err(PROTOCOL_ERROR),
            // ... and "the fragments of one message MUST NOT be interleaved" with another.
            (0x1 | 0x2, Some(_)) => return Err(PROTOCOL_ERROR),
            _ => {}
        }
        self.frame_first = opcode != 0x0;
        if self.frame_first {
            self.message = Some(Message {
                text: opcode == 0x1,
                size: 0,
                data: Vec::new(),
                utf8: Utf8State::default(),
            });
        }
        let message = self.message.as_mut().expect("a message in progress");
        self.frame_is_text = message.text;
        if !self.settings.stream_fragments
            && message.size.saturating_add(payload_len) > self.settings.max_message
        {
            return Err(MESSAGE_TOO_BIG);
        }
        message.size += payload_len;
        Ok(())
    }

    /// A payload byte of the frame being read; text is checked as it arrives.
    fn on_payload_byte(&mut self, b: u8) -> Result<(), u16> {
        if let (true, Some(message)) = (self.frame_is_text, self.message.as_mut()) {
            // §8.1: fail as soon as the text cannot be valid UTF-8.
            if !message.utf8.push(b) {
                return Err(INVALID_PAYLOAD);
            }
        }
        Ok(())
    }

    fn on_frame(&mut self, frame: RefFrame) {
        match frame.opcode {
            0x9 => {
                self.outcome
                    .events
                    .push(RefEvent::Ping(frame.payload.clone()));
                // §5.5.2: a ping is answered by a pong with the same payload.
                if self.settings.auto_pong {
                    if self.held_pongs.len() >= self.settings.max_pending_pongs.max(1) {
                        self.held_pongs.pop_front();
                    }
                    self.held_pongs.push_back(frame.payload);
                }
            }
            0xA => self.outcome.events.push(RefEvent::Pong(frame.payload)),
            0x8 => self.on_close(frame.payload),
            _ => self.on_data(frame),
        }
    }

    /// §5.5.1: the close payload is empty, or a code and a UTF-8 reason; the close is
    /// echoed with the same payload and nothing more is read.
    fn on_close(&mut self, payload: Vec<u8>) {
        let code = match payload.len() {
            0 => NO_STATUS,
            1 => return self.fail(PROTOCOL_ERROR),
            _ => u16::from_be_bytes([payload[0], payload[1]]),
        };
        if payload.len() >= 2 && !close_code_may_be_sent(code) {
            return self.fail(PROTOCOL_ERROR);
        }
        if payload.len() > 2 && !utf8_valid(&payload[2..]) {
            return self.fail(INVALID_PAYLOAD);
        }
        let reason = payload.get(2..).unwrap_or_default().to_vec();
        self.outcome.events.push(RefEvent::Close(code, reason));
        self.send(0x8, payload);
        self.done = true;
    }

    fn on_data(&mut self, frame: RefFrame) {
        let first = self.frame_first;
        let mut message = self.message.take().expect("a message in progress");
        if frame.fin && message.text && !message.utf8.at_boundary() {
            // §8.1: the message ended inside a code point.
            return self.fail(INVALID_PAYLOAD);
        }
        if self.settings.stream_fragments {
            self.outcome.events.push(RefEvent::Fragment {
                text: message.text,
                data: frame.payload,
                first,
                fin: frame.fin,
            });
        } else {
            message.data.extend_from_slice(&frame.payload);
            if frame.fin {
                self.outcome.events.push(if message.text {
                    RefEvent::Text(message.data)
                } else {
                    RefEvent::Binary(message.data)
                });
                return;
            }
        }
        if !frame.fin {
            self.message = Some(message);
        }
    }
}
