//! The connection state machine (§5, §6, §7): messages from frames, control frames, the
//! close handshake, limits.

mod event;
mod outgoing;
mod payload;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

pub use event::{CloseFrame, ConnectionState, Event, EventRef, Fragment, MessageKind};
pub use outgoing::Outgoing;
use outgoing::Src;
pub use payload::{Payload, TextPayload};

use crate::extension::{Extension, ExtensionError, Rsv};
use crate::frame::{
    FrameDecoder, FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, Step, TextCheck, apply_mask,
    copy_small_payload, encode_close_payload, parse_close_payload, take_payload,
};
use crate::{
    CloseCode, Config, ProtocolError, RandomSource, Role, UsageError, Utf8Bytes, Utf8Validator,
};

/// The smallest room offered for one read, and the first read's size.
const MIN_READ: usize = 4 * 1024;
/// The largest room offered for one read, unless a frame in progress needs more.
const MAX_READ: usize = 64 * 1024;
/// A frame in progress whose remaining payload is at most this long is given all the
/// room it needs at once, so that its payload is read into the place it is delivered
/// from, with no copy when the buffer grows. A longer one is given room in proportion to
/// what has arrived (at most twice), so that a peer that announces a frame and sends
/// nothing more commits at most this much (DESIGN: lengths are checked before memory is
/// reserved).
const RESERVE_WHOLE_FRAME_UP_TO: usize = 1 << 20;
/// Receive memory kept across an idle moment (a read that brought nothing): a buffer
/// that grew for a large frame, or that the caller grew, gives the rest back then. While
/// reads keep bringing bytes the room is reused, whatever its size.
const KEEP_RECEIVE_CAPACITY: usize = 2 * MAX_READ;

/// One end of a WebSocket connection after the opening handshake: bytes in, events out,
/// bytes out.
///
/// # How to drive it
///
/// A connection never does I/O. The caller loops over four kinds of calls:
///
/// 1. **Input**: read from the transport straight into
///    [`receive_buffer`](Connection::receive_buffer) (a `BufMut`, for tokio's
///    `read_buf`) or [`receive_with`](Connection::receive_with) (a `&mut [u8]`, for
///    `std::io::Read`), or hand in bytes read elsewhere with
///    [`receive`](Connection::receive); any chunking gives the same events. At end of
///    stream, [`receive_eof`](Connection::receive_eof).
/// 2. **Events**: call [`next_event`](Connection::next_event) (owned payloads) or
///    [`next_event_ref`](Connection::next_event_ref) (borrowed, no allocation) until it
///    returns `Ok(None)`. A protocol violation by the peer is returned as an error exactly
///    once, with the close frame the RFC demands already queued: keep going to step 4.
/// 3. **Commands**: [`send_text`](Connection::send_text),
///    [`send_binary`](Connection::send_binary), [`send_ping`](Connection::send_ping),
///    [`send_pong`](Connection::send_pong), [`close`](Connection::close), and the streamed
///    [`begin_message`](Connection::begin_message) /
///    [`send_fragment`](Connection::send_fragment) /
///    [`finish_message`](Connection::finish_message).
/// 4. **Output**: write [`outgoing`](Connection::outgoing) (a `bytes::Buf`: write its
///    chunks and advance it by what the transport took) or
///    [`take_outgoing`](Connection::take_outgoing) (one `Vec`), then close the transport
///    when [`should_close_transport`](Connection::should_close_transport) says so.
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
///         server.send_text(text)?; // echo: no copy, no second UTF-8 check
///     }
/// }
/// client.receive(&server.take_outgoing());
/// assert_eq!(client.next_event()?, Some(Event::Text("hello".into())));
/// # Ok::<(), rfc6455::Error>(())
/// ```
///
/// # A blocking `std::io` loop, partial writes included
///
/// ```
/// use std::io::{Read, Write};
/// use bytes::Buf;
/// use rfc6455::{Config, Connection, Event};
///
/// /// Echoes messages until the connection ends. `stream` is any `Read + Write`, such as
/// /// a `TcpStream` after the opening handshake.
/// fn echo(stream: &mut (impl Read + Write)) -> std::io::Result<()> {
///     let mut ws = Connection::server(Config::default());
///     loop {
///         // Events first: a protocol error is not returned early, so that the close
///         // frame it queued is written below.
///         loop {
///             match ws.next_event() {
///                 Ok(Some(Event::Text(text))) => { let _ = ws.send_text(text); }
///                 Ok(Some(Event::Binary(data))) => { let _ = ws.send_binary(data); }
///                 Ok(Some(_)) => {} // pings answered, closes echoed, automatically
///                 Ok(None) => break,
///                 Err(error) => { eprintln!("closing: {error}"); break; }
///             }
///         }
///         // Output: `write` may take only part; `advance` by what it took.
///         while ws.outgoing().has_remaining() {
///             let out = ws.outgoing();
///             let n = stream.write(out.chunk())?;
///             out.advance(n);
///         }
///         if ws.should_close_transport() {
///             return Ok(());
///         }
///         // Input: read straight into the connection's spare room.
///         if ws.receive_with(|room| stream.read(room))? == 0 {
///             ws.receive_eof();
///         }
///     }
/// }
///
/// // A "Hello" (§5.7) and a close 1000 from a client; an echo of each comes back.
/// let mut input = vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// input.extend_from_slice(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
/// let mut stream = Duplex { input: &input[..], output: Vec::new() };
/// echo(&mut stream)?;
/// assert_eq!(stream.output, b"\x81\x05Hello\x88\x02\x03\xe8");
///
/// /// A transport from memory that takes at most 3 bytes per write.
/// struct Duplex<'a> { input: &'a [u8], output: Vec<u8> }
/// impl Read for Duplex<'_> {
///     fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> { self.input.read(buf) }
/// }
/// impl Write for Duplex<'_> {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         let n = buf.len().min(3);
///         self.output.extend_from_slice(&buf[..n]);
///         Ok(n)
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// # Ok::<(), std::io::Error>(())
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
/// ) -> Result<(), rfc6455::UsageError> {
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
/// # Ok::<(), rfc6455::UsageError>(())
/// ```
///
/// # End of stream
///
/// When the transport ends before the close handshake, the events decoded from the bytes
/// already received come first, then [`next_event`](Connection::next_event) returns
/// [`ProtocolError::UnexpectedEof`] once (close code 1006, §7.1.5: never sent, there is
/// nobody to send it to). A clean close is [`Event::Close`] and never this error.
///
/// [`send_ping`]: Connection::send_ping
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent flags of the receive side, each documented"
)]
pub struct Connection {
    role: Role,
    config: Config,
    decoder: FrameDecoder,
    /// Received bytes not yet consumed, from the current frame's first header byte. The
    /// payload bytes of a frame in progress are already unmasked (and, for text,
    /// validated). Never reachable by the caller.
    rx: BytesMut,
    /// The room lent to the caller by `receive_buffer`: holds only bytes the caller
    /// appended since, which join `rx` on the next call.
    rx_in: BytesMut,
    /// The room offered for the next read (adapts between `MIN_READ` and `MAX_READ`).
    read_size: usize,
    /// Whether the room last offered was for the rest of a frame in progress: a short
    /// read there may just be the frame's end, not a sign of small reads.
    room_mid_frame: bool,
    /// Bytes at the front of `rx` that belong to the event last lent by
    /// `next_event_ref`, removed on the next call.
    lent: usize,
    /// Whether `joined` was lent by `next_event_ref` and is to be cleared.
    joined_lent: bool,
    /// Whether `settle` has more to do than release `lent`: bytes read into `rx_in`,
    /// `joined` lent, or buffers to release (closed or failed, or drained).
    unsettled: bool,
    eof: bool,
    /// The data message being received, between its first and last frame.
    message: Option<InMessage>,
    /// Whether the extension claimed the frame whose header was read last.
    header_transformed: bool,
    /// Validates the text message being received, across frames and reads.
    rx_utf8: Utf8Validator,
    /// A fragmented binary message's payload so far, or a transformed message's (text
    /// or binary), reused between messages.
    joined: BytesMut,
    /// A fragmented text message so far: each frame is checked as it is appended
    /// (`joined_utf8`), so the message is a `String` without a second check.
    joined_text: String,
    /// Checks `joined_text`'s frames; holds a code point left unfinished by the last.
    joined_utf8: Utf8Validator,
    state: State,
    out: Outgoing,
    /// The streamed message being sent, between `begin_message` and `finish_message`.
    sending: Option<OutMessage>,
    /// Validates a streamed text message being sent.
    tx_utf8: Utf8Validator,
    /// The source of masking keys; a client's only.
    random: Option<Box<dyn RandomSource + Send>>,
    /// The negotiated extension, if any.
    extension: Option<Box<dyn Extension>>,
    /// The extension's output for the message being sent.
    encoded: BytesMut,
}

#[derive(Debug, Clone, Copy)]
struct InMessage {
    kind: MessageKind,
    /// Payload bytes received on the wire so far, summed over frames.
    size: u64,
    /// Whether the extension transforms this message.
    transformed: bool,
}

#[derive(Debug, Clone, Copy)]
struct OutMessage {
    kind: MessageKind,
    first: bool,
    /// The RSV bits of the first frame; not empty when the extension transforms it.
    rsv: Rsv,
}

/// The states of §7. Transitions happen only in `Connection::fail`,
/// `Connection::close_with`, `Connection::on_close_frame` and `Connection::next_ready`
/// (end of stream).
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

/// A decoded frame's meaning, before its payload is handed out owned or borrowed.
#[derive(Debug, Clone, Copy)]
enum Ready {
    /// The frame was consumed and makes no event (a fragment of a message in progress).
    Nothing,
    /// An event whose payload is the frame's, still in `rx` behind its header.
    InFrame {
        what: What,
        header_len: usize,
        len: usize,
        /// Whether text was validated already; if not, the caller validates it whole.
        text_checked: bool,
    },
    /// An event whose payload is `joined` (a reassembled or transformed message).
    Joined { what: What, frame_len: usize },
    /// A text message joined from frames in `joined_text`.
    JoinedText { frame_len: usize },
}

#[derive(Debug, Clone, Copy)]
enum What {
    Message(MessageKind),
    Fragment {
        kind: MessageKind,
        first: bool,
        fin: bool,
    },
    Ping,
    Pong,
    Close(CloseCode),
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
            rx_in: BytesMut::new(),
            read_size: MIN_READ,
            room_mid_frame: false,
            lent: 0,
            joined_lent: false,
            unsettled: false,
            eof: false,
            message: None,
            header_transformed: false,
            rx_utf8: Utf8Validator::new(),
            joined: BytesMut::new(),
            joined_text: String::new(),
            joined_utf8: Utf8Validator::new(),
            state: State::Open,
            out: Outgoing::default(),
            sending: None,
            tx_utf8: Utf8Validator::new(),
            random,
            extension: None,
            encoded: BytesMut::new(),
        }
    }

    /// Runs `extension` on this connection: the outcome of the opening handshake's
    /// extension negotiation (§9.1). Its RSV bits are allowed on received frames where
    /// it says, and it transforms the messages it marks. Call before any bytes are
    /// received or sent. The frame size limit becomes what the extension asks for
    /// ([`Extension::max_frame_size`]; permessage-deflate allows for data that grows when
    /// compressed).
    #[must_use]
    pub fn with_extension(mut self, extension: impl Extension + 'static) -> Self {
        self.decoder
            .set_allowed_rsv(extension.reserved_bits().bits());
        self.decoder
            .set_max_payload_len(extension.max_frame_size(self.config.max_frame_size));
        self.extension = Some(Box::new(extension));
        self
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

    /// Bytes queued for the transport and not yet written (advanced over in
    /// [`outgoing`](Connection::outgoing), or taken), like the browser's
    /// `bufferedAmount`. Held automatic pongs count as the frames they will become.
    #[must_use]
    pub fn buffered_amount(&self) -> usize {
        self.out.buffered(self.role.masks_outgoing())
    }

    /// Whether bytes are waiting to be written.
    #[must_use]
    pub fn wants_write(&self) -> bool {
        self.out.remaining() > 0 || self.out.has_pongs()
    }

    /// Whether the caller should now close the transport (after writing out everything
    /// queued).
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

    /// Whether the connection still takes input: false once it is closed or failed.
    #[must_use]
    pub fn wants_read(&self) -> bool {
        self.accepts_input() && !self.eof
    }

    // ----- input -----

    /// Hands in bytes read from the transport (copying them). Any chunking gives the same
    /// events. Bytes received after the connection is closed or failed are discarded.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.settle();
        if self.accepts_input() {
            self.rx.extend_from_slice(bytes);
        }
    }

    /// Room to read into directly, without a copy: an empty `BytesMut` with spare
    /// capacity, for tokio's `AsyncReadExt::read_buf` or anything that fills a
    /// [`bytes::BufMut`]. The bytes appended to it are received on the next call to any
    /// method of the connection.
    ///
    /// The room is sized for the reads at hand (a few KiB for a quiet connection, 64 KiB
    /// when reads fill it, the rest of a large frame in progress), so the natural loop —
    /// `read_buf(ws.receive_buffer())`, then events — makes few, large reads. Only new
    /// bytes are in it: what the connection received before is out of reach.
    ///
    /// ```
    /// use bytes::BufMut;
    /// use rfc6455::{Config, Connection, Event};
    ///
    /// let mut ws = Connection::client(Config::default());
    /// let room = ws.receive_buffer();
    /// assert!(room.is_empty() && room.capacity() > 0);
    /// room.put_slice(b"\x81\x05Hello"); // as a read would
    /// assert_eq!(ws.next_event()?, Some(Event::Text("Hello".into())));
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        self.settle();
        if self.accepts_input() {
            self.make_room();
            self.rx_in = self.rx.split_off(self.rx.len());
        }
        self.unsettled = true;
        &mut self.rx_in
    }

    /// Reads from the transport straight into the connection's spare room: calls `read`
    /// with a zeroed `&mut [u8]` (sized as for
    /// [`receive_buffer`](Connection::receive_buffer)) and keeps the first `n` bytes
    /// when it returns `Ok(n)`. For `std::io::Read` and stacks that fill a slice:
    /// `ws.receive_with(|room| socket.read(room))`.
    ///
    /// Returns what `read` returned; `Ok(0)` is the end of stream only if the transport
    /// says so (call [`receive_eof`](Connection::receive_eof)). Once the connection is
    /// closed, `read` gets an empty slice.
    ///
    /// # Errors
    /// `read`'s error; nothing is received then.
    pub fn receive_with<E>(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        self.settle();
        if !self.accepts_input() {
            return read(&mut []);
        }
        let room = self.make_room();
        let start = self.rx.len();
        self.rx.resize(start + room, 0);
        let result = read(&mut self.rx[start..]);
        let n = match &result {
            Ok(n) => (*n).min(room),
            Err(_) => 0,
        };
        self.rx.truncate(start + n);
        if n > 0 {
            self.adapt_read_size(n, room);
        }
        result
    }

    /// Reports the end of the transport's input stream. If the close handshake was not
    /// completed, [`next_event`](Connection::next_event), after the events still
    /// buffered, returns [`ProtocolError::UnexpectedEof`] (close code 1006, §7.1.5).
    pub fn receive_eof(&mut self) {
        self.settle();
        self.eof = true;
    }

    /// Gives back the memory of the buffers that hold nothing: the receive buffer (with
    /// the room lent by [`receive_buffer`](Connection::receive_buffer)) when no received
    /// byte waits to be decoded, the reassembly buffer between messages, and the outgoing
    /// queue once everything in it was written. Nothing queued or received is lost, and
    /// the connection works on as before: the next read or send allocates again.
    ///
    /// For a connection with nothing to do — call it when a read would block and the
    /// queue is written — so that an idle connection costs little more than its state
    /// (the tokio adapter does so). It costs a few allocations per message on a busy one.
    ///
    /// ```
    /// use rfc6455::{Config, Connection};
    ///
    /// let mut ws = Connection::server(Config::default());
    /// let room = ws.receive_buffer(); // a read would go here; it would block
    /// assert!(room.capacity() > 0);
    /// ws.release_buffers();
    /// assert_eq!(ws.buffer_capacity(), 0);
    /// assert!(ws.receive_buffer().capacity() > 0); // room again, allocated anew
    /// assert_eq!(ws.next_event()?, None);
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    pub fn release_buffers(&mut self) {
        self.settle();
        if self.rx.is_empty() && self.rx.capacity() != 0 {
            self.rx = BytesMut::new();
        }
        if self.joined.is_empty() && self.joined.capacity() != 0 {
            self.joined = BytesMut::new();
        }
        if self.joined_text.is_empty() && self.joined_text.capacity() != 0 {
            self.joined_text = String::new();
        }
        if self.encoded.is_empty() && self.encoded.capacity() != 0 {
            self.encoded = BytesMut::new();
        }
        self.out.release_all();
    }

    /// Bytes of memory held by the receive, reassembly and send buffers (their
    /// capacity, used or not): what [`release_buffers`](Connection::release_buffers)
    /// can give back when they are empty.
    ///
    /// The figure is the capacity the buffers report. Right after a large received
    /// frame was consumed, the receive buffer still holds the frame's allocation but
    /// reports only the room past it, so the figure is low until that room is given
    /// back (at the next read that brings nothing, or by `release_buffers`) or reused.
    #[must_use]
    pub fn buffer_capacity(&self) -> usize {
        self.rx.capacity()
            + self.rx_in.capacity()
            + self.joined.capacity()
            + self.joined_text.capacity()
            + self.encoded.capacity()
            + self.out.capacity()
    }

    fn accepts_input(&self) -> bool {
        matches!(self.state, State::Open | State::CloseSent)
    }

    /// Brings the receive side up to date before anything else happens: bytes the
    /// caller read into the lent room join `rx`, and the event lent last is released.
    #[inline]
    fn settle(&mut self) {
        if self.lent != 0 {
            self.rx.advance(self.lent);
            self.lent = 0;
        }
        if self.unsettled {
            self.settle_more();
        }
    }

    /// The rarer part of `settle`, flagged by `unsettled`.
    #[inline(never)]
    fn settle_more(&mut self) {
        self.unsettled = false;
        if self.lent != 0 {
            self.rx.advance(self.lent);
            self.lent = 0;
        }
        if self.joined_lent {
            self.joined.clear();
            self.joined_text.clear();
            self.joined_lent = false;
        }
        if self.rx_in.capacity() != 0 {
            let fresh = core::mem::take(&mut self.rx_in);
            let (n, room) = (fresh.len(), fresh.capacity());
            if self.accepts_input() {
                self.rx.unsplit(fresh);
                // A read that would have blocked (or the end of stream) brought nothing:
                // it says nothing about the size of reads.
                if n > 0 {
                    self.adapt_read_size(n, room);
                }
            }
        }
        if !self.accepts_input() {
            if self.rx.capacity() != 0 {
                self.rx = BytesMut::new();
            }
            if self.joined.capacity() != 0 {
                self.joined = BytesMut::new();
            }
            if self.joined_text.capacity() != 0 {
                self.joined_text = String::new();
            }
        }
        if self.rx.is_empty() && self.rx.capacity() > KEEP_RECEIVE_CAPACITY {
            self.rx = BytesMut::new();
        }
    }

    /// Grows the read size while reads fill the room offered, shrinks it while reads
    /// between frames use little of it.
    fn adapt_read_size(&mut self, n: usize, room: usize) {
        if n >= room && room >= self.read_size {
            self.read_size = (self.read_size * 2).min(MAX_READ);
        } else if n < self.read_size / 8 && !self.room_mid_frame {
            self.read_size = (self.read_size / 2).max(MIN_READ);
        }
    }

    /// Makes room in `rx` for the next read and returns how much to offer.
    ///
    /// Between frames, or for a small frame in progress, `read_size`. For a larger
    /// frame in progress, the rest of it: the payload is read into the place it is
    /// delivered from, and the buffer is grown only when the spare room does not hold
    /// the rest of the frame (never merely to offer `read_size` past its end, which
    /// would copy the frame to a new allocation).
    fn make_room(&mut self) -> usize {
        let spare = self.rx.capacity() - self.rx.len();
        let missing = self.decoder_missing();
        self.room_mid_frame = missing.is_some();
        let (need, want) = match missing {
            None => (self.read_size, self.read_size),
            Some(missing) if missing <= RESERVE_WHOLE_FRAME_UP_TO => {
                (missing.min(self.read_size), missing.max(self.read_size))
            }
            Some(missing) => {
                // At most twice what has arrived of the frame so far.
                let grow = missing.min(self.rx.len().max(RESERVE_WHOLE_FRAME_UP_TO));
                (grow.min(self.read_size), grow)
            }
        };
        if spare < need {
            self.rx.reserve(want);
        }
        (self.rx.capacity() - self.rx.len()).min(want.max(need))
    }

    /// The bytes still missing of the frame in progress, if its header was read.
    fn decoder_missing(&self) -> Option<usize> {
        self.decoder
            .frame_end()
            .map(|end| end.saturating_sub(self.rx.len()))
    }

    // ----- events -----

    /// The next event from the bytes received so far, with its payload owned, or
    /// `Ok(None)` when more bytes are needed (or the connection is closed).
    ///
    /// # Errors
    /// A [`ProtocolError`] when the peer violated the protocol (or the transport ended
    /// before the close handshake: [`ProtocolError::UnexpectedEof`]). It is returned
    /// once: the close frame with the matching code (§7.4.1) is already queued — write
    /// it out before closing the transport — and afterwards the connection accepts no
    /// input and returns `Ok(None)`. Events decoded from earlier bytes were returned by
    /// earlier calls.
    pub fn next_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if self.unsettled {
            self.settle_more();
        }
        // The common case, as in `next_event_ref`: a whole message frame; a small payload
        // is copied out and the cursor (`lent`) moves past its frame.
        if let Some((kind, start, len)) = self.whole_message_frame() {
            let payload = if let Some(payload) = copy_small_payload(&self.rx[start..start + len]) {
                payload
            } else {
                self.rx.advance(start);
                self.lent = 0;
                take_payload(&mut self.rx, len)
            };
            if kind == MessageKind::Text {
                // §8.1: text is valid UTF-8, checked whole here.
                if let Err(error) = Utf8Validator::validate(&payload) {
                    return Err(self.fail(error));
                }
            }
            return Ok(Some(own(What::Message(kind), payload)));
        }
        self.settle();
        if !self.accepts_input() {
            return Ok(None);
        }
        loop {
            let ready = match self.next_ready_slow() {
                Ok(Some(ready)) => ready,
                Ok(None) => return Ok(None),
                Err(error) => return Err(self.fail(error)),
            };
            match self.own(ready) {
                Ok(Some(event)) => return Ok(Some(event)),
                Ok(None) => {}
                Err(error) => return Err(self.fail(error)),
            }
        }
    }

    /// The next event from the bytes received so far, with its payload borrowed from the
    /// connection's buffers: no allocation, no copy (beyond reassembling a fragmented
    /// message). The borrow ends at the next call on the connection, which releases the
    /// bytes.
    ///
    /// Same events, same errors, same order as [`next_event`](Connection::next_event);
    /// the two can be mixed freely.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, EventRef};
    ///
    /// let mut ws = Connection::server(Config::default());
    /// // §5.7: a masked "Hello" from a client.
    /// ws.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    /// let mut total = 0;
    /// while let Some(event) = ws.next_event_ref()? {
    ///     if let EventRef::Text(text) = event {
    ///         total += text.len();
    ///     }
    /// }
    /// assert_eq!(total, 5);
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    ///
    /// # Errors
    /// As [`next_event`](Connection::next_event).
    pub fn next_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        if self.unsettled {
            self.settle_more();
        }
        // The common case: the next whole message frame is lent where it lies, and the
        // event lent before it is released by moving the cursor (`lent`) past it.
        if let Some((kind, start, len)) = self.whole_message_frame() {
            let data = &self.rx[start..start + len];
            return match kind {
                MessageKind::Binary => Ok(Some(EventRef::Binary(data))),
                // §8.1: text is valid UTF-8, checked whole here.
                MessageKind::Text => {
                    if let Ok(text) = simdutf8::basic::from_utf8(data) {
                        Ok(Some(EventRef::Text(text)))
                    } else {
                        self.unsettled = true;
                        Err(fail_parts(
                            &mut self.state,
                            &mut self.out,
                            &mut self.random,
                            &mut self.decoder,
                            &mut self.message,
                            ProtocolError::InvalidUtf8,
                        ))
                    }
                }
            };
        }
        self.settle();
        if !self.accepts_input() {
            return Ok(None);
        }
        let ready = loop {
            match self.next_ready_slow() {
                Ok(Some(Ready::Nothing)) => {}
                Ok(Some(ready)) => break ready,
                Ok(None) => return Ok(None),
                Err(error) => return Err(self.fail(error)),
            }
        };
        if let Ready::InFrame {
            what: What::Ping,
            header_len,
            len,
            ..
        } = ready
        {
            let payload = Bytes::copy_from_slice(&self.rx[header_len..header_len + len]);
            self.answer_ping(payload);
        }
        let (what, text_checked, data) = match ready {
            Ready::Nothing => return Ok(None),
            Ready::JoinedText { frame_len } => {
                self.rx.advance(frame_len);
                self.joined_lent = true;
                self.unsettled = true;
                return Ok(Some(EventRef::Text(&self.joined_text)));
            }
            Ready::InFrame {
                what,
                header_len,
                len,
                text_checked,
            } => {
                self.lent = header_len + len;
                (what, text_checked, &self.rx[header_len..header_len + len])
            }
            Ready::Joined { what, frame_len } => {
                self.rx.advance(frame_len);
                self.joined_lent = true;
                self.unsettled = true;
                (what, true, &self.joined[..])
            }
        };
        let text = match what {
            What::Message(MessageKind::Text) => simdutf8::basic::from_utf8(data).ok(),
            _ if is_text(what) && !text_checked => simdutf8::basic::from_utf8(data).ok(),
            _ => return Ok(Some(lend(what, data))),
        };
        match (what, text) {
            (What::Message(_), Some(text)) => Ok(Some(EventRef::Text(text))),
            (_, Some(_)) => Ok(Some(lend(what, data))),
            // Invalid text (§8.1). `data` borrows `rx` or `joined`; failing touches
            // neither (they are released on the next call).
            (_, None) => {
                self.unsettled = true;
                Err(fail_parts(
                    &mut self.state,
                    &mut self.out,
                    &mut self.random,
                    &mut self.decoder,
                    &mut self.message,
                    ProtocolError::InvalidUtf8,
                ))
            }
        }
    }

    /// The common case, taken without the general machinery: between messages, a whole
    /// unfragmented text or binary frame is in `rx`. The header is decoded by the one
    /// decoder (every §5 rule is checked there); the message-level conditions below only
    /// decide whether this shortcut applies — anything else, including every error, goes
    /// the general way, which reports it. Text is left for the caller to check whole.
    // Inlined into both callers: as a call it cost about 30 instructions per message
    // (benches/hot_loop.rs under callgrind), a sixth of the borrowed path.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn whole_message_frame(&mut self) -> Option<(MessageKind, usize, usize)> {
        if !self.accepts_input()
            || self.decoder.is_mid_frame()
            || self.message.is_some()
            || self.extension.is_some()
            || self.config.stream_fragments
        {
            return None;
        }
        let at = self.lent;
        let buf = self.rx.get_mut(at..)?;
        let Ok(Some((header, header_len))) = self.decoder.decode_header(buf) else {
            return None;
        };
        let kind = match header.opcode {
            OpCode::Text => MessageKind::Text,
            OpCode::Binary => MessageKind::Binary,
            _ => return None,
        };
        if !header.fin || header.payload_len > self.config.max_message_size {
            return None;
        }
        // decode_header checked the length against the frame limit, so it fits.
        let len = usize::try_from(header.payload_len).ok()?;
        let payload = buf.get_mut(header_len..header_len + len)?;
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        self.lent = at + header_len + len;
        Some((kind, at + header_len, len))
    }

    fn next_ready_slow(&mut self) -> Result<Option<Ready>, ProtocolError> {
        let message = self.message;
        let config = &self.config;
        let extension = &mut self.extension;
        let header_transformed = &mut self.header_transformed;
        let step = self
            .decoder
            .step(&mut self.rx, &mut self.rx_utf8, |header| {
                check_header(header, message, config, extension, header_transformed)
            })?;
        match step {
            Step::Incomplete(_) => {
                if self.eof {
                    // §7.1.5: no close frame was received, so the close code is 1006.
                    return Err(ProtocolError::UnexpectedEof);
                }
                Ok(None)
            }
            Step::Complete(frame) => self
                .on_frame(
                    frame.header,
                    frame.header_len,
                    frame.payload_len,
                    frame.text_fed,
                )
                .map(Some),
        }
    }

    /// Acts on a whole frame, still in `rx`; says what it makes.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        len: usize,
        text_fed: bool,
    ) -> Result<Ready, ProtocolError> {
        let in_frame = |what| Ready::InFrame {
            what,
            header_len,
            len,
            text_checked: text_fed,
        };
        match header.opcode {
            OpCode::Ping => Ok(in_frame(What::Ping)),
            OpCode::Pong => Ok(in_frame(What::Pong)),
            OpCode::Close => self
                .on_close_frame(header_len, len)
                .map(|code| Ready::InFrame {
                    what: What::Close(code),
                    header_len,
                    len,
                    text_checked: true,
                }),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                self.on_data_frame(header, header_len, len, text_fed)
            }
        }
    }

    fn on_data_frame(
        &mut self,
        header: FrameHeader,
        header_len: usize,
        len: usize,
        text_fed: bool,
    ) -> Result<Ready, ProtocolError> {
        let first = header.opcode != OpCode::Continuation;
        let message = match (first, self.message) {
            (false, Some(message)) => message,
            _ => InMessage {
                kind: if header.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                },
                size: 0,
                transformed: self.header_transformed,
            },
        };
        let kind = message.kind;
        let frame_len = header_len + len;
        let fin = header.fin;
        self.message = if fin {
            None
        } else {
            Some(InMessage {
                size: message.size + len as u64,
                ..message
            })
        };
        if message.transformed {
            return self.on_transformed_frame(kind, first, fin, header_len, len);
        }
        if kind == MessageKind::Text && !self.config.stream_fragments && !(first && fin) {
            return self.on_joined_text_frame(first, fin, header_len, len);
        }
        if kind == MessageKind::Text && fin && text_fed {
            // §8.1: the whole message must be valid; the bytes were validated as they
            // came, so only an unfinished code point remains to reject.
            self.rx_utf8.finish()?;
        }
        if self.config.stream_fragments {
            return Ok(Ready::InFrame {
                what: What::Fragment { kind, first, fin },
                header_len,
                len,
                text_checked: text_fed,
            });
        }
        if first && fin {
            // A message in one frame: the payload is handed out as it is.
            return Ok(Ready::InFrame {
                what: What::Message(kind),
                header_len,
                len,
                text_checked: text_fed,
            });
        }
        let payload = &self.rx[header_len..frame_len];
        if first {
            // Room for a few fragments like this one, within the message limit.
            let limit = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
            self.joined.clear();
            self.joined
                .reserve(len.saturating_mul(4).min(limit).max(len));
        }
        self.joined.extend_from_slice(payload);
        Ok(self.joined_part(kind, fin, frame_len))
    }

    /// A frame of a fragmented text message: its payload is checked as it is appended to
    /// `joined_text` (§8.1), one pass that yields the `&str` to append. The decoder fed
    /// the payload to `rx_utf8` only if it arrived in pieces (to fail fast, before the
    /// frame ends); `rx_utf8` then agrees with `joined_utf8`, which checks the frame
    /// again here, and is set to it for the next frame either way.
    fn on_joined_text_frame(
        &mut self,
        first: bool,
        fin: bool,
        header_len: usize,
        len: usize,
    ) -> Result<Ready, ProtocolError> {
        if first {
            // Room for a few fragments like this one, within the message limit.
            let limit = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
            self.joined_text.clear();
            self.joined_text
                .reserve(len.saturating_mul(4).min(limit).max(len));
            self.joined_utf8.reset();
        }
        let frame_len = header_len + len;
        self.joined_utf8
            .feed_into(&self.rx[header_len..frame_len], &mut self.joined_text)?;
        if fin {
            // §8.1: the message must not end inside a code point.
            self.joined_utf8.finish()?;
            self.rx_utf8.reset();
            Ok(Ready::JoinedText { frame_len })
        } else {
            self.rx_utf8.clone_from(&self.joined_utf8);
            self.rx.advance(frame_len);
            Ok(Ready::Nothing)
        }
    }

    /// After a frame of a message whose payload is gathered in `joined`: the whole
    /// message at its last frame, otherwise nothing (the frame is consumed).
    fn joined_part(&mut self, kind: MessageKind, fin: bool, frame_len: usize) -> Ready {
        if fin {
            Ready::Joined {
                what: What::Message(kind),
                frame_len,
            }
        } else {
            self.rx.advance(frame_len);
            Ready::Nothing
        }
    }

    /// A frame of a message the extension transforms: its payload is decoded into
    /// `joined`, and text is validated there, after decoding.
    fn on_transformed_frame(
        &mut self,
        kind: MessageKind,
        first: bool,
        fin: bool,
        header_len: usize,
        len: usize,
    ) -> Result<Ready, ProtocolError> {
        let frame_len = header_len + len;
        let stream = self.config.stream_fragments;
        if first || stream {
            self.joined.clear();
        }
        let max = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
        let before = self.joined.len();
        if let Some(extension) = self.extension.as_mut() {
            extension
                .decode(&self.rx[header_len..frame_len], fin, &mut self.joined, max)
                .map_err(|error| match error {
                    ExtensionError::TooLarge => ProtocolError::MessageTooLarge {
                        max: self.config.max_message_size,
                    },
                    ExtensionError::Invalid(why) => ProtocolError::Extension(why),
                })?;
        }
        if self.joined.len() > max {
            // The extension must stop at the limit; if it did not, the rule holds here.
            return Err(ProtocolError::MessageTooLarge {
                max: self.config.max_message_size,
            });
        }
        if kind == MessageKind::Text {
            self.rx_utf8.feed(&self.joined[before..])?;
            if fin {
                self.rx_utf8.finish()?;
            }
        }
        if stream {
            return Ok(Ready::Joined {
                what: What::Fragment { kind, first, fin },
                frame_len,
            });
        }
        Ok(self.joined_part(kind, fin, frame_len))
    }

    /// Hands out an event with owned payloads, consuming its frame.
    fn own(&mut self, ready: Ready) -> Result<Option<Event>, ProtocolError> {
        match ready {
            Ready::Nothing => Ok(None),
            Ready::InFrame {
                what,
                header_len,
                len,
                text_checked,
            } => {
                if is_text(what) && !text_checked {
                    Utf8Validator::validate(&self.rx[header_len..header_len + len])?;
                }
                self.rx.advance(header_len);
                let payload = take_payload(&mut self.rx, len);
                if let What::Ping = what {
                    self.answer_ping(payload.clone());
                }
                Ok(Some(own(what, payload)))
            }
            Ready::Joined { what, frame_len } => {
                self.rx.advance(frame_len);
                let payload = self.joined.split().freeze();
                Ok(Some(own(what, payload)))
            }
            Ready::JoinedText { frame_len } => {
                self.rx.advance(frame_len);
                let text = core::mem::take(&mut self.joined_text);
                Ok(Some(Event::Text(Utf8Bytes::from(text))))
            }
        }
    }

    /// §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    /// response, unless it already received a Close frame" — so also after our own close
    /// was sent, while we wait for the peer's.
    fn answer_ping(&mut self, payload: Bytes) {
        if self.config.auto_pong && self.accepts_input() {
            self.out.hold_pong(payload, self.config.max_pending_pongs);
        }
    }

    /// §5.5.1: "If an endpoint receives a Close frame and did not previously send a Close
    /// frame, the endpoint MUST send a Close frame in response. ... It SHOULD do so as
    /// soon as practical." The echo carries the same status code (§5.5.1: "typically
    /// echoes the status code it received") and the same reason: a browser shows the
    /// reason in our close frame as `CloseEvent.reason`, and tungstenite, Python
    /// `websockets` and Node `ws` echo it too. An empty close is answered with an empty
    /// close.
    fn on_close_frame(
        &mut self,
        header_len: usize,
        len: usize,
    ) -> Result<CloseCode, ProtocolError> {
        let payload = &self.rx[header_len..header_len + len];
        let code = match parse_close_payload(payload)? {
            None => CloseCode::NO_STATUS_RECEIVED,
            Some((code, _)) => code,
        };
        // Pongs for pings that came before the close are still owed.
        flush_pongs(&mut self.out, &mut self.random);
        if self.state == State::Open {
            // The payload was checked by parse_close_payload: a valid code and UTF-8
            // reason within 125 bytes, so it is a valid close payload for us to send.
            let header = FrameHeader {
                mask: next_mask(&mut self.random),
                ..FrameHeader::new(OpCode::Close, 0)
            };
            self.out.push_frame(header, Src::Borrowed(payload));
        }
        self.state = State::Closed;
        self.unsettled = true; // release the buffers on the next call
        self.message = None;
        Ok(code)
    }

    /// §7.1.7 "Fail the WebSocket Connection": queue a close frame with the error's code
    /// (unless ours was already sent, or the code is one that may not be sent), and accept
    /// nothing more.
    ///
    /// The pongs for pings already reported go out first: `Event::Ping` promised them,
    /// and whether they were taken before the failure must not depend on how the input
    /// was chunked.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        let error = fail_parts(
            &mut self.state,
            &mut self.out,
            &mut self.random,
            &mut self.decoder,
            &mut self.message,
            error,
        );
        self.unsettled = true;
        self.settle();
        error
    }

    // ----- commands -----

    /// Sends a text message, split into frames of at most
    /// [`Config::max_send_frame_size`] bytes. Takes `&str` and `&String` (copied into the
    /// queue), `String` and [`Utf8Bytes`] (queued without a copy where the frame allows,
    /// never validated again).
    ///
    /// # Errors
    /// [`UsageError::Closed`] after a close was sent or received,
    /// [`UsageError::MessageInProgress`] while a streamed message is being sent,
    /// [`UsageError::OutgoingBufferFull`] when the queue and this message together would
    /// be over [`Config::max_buffered_outgoing`], [`UsageError::Extension`] if the
    /// extension cannot encode it. Nothing is queued on error.
    pub fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> Result<(), UsageError> {
        let text = text.into();
        self.send_message(MessageKind::Text, text.src())
    }

    /// Sends a binary message, split into frames of at most
    /// [`Config::max_send_frame_size`] bytes. Takes `&[u8]`, `&Vec<u8>`, `&[u8; N]`,
    /// `&Bytes` (copied) and `Vec<u8>`, `Bytes`, `BytesMut` (queued without a copy where
    /// the frame allows).
    ///
    /// # Errors
    /// As [`send_text`](Connection::send_text).
    pub fn send_binary<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), UsageError> {
        let data = data.into();
        self.send_message(MessageKind::Binary, data.src())
    }

    /// Queues a message encoded once with [`PreparedMessage`] — the same bytes for every
    /// receiver of a broadcast, so nothing is encoded or copied again (server role). A
    /// client masks every frame with its own key, so for a client this copies and masks
    /// the payload like [`send_binary`](Connection::send_binary).
    ///
    /// The message is sent as it is, without the extension's transform.
    ///
    /// # Errors
    /// As [`send_text`](Connection::send_text).
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), UsageError> {
        self.check_can_send_data(message.frames.len())?;
        if self.sending.is_some() {
            return Err(UsageError::MessageInProgress);
        }
        if self.role.masks_outgoing() {
            let opcode = data_opcode(message.kind);
            self.push_data_frames(opcode, Rsv::NONE, Src::Shared(&message.payload));
        } else {
            flush_pongs(&mut self.out, &mut self.random);
            self.out.push_encoded(&message.frames);
        }
        Ok(())
    }

    #[inline]
    fn send_message(&mut self, kind: MessageKind, payload: Src<'_>) -> Result<(), UsageError> {
        let len = payload.as_slice().len();
        // The common case, without the general machinery: open, no streamed message, no
        // extension, one frame. Anything else (including every error but the limit's,
        // which `check_can_send_data` would give alike) goes the general way.
        if self.state == State::Open
            && self.sending.is_none()
            && self.extension.is_none()
            && len <= self.config.max_send_frame_size
        {
            self.check_can_send_data(len)?;
            self.push_frame(FrameHeader::new(data_opcode(kind), 0), payload);
            return Ok(());
        }
        self.send_message_general(kind, payload)
    }

    fn send_message_general(
        &mut self,
        kind: MessageKind,
        payload: Src<'_>,
    ) -> Result<(), UsageError> {
        let len = payload.as_slice().len();
        self.check_can_send_data(len)?;
        if self.sending.is_some() {
            return Err(UsageError::MessageInProgress);
        }
        let rsv = match self.extension.as_mut() {
            Some(extension) => extension.begin_outgoing(kind, Some(len)),
            None => Rsv::NONE,
        };
        if rsv.is_empty() {
            self.push_data_frames(data_opcode(kind), Rsv::NONE, payload);
            return Ok(());
        }
        let encoded = self.encode(payload.as_slice(), true)?;
        self.push_data_frames(data_opcode(kind), rsv, Src::Shared(&encoded));
        Ok(())
    }

    /// Runs the extension's encoder over a message's payload (or part of it).
    fn encode(&mut self, data: &[u8], end: bool) -> Result<Bytes, UsageError> {
        self.encoded.clear();
        if let Some(extension) = self.extension.as_mut() {
            extension
                .encode(data, end, &mut self.encoded)
                .map_err(UsageError::Extension)?;
        }
        Ok(self.encoded.split().freeze())
    }

    /// Queues a message's frames, at most `max_send_frame_size` bytes each; `rsv` goes
    /// on the first.
    fn push_data_frames(&mut self, opcode: OpCode, rsv: Rsv, payload: Src<'_>) {
        let max = self.config.max_send_frame_size.max(1);
        let len = payload.as_slice().len();
        if len <= max {
            self.push_frame(with_rsv(FrameHeader::new(opcode, 0), rsv), payload);
            return;
        }
        let mut start = 0;
        while start < len {
            let end = len.min(start + max);
            let header = FrameHeader {
                fin: end == len,
                ..if start == 0 {
                    with_rsv(FrameHeader::new(opcode, 0), rsv)
                } else {
                    FrameHeader::new(OpCode::Continuation, 0)
                }
            };
            match payload {
                Src::Borrowed(data) => self.push_frame(header, Src::Borrowed(&data[start..end])),
                Src::Shared(bytes) => {
                    let part = bytes.slice(start..end);
                    self.push_frame(header, Src::Shared(&part));
                }
            }
            start = end;
        }
    }

    /// Begins a streamed message of unknown length: send its parts with
    /// [`send_fragment`](Connection::send_fragment) and end it with
    /// [`finish_message`](Connection::finish_message). Control frames, including
    /// automatic pongs, may go out between the fragments (§5.4).
    ///
    /// # Errors
    /// [`UsageError::Closed`] after a close, [`UsageError::MessageInProgress`] if a
    /// streamed message is already in progress.
    pub fn begin_message(&mut self, kind: MessageKind) -> Result<(), UsageError> {
        if self.state != State::Open {
            return Err(UsageError::Closed);
        }
        if self.sending.is_some() {
            return Err(UsageError::MessageInProgress);
        }
        let rsv = match self.extension.as_mut() {
            Some(extension) => extension.begin_outgoing(kind, None),
            None => Rsv::NONE,
        };
        self.tx_utf8.reset();
        self.sending = Some(OutMessage {
            kind,
            first: true,
            rsv,
        });
        Ok(())
    }

    /// Sends `data` as the next frame of the streamed message. For text, `data` may end
    /// in the middle of a code point that the next fragment completes.
    ///
    /// # Errors
    /// [`UsageError::MessageInProgress`] if no message was begun, [`UsageError::Closed`]
    /// after a close, [`UsageError::InvalidUtf8`] if text so far cannot be valid UTF-8,
    /// [`UsageError::OutgoingBufferFull`] over the limit. Nothing is sent on error.
    pub fn send_fragment<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), UsageError> {
        let data = data.into();
        self.send_streamed(data.src(), false)
    }

    /// Sends `data` (possibly empty) as the last frame of the streamed message.
    ///
    /// # Errors
    /// As [`send_fragment`](Connection::send_fragment), and [`UsageError::InvalidUtf8`]
    /// if the text ends in the middle of a code point.
    pub fn finish_message<'a>(&mut self, data: impl Into<Payload<'a>>) -> Result<(), UsageError> {
        let data = data.into();
        self.send_streamed(data.src(), true)
    }

    fn send_streamed(&mut self, data: Src<'_>, fin: bool) -> Result<(), UsageError> {
        let Some(message) = self.sending else {
            return Err(UsageError::MessageInProgress);
        };
        self.check_can_send_data(data.as_slice().len())?;
        if message.kind == MessageKind::Text {
            // Validate on a copy, so that a refused fragment changes nothing.
            let mut utf8 = self.tx_utf8.clone();
            utf8.feed(data.as_slice())
                .map_err(|_| UsageError::InvalidUtf8)?;
            if fin {
                utf8.finish().map_err(|_| UsageError::InvalidUtf8)?;
            }
            self.tx_utf8 = utf8;
        }
        let header = FrameHeader {
            fin,
            ..if message.first {
                with_rsv(FrameHeader::new(data_opcode(message.kind), 0), message.rsv)
            } else {
                FrameHeader::new(OpCode::Continuation, 0)
            }
        };
        if message.rsv.is_empty() {
            self.push_frame(header, data);
        } else {
            let encoded = self.encode(data.as_slice(), fin)?;
            self.push_frame(header, Src::Shared(&encoded));
        }
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

    /// The outgoing limit (backpressure): a data message is refused when the bytes
    /// already queued and its own would together be over `max_buffered_outgoing`.
    #[inline]
    fn check_can_send_data(&self, len: usize) -> Result<(), UsageError> {
        if self.state != State::Open {
            return Err(UsageError::Closed);
        }
        let wire = wire_len(len, self.config.max_send_frame_size.max(1), self.role);
        if self.buffered_amount().saturating_add(wire) > self.config.max_buffered_outgoing {
            return Err(UsageError::OutgoingBufferFull);
        }
        Ok(())
    }

    /// Sends a ping (§5.5.2).
    ///
    /// # Errors
    /// [`UsageError::ControlPayloadTooLarge`] over 125 bytes, [`UsageError::Closed`]
    /// after a close, [`UsageError::OutgoingBufferFull`] when the queue is over
    /// [`Config::max_buffered_outgoing`] (a ping is optional; the pongs the connection
    /// owes and the close frame are never refused).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (§5.5.3: "A Pong frame MAY be sent unsolicited. This
    /// serves as a unidirectional heartbeat.").
    ///
    /// # Errors
    /// As [`send_ping`](Connection::send_ping).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), UsageError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), UsageError> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLarge);
        }
        if self.state != State::Open {
            return Err(UsageError::Closed);
        }
        if self.buffered_amount().saturating_add(wire_len(
            payload.len(),
            MAX_CONTROL_PAYLOAD,
            self.role,
        )) > self.config.max_buffered_outgoing
        {
            return Err(UsageError::OutgoingBufferFull);
        }
        self.push_frame(FrameHeader::new(opcode, 0), Src::Borrowed(payload));
        Ok(())
    }

    /// Starts the closing handshake (§7.1.2) with a status code and a reason (may be
    /// empty). Incoming messages are still delivered until the peer's close arrives, and
    /// its pings still answered (§5.5.2). Never refused for a full queue: the close frame
    /// must go out.
    ///
    /// # Errors
    /// [`UsageError::InvalidCloseCode`] for a code that may not be sent (1005, 1006,
    /// 1015, undefined ranges: §7.4), [`UsageError::ControlPayloadTooLarge`] if the
    /// reason is over 123 bytes, [`UsageError::Closed`] if a close was already sent or
    /// received.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), UsageError> {
        self.close_with(Some((code, reason)))
    }

    /// Starts the closing handshake with an empty close frame (no status code; the peer
    /// sees 1005).
    ///
    /// # Errors
    /// [`UsageError::Closed`] if a close was already sent or received.
    pub fn close_without_status(&mut self) -> Result<(), UsageError> {
        self.close_with(None)
    }

    fn close_with(&mut self, close: Option<(CloseCode, &str)>) -> Result<(), UsageError> {
        if self.state != State::Open {
            return Err(UsageError::Closed);
        }
        let mut body = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
        encode_close_payload(close, &mut body)?;
        self.push_frame(FrameHeader::new(OpCode::Close, 0), Src::Borrowed(&body));
        self.state = State::CloseSent;
        Ok(())
    }

    // ----- output -----

    /// The bytes queued for the transport, as a [`bytes::Buf`]: write
    /// [`chunk`](Buf::chunk) (or, with `std`, [`chunks_vectored`](Buf::chunks_vectored)),
    /// then [`advance`](Buf::advance) by what the transport took. tokio's
    /// `AsyncWriteExt::write_buf(ws.outgoing())` does both. Held automatic pongs join
    /// the queue now.
    pub fn outgoing(&mut self) -> &mut Outgoing {
        flush_pongs(&mut self.out, &mut self.random);
        &mut self.out
    }

    /// Takes every byte queued for the transport (frames, pongs, close frames) as one
    /// `Vec`, counting them as written. Write all of them, in order: dropping them loses
    /// what they carry (a close frame, say).
    #[must_use = "the bytes must be written to the transport"]
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.take_outgoing_into(&mut buf);
        buf
    }

    /// Appends every byte queued for the transport to `buf`, reusing its allocation, and
    /// counts them as written.
    pub fn take_outgoing_into(&mut self, buf: &mut Vec<u8>) {
        flush_pongs(&mut self.out, &mut self.random);
        self.out.take_all(buf);
    }

    // ----- framing -----

    /// Queues a frame after the pongs still held, so that frames go out in the order
    /// their causes arrived: a pong for a ping received before a message is written
    /// before that message's echo (Autobahn 5.6, 5.19 compare the order).
    #[inline]
    fn push_frame(&mut self, header: FrameHeader, payload: Src<'_>) {
        flush_pongs(&mut self.out, &mut self.random);
        let header = FrameHeader {
            mask: next_mask(&mut self.random),
            ..header
        };
        self.out.push_frame(header, payload);
    }
}

/// The message-level checks on a frame's header, made before its payload is awaited;
/// says how its payload is checked as text.
#[inline]
fn check_header(
    header: &FrameHeader,
    message: Option<InMessage>,
    config: &Config,
    extension: &mut Option<Box<dyn Extension>>,
    transformed: &mut bool,
) -> Result<TextCheck, ProtocolError> {
    let (kind, first) = match (header.opcode, message) {
        (OpCode::Text, None) => (MessageKind::Text, true),
        (OpCode::Binary, None) => (MessageKind::Binary, true),
        // §5.4: the fragments of one message are not interleaved with another's.
        (OpCode::Text | OpCode::Binary, Some(_)) => {
            return Err(ProtocolError::ExpectedContinuation);
        }
        (OpCode::Continuation, Some(message)) => (message.kind, false),
        // §5.4: a continuation frame continues a message begun by a text or binary
        // frame with FIN clear.
        (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
        (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => {
            if let Some(extension) = extension {
                extension.check_frame(header)?;
            }
            return Ok(TextCheck::None);
        }
    };
    // §5.2 and §9: the extension says where its RSV bits may appear.
    *transformed = match extension {
        Some(extension) if first => extension.begin_incoming(header)?,
        Some(extension) => {
            extension.check_frame(header)?;
            message.is_some_and(|m| m.transformed)
        }
        None => false,
    };
    if *transformed {
        // Text is checked after decoding, and the size limit applies to the decoded
        // message (the extension enforces it while decoding).
        return Ok(TextCheck::None);
    }
    if !config.stream_fragments {
        let before = message.map_or(0, |m| m.size);
        if before.saturating_add(header.payload_len) > config.max_message_size {
            return Err(ProtocolError::MessageTooLarge {
                max: config.max_message_size,
            });
        }
    }
    Ok(match kind {
        MessageKind::Binary => TextCheck::None,
        MessageKind::Text if config.stream_fragments && !(first && header.fin) => TextCheck::Stream,
        // A message in one frame, or a frame of one that is joined: checked in one pass
        // when the frame arrives at once.
        MessageKind::Text => TextCheck::Whole,
    })
}

/// The body of `Connection::fail`, over the fields it changes, so that it can run while
/// a payload in `rx` or `joined` is still borrowed; those are released by `settle`.
fn fail_parts(
    state: &mut State,
    out: &mut Outgoing,
    random: &mut Option<Box<dyn RandomSource + Send>>,
    decoder: &mut FrameDecoder,
    message: &mut Option<InMessage>,
    error: ProtocolError,
) -> ProtocolError {
    let code = error.close_code();
    if matches!(*state, State::Open | State::CloseSent) {
        flush_pongs(out, random);
    }
    out.drop_pongs();
    if *state == State::Open && code.is_valid_on_wire() {
        let mut body = Vec::with_capacity(2);
        if encode_close_payload(Some((code, "")), &mut body).is_ok() {
            let header = FrameHeader {
                mask: next_mask(random),
                ..FrameHeader::new(OpCode::Close, 0)
            };
            out.push_frame(header, Src::Borrowed(&body));
        }
    }
    *state = State::Failed;
    decoder.reset();
    *message = None;
    error
}

fn is_text(what: What) -> bool {
    matches!(
        what,
        What::Message(MessageKind::Text)
            | What::Fragment {
                kind: MessageKind::Text,
                first: true,
                fin: true,
            }
    )
}

fn own(what: What, payload: Bytes) -> Event {
    match what {
        What::Message(MessageKind::Text) => Event::Text(Utf8Bytes::from_validated(payload)),
        What::Message(MessageKind::Binary) => Event::Binary(payload),
        What::Fragment { kind, first, fin } => Event::Fragment(Fragment {
            kind,
            data: payload,
            first,
            fin,
        }),
        What::Ping => Event::Ping(payload),
        What::Pong => Event::Pong(payload),
        What::Close(code) => Event::Close(CloseFrame {
            code,
            reason: if payload.len() > 2 {
                Utf8Bytes::from_validated(payload.slice(2..))
            } else {
                Utf8Bytes::default()
            },
        }),
    }
}

fn lend(what: What, data: &[u8]) -> EventRef<'_> {
    match what {
        What::Message(MessageKind::Binary) => EventRef::Binary(data),
        What::Message(MessageKind::Text) => {
            unreachable!("next_event_ref lends text itself, as a checked &str")
        }
        What::Fragment { kind, first, fin } => EventRef::Fragment {
            kind,
            data,
            first,
            fin,
        },
        What::Ping => EventRef::Ping(data),
        What::Pong => EventRef::Pong(data),
        What::Close(code) => EventRef::Close {
            code,
            reason: match parse_close_payload(data) {
                Ok(Some((_, reason))) => reason,
                _ => "",
            },
        },
    }
}

/// The bytes a message of `len` bytes takes on the wire when split into frames of at
/// most `max` bytes (a message extension may change it; this counts it untransformed).
#[inline]
fn wire_len(len: usize, max: usize, role: Role) -> usize {
    let header = |payload: usize| crate::frame::header_len(payload as u64, role.masks_outgoing());
    if len <= max {
        return len + header(len);
    }
    let (full, rest) = (len / max, len % max);
    let mut wire = len.saturating_add(full.saturating_mul(header(max)));
    if rest > 0 || len == 0 {
        wire = wire.saturating_add(header(rest));
    }
    wire
}

fn data_opcode(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}

fn with_rsv(header: FrameHeader, rsv: Rsv) -> FrameHeader {
    FrameHeader {
        rsv1: rsv.contains(Rsv::RSV1),
        rsv2: rsv.contains(Rsv::RSV2),
        rsv3: rsv.contains(Rsv::RSV3),
        ..header
    }
}

#[inline]
fn flush_pongs(out: &mut Outgoing, random: &mut Option<Box<dyn RandomSource + Send>>) {
    if out.has_pongs() {
        out.flush_pongs(|| next_mask(random));
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

/// A message encoded once as a server's frames, to queue to many connections with
/// [`Connection::send_prepared`] without encoding or copying it again (a broadcast).
///
/// ```
/// use rfc6455::{Config, Connection, PreparedMessage};
///
/// let message = PreparedMessage::text("to everyone");
/// let mut room = vec![Connection::server(Config::default()), Connection::server(Config::default())];
/// for ws in &mut room {
///     ws.send_prepared(&message)?;
///     assert_eq!(ws.take_outgoing(), b"\x81\x0bto everyone");
/// }
/// # Ok::<(), rfc6455::UsageError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    kind: MessageKind,
    payload: Bytes,
    /// The unmasked frames, as a server sends them.
    frames: Bytes,
}

impl PreparedMessage {
    /// A text message.
    pub fn text<'a>(text: impl Into<TextPayload<'a>>) -> Self {
        let text = text.into();
        Self::new(MessageKind::Text, text.src())
    }

    /// A binary message.
    pub fn binary<'a>(data: impl Into<Payload<'a>>) -> Self {
        let data = data.into();
        Self::new(MessageKind::Binary, data.src())
    }

    fn new(kind: MessageKind, payload: Src<'_>) -> Self {
        let payload = match payload {
            Src::Borrowed(data) => Bytes::copy_from_slice(data),
            Src::Shared(bytes) => bytes.clone(),
        };
        let header = FrameHeader::new(data_opcode(kind), payload.len() as u64);
        let mut head = [0u8; crate::frame::MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        let mut frames = BytesMut::with_capacity(head_len + payload.len());
        frames.extend_from_slice(&head[..head_len]);
        frames.extend_from_slice(&payload);
        PreparedMessage {
            kind,
            payload,
            frames: frames.freeze(),
        }
    }

    /// Text or binary.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The message's payload.
    #[must_use]
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("received", &self.rx.len())
            .field("buffered_amount", &self.buffered_amount())
            .field("extension", &self.extension.is_some())
            .finish_non_exhaustive()
    }
}
