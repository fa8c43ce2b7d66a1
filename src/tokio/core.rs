//! The I/O driver under [`WebSocket`](super::WebSocket) and its halves: a `Connection`
//! and a stream, driven by `poll_*` functions that never wait while holding anything.
//!
//! # Who does what
//!
//! - **Reading** is done only by the read side (`poll_recv`): the unsplit `WebSocket`'s
//!   `recv`/`Stream`, or the `ReadHalf`. It also writes what the connection queued by
//!   itself — pongs, the echo of the peer's close, the close frame of a protocol error —
//!   so those go out even while the application sends nothing. It drives keepalive and
//!   the close deadline, and the transport close (flush, `shutdown`, drain to end of
//!   stream, in the order of §7.1.1 for the role).
//! - **Writing** is done by whichever side needs bytes out: the write side to make room
//!   (`poll_ready`, backpressure) or to flush, the read side for control frames. Both
//!   write the one outgoing queue, in order.
//!
//! # Wakers
//!
//! A tokio stream keeps one waker per direction, so two tasks writing in turn would
//! overwrite each other's registration and one could sleep for ever. Every write-side
//! poll of the stream (`poll_write`, `poll_flush`, `poll_shutdown`) therefore passes a
//! waker of ours that wakes every task waiting to write ([`Wakers`]); and a side that
//! makes write progress or changes the state wakes the other side too. Spurious wake-ups
//! are possible; lost ones are not.
//!
//! # Timers
//!
//! Two lazily re-armed `Sleep`s. The read side's fires at the earliest of the keepalive
//! deadline, the close deadline and the write-stall deadline; the write side's at the
//! write-stall deadline only (a task that only sends must not send keepalive pings it
//! will never read the answer to). A deadline that moves later (every read moves the
//! keepalive one) does not touch the timer: when it fires early, it is re-armed.
//! Each deadline is set once: the close deadline when our close frame is queued or the
//! peer's arrives, and it bounds everything after — waiting for the peer's close,
//! writing, `shutdown` and draining to its end of stream.

use alloc::boxed::Box;
use alloc::string::ToString;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};
use std::future::Future;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Wake;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use ::tokio::time::{Duration, Instant, Sleep};
use bytes::Buf;

use super::{Error, Message, Options, Timeout};
use crate::{CloseCode, Connection, ConnectionState, PreparedMessage, ProtocolError, UsageError};

/// Unwritten control bytes (pongs, mostly) above which the read side stops reading until
/// they are written: a peer that floods pings and never reads cannot grow our queue.
const MAX_UNWRITTEN_CONTROL: usize = 64 * 1024;

/// The timing settings the driver needs, copied from [`Options`].
#[derive(Debug, Clone, Copy)]
struct Timing {
    keepalive_interval: Option<Duration>,
    keepalive_timeout: Duration,
    close_timeout: Duration,
    write_timeout: Option<Duration>,
    write_buffer_size: usize,
}

/// Which side of the driver is polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Read = 0,
    Write = 1,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Read => Side::Write,
            Side::Write => Side::Read,
        }
    }
}

/// Where the transport is in its life. Messages flow only in `Open`; the others close
/// it, each bounded by the close deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The connection is open, or our close was sent and we wait for the peer's.
    Open,
    /// Writing what is queued (the close frame among it).
    Flush,
    /// Shutting down our write direction (TCP FIN).
    Shutdown,
    /// Reading and discarding until the peer's end of stream, so that closing the
    /// socket with unread bytes does not reset the connection (which can destroy the
    /// close frame before the peer reads it).
    Drain,
    /// Finished: nothing more is read or written.
    Done,
}

/// The tasks waiting on the driver. Slots 0/1: the read/write side waiting for the
/// stream to take bytes; slots 2/3: the read/write side waiting for anything.
#[derive(Debug, Default)]
struct Wakers {
    slots: Mutex<[Option<Waker>; 4]>,
}

impl Wakers {
    fn register(&self, slot: usize, waker: &Waker) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        match &slots[slot] {
            Some(w) if w.will_wake(waker) => {}
            _ => slots[slot] = Some(waker.clone()),
        }
    }

    /// Wakes the tasks in the given slots.
    fn wake_slots(&self, which: &[usize]) {
        let mut taken: [Option<Waker>; 4] = Default::default();
        {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            for &i in which {
                taken[i] = slots[i].take();
            }
        }
        for waker in taken.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Wakes `side` for any reason.
    fn notify(&self, side: Side) {
        let i = side as usize;
        self.wake_slots(&[i, i + 2]);
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_slots(&[0, 1]);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_slots(&[0, 1]);
    }
}

/// A lazily re-armed deadline.
#[derive(Debug, Default)]
struct Timer {
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timer {
    /// Ready once `deadline` has passed.
    fn poll(&mut self, cx: &mut Context<'_>, deadline: Instant) -> Poll<()> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(deadline)));
        if sleep.deadline() > deadline || (sleep.is_elapsed() && sleep.deadline() != deadline) {
            sleep.as_mut().reset(deadline);
        }
        loop {
            match sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if sleep.deadline() >= deadline => return Poll::Ready(()),
                // Fired for an earlier deadline that has since moved: re-arm.
                Poll::Ready(()) => sleep.as_mut().reset(deadline),
            }
        }
    }
}

/// A connection and its stream, with the state of the adapter around them.
pub(crate) struct Core<S> {
    stream: S,
    ws: Connection,
    timing: Timing,
    phase: Phase,
    /// The last thing the read side reports before the end: the peer's close, or the
    /// error that ended the connection.
    finished: Option<Result<Message, Error>>,
    /// Whether our write direction was shut down.
    shut_down: bool,
    /// Whether the peer's end of stream was read.
    eof: bool,
    /// When bytes last arrived.
    last_heard: Instant,
    /// When our keepalive ping was queued, while nothing arrived since.
    ping_outstanding: Option<Instant>,
    /// The single deadline for the whole close, set when it starts.
    close_deadline: Option<Instant>,
    /// Since when the stream has taken none of the bytes we have for it.
    write_blocked_since: Option<Instant>,
    /// Control bytes (pongs) queued since the queue was last empty.
    unwritten_control: usize,
    /// Whether bytes were written since the stream was last flushed.
    needs_flush: bool,
    read_timer: Timer,
    write_timer: Timer,
    wakers: Arc<Wakers>,
    /// Wakes every task waiting to write: passed to the stream's write-side polls.
    write_waker: Waker,
}

impl<S> core::fmt::Debug for Core<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.ws.role())
            .field("state", &self.ws.state())
            .field("phase", &self.phase)
            .field("buffered_amount", &self.ws.buffered_amount())
            .finish_non_exhaustive()
    }
}

impl<S> Core<S> {
    pub(crate) fn new(stream: S, ws: Connection, options: &Options) -> Self {
        let wakers = Arc::new(Wakers::default());
        Core {
            stream,
            ws,
            timing: Timing {
                keepalive_interval: options.keepalive_interval,
                keepalive_timeout: options.keepalive_timeout,
                close_timeout: options.close_timeout,
                write_timeout: options.write_timeout,
                write_buffer_size: options.write_buffer_size,
            },
            phase: Phase::Open,
            finished: None,
            shut_down: false,
            eof: false,
            last_heard: Instant::now(),
            ping_outstanding: None,
            close_deadline: None,
            write_blocked_since: None,
            unwritten_control: 0,
            needs_flush: false,
            read_timer: Timer::default(),
            write_timer: Timer::default(),
            write_waker: Waker::from(Arc::clone(&wakers)),
            wakers,
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.ws
    }

    pub(crate) fn stream(&self) -> &S {
        &self.stream
    }

    /// The keepalive deadline: when to ping, or when to give up on the peer.
    fn keepalive_deadline(&self) -> Option<Instant> {
        let interval = self.timing.keepalive_interval?;
        if self.close_deadline.is_some() || self.ws.state() != ConnectionState::Open {
            return None;
        }
        Some(match self.ping_outstanding {
            Some(sent) => sent + self.timing.keepalive_timeout,
            None => self.last_heard + interval,
        })
    }

    fn write_deadline(&self) -> Option<Instant> {
        Some(self.write_blocked_since? + self.timing.write_timeout?)
    }

    /// Sets the close deadline, once: everything until the transport is closed must fit
    /// in it.
    fn start_close_timer(&mut self) {
        if self.close_deadline.is_none() {
            self.close_deadline = Some(Instant::now() + self.timing.close_timeout);
            self.wakers.notify(Side::Read);
        }
    }

    /// Ends the connection now, with `error` for the read side unless it already has
    /// its last word.
    fn end(&mut self, error: Error) {
        if self.finished.is_none() {
            self.finished = Some(Err(error));
        }
        self.phase = Phase::Done;
        self.wakers.notify(Side::Read);
        self.wakers.notify(Side::Write);
    }

    /// Ends the connection on an I/O error seen by `side`, which returns it; the read
    /// side reports a copy as its last word if the write side saw it.
    fn end_io(&mut self, error: io::Error, side: Side) -> Error {
        if side == Side::Write {
            self.end(Error::Io(io::Error::new(error.kind(), error.to_string())));
        } else {
            self.phase = Phase::Done;
            self.wakers.notify(Side::Write);
        }
        Error::Io(error)
    }

    /// Sends data, a control frame or a close: the write side's commands.
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(UsageError::Closed.into());
        }
        let ws = &mut self.ws;
        let sent = match message {
            Message::Text(text) => ws.send_text(text),
            Message::Binary(data) => ws.send_binary(data),
            Message::Ping(data) => ws.send_ping(&data),
            Message::Pong(data) => ws.send_pong(&data),
            Message::Close(frame) => {
                match frame {
                    Some(frame) => ws.close(frame.code, frame.reason.as_str()),
                    None => ws.close_without_status(),
                }?;
                self.start_close_timer();
                Ok(())
            }
            Message::Fragment(fragment) => {
                if fragment.first {
                    ws.begin_message(fragment.kind)?;
                }
                if fragment.fin {
                    ws.finish_message(fragment.data)
                } else {
                    ws.send_fragment(fragment.data)
                }
            }
        };
        sent.map_err(Error::Usage)
    }

    /// Queues a prepared (broadcast) message.
    pub(crate) fn start_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        if self.phase != Phase::Open {
            return Err(UsageError::Closed.into());
        }
        Ok(self.ws.send_prepared(message)?)
    }

    /// Queues our close frame, unless a close was already sent or received.
    pub(crate) fn start_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        if self.phase != Phase::Open || self.ws.state() != ConnectionState::Open {
            return Ok(());
        }
        self.ws.close(code, reason)?;
        self.start_close_timer();
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Core<S> {
    /// Writes the queued bytes until the queue is empty (then flushes the stream) or the
    /// stream takes no more.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<io::Result<()>> {
        let mut wcx = Context::from_waker(&self.write_waker);
        let mut progressed = false;
        let result = loop {
            let out = self.ws.outgoing();
            if !out.has_remaining() {
                break Ok(());
            }
            let stream = Pin::new(&mut self.stream);
            let polled = if stream.is_write_vectored() {
                let mut slices = [IoSlice::new(&[]); 64];
                let n = out.chunks_vectored(&mut slices);
                stream.poll_write_vectored(&mut wcx, &slices[..n])
            } else {
                stream.poll_write(&mut wcx, out.chunk())
            };
            match polled {
                Poll::Ready(Ok(0)) => break Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(n)) => {
                    out.advance(n);
                    progressed = true;
                    self.needs_flush = true;
                }
                Poll::Ready(Err(e)) => break Err(e),
                Poll::Pending => break Err(io::ErrorKind::WouldBlock.into()),
            }
        };
        if progressed {
            self.write_blocked_since = None;
            self.wakers.wake_slots(&[side.other() as usize]);
        }
        match result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.wakers.register(side as usize, cx.waker());
                if self.write_blocked_since.is_none() {
                    self.write_blocked_since = Some(Instant::now());
                }
                return Poll::Pending;
            }
            Err(e) => return Poll::Ready(Err(e)),
            Ok(()) => {}
        }
        self.unwritten_control = 0;
        self.write_blocked_since = None;
        if self.needs_flush {
            match Pin::new(&mut self.stream).poll_flush(&mut wcx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.wakers.register(side as usize, cx.waker());
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads once into the connection's receive room.
    fn poll_read_some(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let room = self.ws.receive_buffer();
        pin!(self.stream.read_buf(room)).poll(cx)
    }

    /// The read side's next message, or the end (`None`) once the transport is closed.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            let progressed = match self.phase {
                Phase::Open => match self.poll_open(cx) {
                    Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                    Poll::Ready(None) => true,
                    Poll::Pending => false,
                },
                Phase::Flush => match self.poll_write_out(cx, Side::Read) {
                    Poll::Ready(Ok(())) => {
                        // §7.1.1: the server closes the TCP connection first; a client
                        // whose close handshake is done waits for the server's FIN.
                        self.phase = if self.ws.should_close_transport() || self.eof {
                            Phase::Shutdown
                        } else {
                            Phase::Drain
                        };
                        true
                    }
                    // After the close, an I/O error changes nothing we could report.
                    Poll::Ready(Err(e)) => {
                        if self.finished.is_none() {
                            self.finished = Some(Err(Error::Io(e)));
                        }
                        self.phase = Phase::Done;
                        true
                    }
                    Poll::Pending => false,
                },
                Phase::Shutdown => {
                    let mut wcx = Context::from_waker(&self.write_waker);
                    match Pin::new(&mut self.stream).poll_shutdown(&mut wcx) {
                        Poll::Ready(_) => {
                            self.shut_down = true;
                            self.phase = if self.eof { Phase::Done } else { Phase::Drain };
                            true
                        }
                        Poll::Pending => {
                            self.wakers.register(Side::Read as usize, cx.waker());
                            false
                        }
                    }
                }
                Phase::Drain => {
                    let mut scratch = [0u8; 2048];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                            self.eof = true;
                            self.phase = if self.shut_down {
                                Phase::Done
                            } else {
                                Phase::Shutdown
                            };
                            true
                        }
                        Poll::Ready(Ok(())) => true,
                        Poll::Ready(Err(_)) => {
                            self.phase = Phase::Done;
                            true
                        }
                        Poll::Pending => false,
                    }
                }
                Phase::Done => return Poll::Ready(self.finished.take()),
            };
            if progressed {
                continue;
            }
            // Nothing to do until the stream or a timer says so.
            match self.poll_read_timer(cx) {
                Poll::Ready(()) => {}
                Poll::Pending => {
                    self.wakers.register(Side::Read as usize + 2, cx.waker());
                    return Poll::Pending;
                }
            }
        }
    }

    /// One step of the open phase: `Ready(Some)` is a message for the caller,
    /// `Ready(None)` progress, `Pending` nothing to do.
    fn poll_open(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        match self.ws.next_event() {
            Ok(Some(event)) => match Message::from_event(event) {
                Message::Close(frame) => {
                    // The echo is queued (§5.5.1); the caller hears of the close once it
                    // is written and the transport closed.
                    self.finished = Some(Ok(Message::Close(frame)));
                    self.start_transport_close();
                    return Poll::Ready(None);
                }
                message => {
                    // A ping's pong goes out now, even if the caller then stops receiving
                    // for a while. Data the caller queued waits for the write before the
                    // next read: the answers to all the messages of one read go out in
                    // one write.
                    if let Message::Ping(ping) = &message {
                        self.unwritten_control += ping.len() + 14;
                    }
                    if self.unwritten_control > 0 && self.ws.wants_write() {
                        if let Poll::Ready(Err(e)) = self.poll_write_out(cx, Side::Read) {
                            return Poll::Ready(Some(Err(self.end_io(e, Side::Read))));
                        }
                    }
                    return Poll::Ready(Some(Ok(message)));
                }
            },
            Ok(None) => {}
            Err(error) => {
                // §7.1.7: the close frame with the error's code is queued (none for
                // 1006); the error is reported once it is written and TCP is closed.
                self.finished = Some(Err(Error::Protocol(error)));
                if error == ProtocolError::UnexpectedEof {
                    self.eof = true;
                }
                self.start_transport_close();
                return Poll::Ready(None);
            }
        }
        if !self.ws.wants_read() {
            self.start_transport_close();
            return Poll::Ready(None);
        }
        if self.ws.wants_write() {
            if let Poll::Ready(Err(e)) = self.poll_write_out(cx, Side::Read) {
                return Poll::Ready(Some(Err(self.end_io(e, Side::Read))));
            }
        }
        if self.unwritten_control > MAX_UNWRITTEN_CONTROL && self.ws.wants_write() {
            // A ping flood from a peer that does not read: wait for the pongs to go out.
            return Poll::Pending;
        }
        match self.poll_read_some(cx) {
            Poll::Ready(Ok(0)) => {
                self.ws.receive_eof();
                Poll::Ready(None)
            }
            Poll::Ready(Ok(_)) => {
                self.last_heard = Instant::now();
                self.ping_outstanding = None;
                Poll::Ready(None)
            }
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(self.end_io(e, Side::Read)))),
            Poll::Pending => {
                // Nothing to read: an idle connection keeps no empty buffers.
                self.ws.release_buffers();
                Poll::Pending
            }
        }
    }

    /// Starts closing the transport: write what is queued, then shut down and drain.
    fn start_transport_close(&mut self) {
        self.start_close_timer();
        self.phase = Phase::Flush;
        self.wakers.notify(Side::Write);
    }

    /// Polls the read side's timer; when it fires, acts on the deadlines that passed.
    /// `Ready` means something changed.
    fn poll_read_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = [
            self.close_deadline,
            self.keepalive_deadline(),
            self.write_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        if self.read_timer.poll(cx, deadline).is_pending() {
            return Poll::Pending;
        }
        let now = Instant::now();
        if self.close_deadline.is_some_and(|d| d <= now) {
            // After the peer's close (or a protocol error) the last word is kept; if we
            // closed and the peer never answered, the close timed out.
            self.end(Error::Timeout(Timeout::Close));
        } else if self.write_deadline().is_some_and(|d| d <= now) {
            self.end(Error::Timeout(Timeout::Write));
        } else if self.keepalive_deadline().is_some_and(|d| d <= now) {
            if self.ping_outstanding.is_some() {
                // Nothing at all arrived since our ping: the peer is gone or stuck. Say
                // so if the stream takes it at once, but wait for nothing more.
                let _ = self
                    .ws
                    .close(CloseCode::INTERNAL_ERROR, "keepalive timeout");
                let _ = self.poll_write_out(cx, Side::Read);
                self.end(Error::Timeout(Timeout::Keepalive));
            } else {
                let _ = self.ws.send_ping(b"");
                self.ping_outstanding = Some(now);
            }
        }
        Poll::Ready(())
    }

    /// Polls the write side's timer (the write-stall deadline).
    fn poll_write_stall(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let Some(deadline) = self.write_deadline() else {
            return Poll::Pending;
        };
        match self.write_timer.poll(cx, deadline) {
            Poll::Ready(()) => {
                self.end(Error::Timeout(Timeout::Write));
                Poll::Ready(Error::Timeout(Timeout::Write))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Ready when the connection can take another message: the queue is at or below the
    /// write buffer size (backpressure).
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.phase != Phase::Open || self.ws.state() != ConnectionState::Open {
                return Poll::Ready(Err(UsageError::Closed.into()));
            }
            if self.ws.buffered_amount() <= self.timing.write_buffer_size {
                return Poll::Ready(Ok(()));
            }
            match self.poll_write_out(cx, Side::Write) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.end_io(e, Side::Write))),
                Poll::Pending => return self.poll_write_stall(cx).map(Err),
            }
        }
    }

    /// Ready when everything queued was written and the stream flushed.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.phase == Phase::Done {
            return Poll::Ready(if self.ws.wants_write() {
                Err(UsageError::Closed.into())
            } else {
                Ok(())
            });
        }
        match self.poll_write_out(cx, Side::Write) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.end_io(e, Side::Write))),
            Poll::Pending => {
                self.wakers.register(Side::Write as usize + 2, cx.waker());
                self.poll_write_stall(cx).map(Err)
            }
        }
    }
}
