//! The connection state machine (§5, §6, §7): messages from frames, control frames, the
//! close handshake, limits.

mod event;
mod outgoing;

use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

pub use event::{CloseFrame, ConnectionState, Event, Fragment, MessageKind};
use outgoing::Outgoing;

use crate::frame::{
    COPY_PAYLOADS_UP_TO, FrameDecoder, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, apply_mask,
    encode_close_payload, parse_close_payload,
};
use crate::{
    CloseCode, Config, Error, ProtocolError, RandomSource, Role, UsageError, Utf8Bytes,
    Utf8Validator,
};

/// One end of a WebSocket connection after the opening handshake: bytes in, events out,
/// bytes out.
///
/// # How to drive it
///
/// A connection never does I/O. The caller loops over four kinds of calls:
///
/// 1. **Input**: [`receive`](Connection::receive) the bytes read from the transport (any
///    chunking gives the same events), or read straight into
///    [`receive_buffer`](Connection::receive_buffer); at end of stream,
///    [`receive_eof`](Connection::receive_eof).
/// 2. **Events**: call [`next_event`](Connection::next_event) until it returns
///    `Ok(None)`. A protocol violation by the peer is returned as an error exactly once,
///    with the close frame the RFC demands already queued.
/// 3. **Commands**: [`send_text`](Connection::send_text),
///    [`send_binary`](Connection::send_binary), [`send_ping`](Connection::send_ping),
///    [`send_pong`](Connection::send_pong), [`close`](Connection::close), and the streamed
///    [`begin_message`](Connection::begin_message) /
///    [`send_fragment`](Connection::send_fragment) /
///    [`finish_message`](Connection::finish_message).
/// 4. **Output**: write the bytes from [`take_outgoing`](Connection::take_outgoing) to the
///    transport; close the transport when
///    [`should_close_transport`](Connection::should_close_transport) says so.
///
/// ```
/// use rfc6455::{Config, Connection, Event};
///
/// let mut client = Connection::client(Config::default());
/// let mut server = Connection::server(Config::default());
///
/// client.send_text("hello")?;
/// server.receive(&client.take_outgoing());
/// while let Some(event) = server.next_event()? {
///     if let Event::Text(text) = event {
///         server.send_text(&text)?; // echo
///     }
/// }
/// client.receive(&server.take_outgoing());
/// assert_eq!(client.next_event()?, Some(Event::Text("hello".into())));
/// # Ok::<(), rfc6455::Error>(())
/// ```
///
/// # Time is the caller's
///
/// The connection has no clock. Two timers are worth having, both in the caller:
///
/// - **Close handshake timeout.** After [`close`](Connection::close), wait for the peer's
///   close (an [`Event::Close`]) or the end of stream for a bounded time, then close the
///   transport anyway. Likewise a client whose close handshake is done should wait only so
///   long for the server to close TCP (§7.1.1).
/// - **Idle pings.** When nothing has been received for a while, [`send_ping`]; if no pong
///   (or any other frame) arrives within a deadline, consider the peer gone and close.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rfc6455::{Config, Connection, ConnectionState};
///
/// /// Called from the event loop each time the socket read times out or returns data.
/// fn on_tick(
///     ws: &mut Connection,
///     now: Instant,
///     last_heard: &mut Instant,
///     close_started: &mut Option<Instant>,
/// ) -> Result<(), rfc6455::Error> {
///     if now - *last_heard > Duration::from_secs(30) && ws.state() == ConnectionState::Open {
///         ws.send_ping(b"idle")?;
///         *last_heard = now; // allow another 30 s for the pong
///     }
///     if ws.state() == ConnectionState::Closing {
///         let started = *close_started.get_or_insert(now);
///         if now - started > Duration::from_secs(5) {
///             // The peer never answered our close: give up and close the socket.
///         }
///     }
///     Ok(())
/// }
///
/// let mut ws = Connection::server(Config::default());
/// let (mut last_heard, mut close_started) = (Instant::now(), None);
/// on_tick(&mut ws, Instant::now(), &mut last_heard, &mut close_started)?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
///
/// [`send_ping`]: Connection::send_ping
pub struct Connection {
    role: Role,
    config: Config,
    decoder: FrameDecoder,
    /// Received bytes not yet consumed. When `frame` is set, its header has been consumed
    /// and the first `frame.done` bytes here are its payload, already unmasked (and
    /// validated, for text).
    rx: BytesMut,
    eof: bool,
    frame: Option<PartialFrame>,
    /// The data message being received, between its first and last frame.
    message: Option<InMessage>,
    /// Validates the text message being received, across frames and reads.
    rx_utf8: Utf8Validator,
    state: State,
    out: Outgoing,
    /// The streamed message being sent, between `begin_message` and `finish_message`.
    sending: Option<OutMessage>,
    /// Validates a streamed text message being sent.
    tx_utf8: Utf8Validator,
    /// The source of masking keys; a client's only.
    random: Option<Box<dyn RandomSource + Send>>,
}

/// A frame whose header has been consumed and whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct PartialFrame {
    header: FrameHeader,
    /// The payload length, known to fit in memory.
    len: usize,
    /// Payload bytes received, unmasked and (for text) validated so far.
    done: usize,
    /// Whether the payload is text to validate as it arrives.
    text: bool,
}

#[derive(Debug)]
struct InMessage {
    kind: MessageKind,
    /// The payload so far; unused when fragments are streamed.
    parts: Reassembly,
    /// Bytes received so far, summed over frames.
    size: u64,
}

/// A fragmented message's payload while it is being received.
#[derive(Debug)]
enum Reassembly {
    /// Only the first fragment has arrived: kept as it is, no copy yet.
    First(Bytes),
    /// Later fragments are copied behind the earlier ones.
    Joined(BytesMut),
}

impl Reassembly {
    /// Appends a fragment. The buffer is sized on the second fragment for twice what
    /// has arrived, so that messages of a few similar fragments are copied once, and
    /// never beyond `max` (the message limit) ahead of the bytes received.
    fn push(&mut self, fragment: &[u8], max: u64) {
        match self {
            Reassembly::First(first) => {
                let have = first.len() + fragment.len();
                let room = usize::try_from(max).unwrap_or(usize::MAX);
                let mut joined =
                    BytesMut::with_capacity(have.saturating_mul(2).min(room).max(have));
                joined.extend_from_slice(first);
                joined.extend_from_slice(fragment);
                *self = Reassembly::Joined(joined);
            }
            Reassembly::Joined(joined) => joined.extend_from_slice(fragment),
        }
    }

    fn finish(self) -> Bytes {
        match self {
            Reassembly::First(first) => first,
            Reassembly::Joined(joined) => joined.freeze(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct OutMessage {
    kind: MessageKind,
    first: bool,
}

/// The states of §7. Transitions happen only in `Connection::fail`, `Connection::close`,
/// `Connection::on_close_frame` and `Connection::next_event` (end of stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// We sent a close frame (§7.1.2) and wait for the peer's.
    CloseSent,
    /// Both close frames have been sent and received (§7.1.4 "closing handshake
    /// complete"), or the peer's arrived and we echoed it.
    Closed,
    /// The connection was failed (§7.1.7); the error has been returned.
    Failed,
}

impl Connection {
    /// A connection for the server role: incoming frames must be masked, outgoing ones are
    /// not (§5.1).
    #[must_use]
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, None)
    }

    /// A connection for the client role, masking outgoing frames with keys from the
    /// operating system's random source (§5.3, §10.3).
    #[cfg(feature = "std")]
    #[must_use]
    pub fn client(config: Config) -> Self {
        Self::client_with_random(config, crate::OsRandom::new())
    }

    /// A connection for the client role, masking outgoing frames with keys from `random`.
    ///
    /// §10.3: masking keys "MUST be derived from a strong source of entropy"; a
    /// predictable source is for tests only.
    #[must_use]
    pub fn client_with_random(config: Config, random: impl RandomSource + Send + 'static) -> Self {
        Self::new(Role::Client, config, Some(Box::new(random)))
    }

    fn new(role: Role, config: Config, random: Option<Box<dyn RandomSource + Send>>) -> Self {
        Connection {
            role,
            config,
            decoder: FrameDecoder::new(role).max_payload_len(config.max_frame_size),
            rx: BytesMut::new(),
            eof: false,
            frame: None,
            message: None,
            rx_utf8: Utf8Validator::new(),
            state: State::Open,
            out: Outgoing::default(),
            sending: None,
            tx_utf8: Utf8Validator::new(),
            random,
        }
    }

    // ----- getters -----

    /// This endpoint's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> ConnectionState {
        match self.state {
            State::Open => ConnectionState::Open,
            State::CloseSent => ConnectionState::Closing,
            State::Closed | State::Failed => ConnectionState::Closed,
        }
    }

    /// Bytes queued for the transport and not yet taken, like the browser's
    /// `bufferedAmount`.
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.out.len(self.role.masks_outgoing())
    }

    /// Whether the caller should now close the transport (after writing out what
    /// [`take_outgoing`](Connection::take_outgoing) returns).
    ///
    /// True once the connection failed (§7.1.7), or the close handshake is done and this
    /// is the server, which closes TCP first (§7.1.1), or the transport already ended. A
    /// client whose close handshake is done waits for the server to close; see the
    /// timeouts note on [`Connection`].
    #[must_use]
    pub fn should_close_transport(&self) -> bool {
        match self.state {
            State::Failed => true,
            State::Closed => self.role == Role::Server || self.eof,
            State::Open | State::CloseSent => false,
        }
    }

    // ----- input -----

    /// Hands in bytes read from the transport. Any chunking gives the same events. Bytes
    /// received after the connection is closed or failed are discarded.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.accepts_input() {
            self.rx.extend_from_slice(bytes);
        }
    }

    /// The receive buffer, to read into directly (for example with tokio's
    /// `AsyncReadExt::read_buf`) and save a copy. Append only: bytes already in it are the
    /// connection's.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        if !self.accepts_input() {
            self.rx.clear();
        }
        &mut self.rx
    }

    /// Reports the end of the transport's input stream. If the close handshake was not
    /// completed, the next call to [`next_event`](Connection::next_event), after the
    /// events still buffered, returns [`ProtocolError::UnexpectedEof`] (close code 1006,
    /// §7.1.5).
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    fn accepts_input(&self) -> bool {
        matches!(self.state, State::Open | State::CloseSent)
    }

    // ----- events -----

    /// The next event from the bytes received so far, or `Ok(None)` when more bytes are
    /// needed (or the connection is closed).
    ///
    /// # Errors
    /// [`Error::Protocol`] when the peer violated the protocol. It is returned once: the
    /// close frame with the matching code (§7.4.1) is already queued, and afterwards the
    /// connection is closed, accepts no input and returns `Ok(None)`. Events decoded from
    /// earlier bytes were returned by earlier calls.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if !self.accepts_input() {
                return Ok(None);
            }
            let Some((header, payload)) = self.next_frame().map_err(|e| self.fail(e))? else {
                if self.eof {
                    // §7.1.5: no close frame was received, so the close code is 1006.
                    return Err(self.fail(ProtocolError::UnexpectedEof));
                }
                return Ok(None);
            };
            if let Some(event) = self.on_frame(header, payload).map_err(|e| self.fail(e))? {
                return Ok(Some(event));
            }
        }
    }

    /// The next whole frame, unmasked and with text validated, or `None` if it has not
    /// all arrived. The payload of a partly arrived frame is unmasked and validated as far
    /// as it goes, so invalid text fails the connection before the frame ends (§8.1).
    fn next_frame(&mut self) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        let mut frame = if let Some(frame) = self.frame {
            frame
        } else {
            let Some((header, header_len)) = self.decoder.decode_header(&self.rx)? else {
                return Ok(None);
            };
            let frame = self.start_frame(header)?;
            self.rx.advance(header_len);
            frame
        };
        let available = self.rx.len().min(frame.len);
        if available > frame.done {
            let fresh = &mut self.rx[frame.done..available];
            if let Some(key) = frame.header.mask {
                apply_mask(fresh, key, frame.done & 3);
            }
            if frame.text {
                self.rx_utf8.feed(fresh)?;
            }
            frame.done = available;
        }
        if frame.done < frame.len {
            let missing = frame.len - self.rx.len();
            crate::frame::reserve_for_payload(&mut self.rx, missing);
            self.frame = Some(frame);
            return Ok(None);
        }
        self.frame = None;
        // As `frame::take_payload`, written out here: through the call, LLVM kept this
        // loop's state on the stack and 16-byte messages took 1.5x as long
        // (`benches/connection.rs`, binary_16B).
        let payload = if frame.len <= COPY_PAYLOADS_UP_TO {
            let payload = Bytes::copy_from_slice(&self.rx[..frame.len]);
            self.rx.advance(frame.len);
            payload
        } else {
            self.rx.split_to(frame.len).freeze()
        };
        Ok(Some((frame.header, payload)))
    }

    /// The message-level checks on a frame's header, made before its payload is
    /// awaited.
    fn start_frame(&self, header: FrameHeader) -> Result<PartialFrame, ProtocolError> {
        let too_large = ProtocolError::FrameTooLarge {
            len: header.payload_len,
            max: self.config.max_frame_size,
        };
        let len = usize::try_from(header.payload_len).map_err(|_| too_large)?;
        let kind = match (header.opcode, &self.message) {
            (OpCode::Text, None) => Some(MessageKind::Text),
            (OpCode::Binary, None) => Some(MessageKind::Binary),
            // §5.4: the fragments of one message are not interleaved with another's.
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            (OpCode::Continuation, Some(message)) => Some(message.kind),
            // §5.4: a continuation frame continues a message begun by a text or binary
            // frame with FIN clear.
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => None,
        };
        if kind.is_some() && !self.config.stream_fragments {
            let before = self.message.as_ref().map_or(0, |m| m.size);
            if before.saturating_add(header.payload_len) > self.config.max_message_size {
                return Err(ProtocolError::MessageTooLarge {
                    max: self.config.max_message_size,
                });
            }
        }
        Ok(PartialFrame {
            header,
            len,
            done: 0,
            text: kind == Some(MessageKind::Text),
        })
    }

    /// Acts on a whole frame; returns the event it makes, if any.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match header.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                Ok(self.on_data_frame(header, payload)?)
            }
            OpCode::Ping => {
                // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong
                // frame in response, unless it already received a Close frame." After our
                // own close we send nothing more.
                if self.config.auto_pong && self.state == State::Open {
                    self.out
                        .hold_pong(payload.clone(), self.config.max_pending_pongs);
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => self.on_close_frame(&payload).map(Some),
        }
    }

    fn on_data_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        let first = header.opcode != OpCode::Continuation;
        let kind = match (header.opcode, &self.message) {
            (OpCode::Text, _) => MessageKind::Text,
            (OpCode::Continuation, Some(message)) => message.kind,
            _ => MessageKind::Binary,
        };
        if header.fin && kind == MessageKind::Text {
            // §8.1: the whole message must be valid; the bytes were validated as they
            // came, so only an unfinished code point remains to reject.
            self.rx_utf8.finish()?;
        }
        if self.config.stream_fragments {
            self.message = if header.fin {
                None
            } else {
                Some(InMessage {
                    kind,
                    parts: Reassembly::First(Bytes::new()),
                    size: 0,
                })
            };
            return Ok(Some(Event::Fragment(Fragment {
                kind,
                data: payload,
                first,
                fin: header.fin,
            })));
        }
        let payload = match (first, header.fin) {
            // A message in one frame: the payload is handed out as it is, no copy.
            (true, true) => payload,
            (true, false) => {
                self.message = Some(InMessage {
                    kind,
                    size: payload.len() as u64,
                    parts: Reassembly::First(payload),
                });
                return Ok(None);
            }
            (false, fin) => {
                let Some(message) = self.message.as_mut() else {
                    return Ok(None); // unreachable: start_frame checked it
                };
                message.parts.push(&payload, self.config.max_message_size);
                message.size += payload.len() as u64;
                if !fin {
                    return Ok(None);
                }
                let Some(message) = self.message.take() else {
                    return Ok(None);
                };
                message.parts.finish()
            }
        };
        Ok(Some(match kind {
            MessageKind::Text => Event::Text(Utf8Bytes::from_validated(payload)),
            MessageKind::Binary => Event::Binary(payload),
        }))
    }

    /// §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close
    /// frame, the endpoint MUST send a Close frame in response. ... It SHOULD do so as
    /// soon as practical." The echo carries the same status code (§5.5.1: "typically
    /// echoes the status code it received") and the same reason: a browser shows the
    /// reason in our close frame as `CloseEvent.reason`, and tungstenite, Python
    /// `websockets` and Node `ws` echo it too. An empty close is answered with an empty
    /// close.
    fn on_close_frame(&mut self, payload: &Bytes) -> Result<Event, ProtocolError> {
        let parsed = parse_close_payload(payload)?;
        let close = match parsed {
            None => CloseFrame {
                code: CloseCode::NO_STATUS_RECEIVED,
                reason: Utf8Bytes::default(),
            },
            Some((code, reason)) => CloseFrame {
                code,
                reason: Utf8Bytes::from_validated(payload.slice(2..2 + reason.len())),
            },
        };
        if self.state == State::Open {
            self.flush_pongs();
            // The payload was checked by parse_close_payload: a valid code and UTF-8
            // reason within 125 bytes, so it is a valid close payload for us to send.
            self.push_frame(true, OpCode::Close, payload);
        }
        self.out.drop_pongs();
        self.state = State::Closed;
        self.rx.clear();
        Ok(Event::Close(close))
    }

    /// §7.1.7 "Fail the WebSocket Connection": queue a close frame with the error's code
    /// (unless ours was already sent, or the code is one that may not be sent), and accept
    /// nothing more.
    ///
    /// The pongs for pings already reported go out first: `Event::Ping` promised them,
    /// and whether they were taken before the failure must not depend on how the input
    /// was chunked.
    fn fail(&mut self, error: ProtocolError) -> Error {
        let code = error.close_code();
        if self.state == State::Open {
            self.flush_pongs();
        }
        self.out.drop_pongs();
        if self.state == State::Open && code.is_valid_on_wire() {
            let mut body = Vec::with_capacity(2);
            if encode_close_payload(Some((code, "")), &mut body).is_ok() {
                self.push_frame(true, OpCode::Close, &body);
            }
        }
        self.state = State::Failed;
        self.rx.clear();
        self.frame = None;
        self.message = None;
        Error::Protocol(error)
    }

    // ----- commands -----

    /// Sends a text message, split into frames of at most
    /// [`Config::max_send_frame_size`] bytes.
    ///
    /// # Errors
    /// [`UsageError::Closed`] after a close was sent or received,
    /// [`UsageError::MessageInProgress`] while a streamed message is being sent,
    /// [`UsageError::OutgoingBufferFull`] over [`Config::max_buffered_outgoing`].
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_message(OpCode::Text, text.as_bytes())
    }

    /// Sends a binary message, split into frames of at most
    /// [`Config::max_send_frame_size`] bytes.
    ///
    /// # Errors
    /// As [`send_text`](Connection::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_message(OpCode::Binary, data)
    }

    fn send_message(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        self.check_can_send_data()?;
        if self.sending.is_some() {
            return Err(UsageError::MessageInProgress.into());
        }
        let max = self.config.max_send_frame_size.max(1);
        let mut chunks = payload.chunks(max).peekable();
        if chunks.peek().is_none() {
            self.push_frame(true, opcode, &[]);
        }
        let mut first = true;
        while let Some(chunk) = chunks.next() {
            let op = if first { opcode } else { OpCode::Continuation };
            self.push_frame(chunks.peek().is_none(), op, chunk);
            first = false;
        }
        Ok(())
    }

    /// Begins a streamed message of unknown length: send its parts with
    /// [`send_fragment`](Connection::send_fragment) and end it with
    /// [`finish_message`](Connection::finish_message). Control frames, including
    /// automatic pongs, may go out between the fragments (§5.4).
    ///
    /// # Errors
    /// [`UsageError::Closed`] after a close, [`UsageError::MessageInProgress`] if a
    /// streamed message is already in progress.
    pub fn begin_message(&mut self, kind: MessageKind) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(UsageError::Closed.into());
        }
        if self.sending.is_some() {
            return Err(UsageError::MessageInProgress.into());
        }
        self.tx_utf8.reset();
        self.sending = Some(OutMessage { kind, first: true });
        Ok(())
    }

    /// Sends `data` as the next frame of the streamed message. For text, `data` may end
    /// in the middle of a code point that the next fragment completes.
    ///
    /// # Errors
    /// [`UsageError::MessageInProgress`] if no message was begun, [`UsageError::Closed`]
    /// after a close, [`UsageError::InvalidUtf8`] if text so far cannot be valid UTF-8,
    /// [`UsageError::OutgoingBufferFull`] over the limit. Nothing is sent on error.
    pub fn send_fragment(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_streamed(data, false)
    }

    /// Sends `data` (possibly empty) as the last frame of the streamed message.
    ///
    /// # Errors
    /// As [`send_fragment`](Connection::send_fragment), and [`UsageError::InvalidUtf8`]
    /// if the text ends in the middle of a code point.
    pub fn finish_message(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_streamed(data, true)
    }

    fn send_streamed(&mut self, data: &[u8], fin: bool) -> Result<(), Error> {
        let Some(message) = self.sending else {
            return Err(UsageError::MessageInProgress.into());
        };
        self.check_can_send_data()?;
        if message.kind == MessageKind::Text {
            // Validate on a copy, so that a refused fragment changes nothing.
            let mut utf8 = self.tx_utf8.clone();
            utf8.feed(data).map_err(|_| UsageError::InvalidUtf8)?;
            if fin {
                utf8.finish().map_err(|_| UsageError::InvalidUtf8)?;
            }
            self.tx_utf8 = utf8;
        }
        let opcode = match (message.first, message.kind) {
            (false, _) => OpCode::Continuation,
            (true, MessageKind::Text) => OpCode::Text,
            (true, MessageKind::Binary) => OpCode::Binary,
        };
        self.push_frame(fin, opcode, data);
        self.sending = if fin {
            None
        } else {
            Some(OutMessage {
                first: false,
                ..message
            })
        };
        Ok(())
    }

    fn check_can_send_data(&self) -> Result<(), UsageError> {
        if self.state != State::Open {
            return Err(UsageError::Closed);
        }
        if self.buffered_amount() > self.config.max_buffered_outgoing {
            return Err(UsageError::OutgoingBufferFull);
        }
        Ok(())
    }

    /// Sends a ping (§5.5.2).
    ///
    /// # Errors
    /// [`UsageError::ControlPayloadTooLarge`] over 125 bytes, [`UsageError::Closed`]
    /// after a close.
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (§5.5.3: "A Pong frame MAY be sent unsolicited. This
    /// serves as a unidirectional heartbeat.").
    ///
    /// # Errors
    /// As [`send_ping`](Connection::send_ping).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLarge.into());
        }
        if self.state != State::Open {
            return Err(UsageError::Closed.into());
        }
        self.push_frame(true, opcode, payload);
        Ok(())
    }

    /// Starts the closing handshake (§7.1.2) with a status code and a reason (may be
    /// empty). Incoming messages are still delivered until the peer's close arrives.
    ///
    /// # Errors
    /// [`UsageError::InvalidCloseCode`] for a code that may not be sent (1005, 1006,
    /// 1015, undefined ranges: §7.4), [`UsageError::ControlPayloadTooLarge`] if the
    /// reason is over 123 bytes, [`UsageError::Closed`] if a close was already sent or
    /// received.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.close_with(Some((code, reason)))
    }

    /// Starts the closing handshake with an empty close frame (no status code; the peer
    /// sees 1005).
    ///
    /// # Errors
    /// [`UsageError::Closed`] if a close was already sent or received.
    pub fn close_without_status(&mut self) -> Result<(), Error> {
        self.close_with(None)
    }

    fn close_with(&mut self, close: Option<(CloseCode, &str)>) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(UsageError::Closed.into());
        }
        let mut body = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
        encode_close_payload(close, &mut body)?;
        self.flush_pongs();
        self.push_frame(true, OpCode::Close, &body);
        self.state = State::CloseSent;
        Ok(())
    }

    // ----- output -----

    /// Takes the bytes queued for the transport (frames, pongs, close frames). Write all
    /// of them, in order.
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        self.flush_pongs();
        core::mem::take(self.out.bytes())
    }

    /// Appends the bytes queued for the transport to `buf`, reusing its allocation.
    pub fn take_outgoing_into(&mut self, buf: &mut Vec<u8>) {
        self.flush_pongs();
        let queued = self.out.bytes();
        if buf.is_empty() {
            core::mem::swap(buf, queued);
        } else {
            buf.append(queued);
        }
    }

    // ----- framing -----

    /// Queues a frame after the pongs still held, so that frames go out in the order
    /// their causes arrived: a pong for a ping received before a message is written
    /// before that message's echo (Autobahn 5.6, 5.19 compare the order).
    fn push_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        self.flush_pongs();
        let mask = self.next_mask();
        self.out.push_frame(fin, opcode, mask, payload);
    }

    fn flush_pongs(&mut self) {
        let random = &mut self.random;
        self.out.flush_pongs(|| next_mask(random));
    }

    fn next_mask(&mut self) -> Option<[u8; 4]> {
        next_mask(&mut self.random)
    }
}

/// A fresh masking key for a client's frame (§5.3: "a new masking key ... for each
/// frame"), or `None` for a server.
fn next_mask(random: &mut Option<Box<dyn RandomSource + Send>>) -> Option<[u8; 4]> {
    random.as_mut().map(|random| {
        let mut key = [0u8; 4];
        random.fill_bytes(&mut key);
        key
    })
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("received", &self.rx.len())
            .field("buffered_amount", &self.buffered_amount())
            .finish_non_exhaustive()
    }
}
