//! The zero-allocation receive path (issue 9): a server echo loop over 16-byte binary
//! messages, driven as a user's read loop drives it — reads into `receive_buffer`,
//! messages taken with `next_event_ref`, the echo queued with `send_binary` and written
//! through `outgoing` — allocates nothing per message once warmed up. A counting global
//! allocator (this test binary's only) counts every allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Buf, BufMut};
use rfc6455::{Config, Connection, EventRef};

struct Counting;

thread_local! {
    /// Whether this thread's allocations are counted: only the test's own thread, not
    /// the test harness printing results from another.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// The counter is global: the tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: forwards to the system allocator unchanged; only counts calls.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A masked binary frame from a client (§5.2, §5.3), as a browser sends it.
fn client_frame(payload: &[u8; 16], key: [u8; 4]) -> [u8; 22] {
    let mut frame = [0u8; 22];
    frame[0] = 0x82;
    frame[1] = 0x80 | 16;
    frame[2..6].copy_from_slice(&key);
    for (i, b) in payload.iter().enumerate() {
        frame[6 + i] = b ^ key[i % 4];
    }
    frame
}

/// Runs `messages` echoes, reading `per_read` frames per read; returns a checksum of
/// what was written and the bytes written.
fn echo_loop(ws: &mut Connection, wire: &[u8], per_read: usize, messages: usize) -> (u64, usize) {
    let mut sum = 0u64;
    let mut written = 0;
    let mut echoed = 0;
    let mut pos = 0;
    while echoed < messages {
        let room = ws.receive_buffer();
        let n = (22 * per_read).min(room.capacity()).min(wire.len() - pos);
        room.put_slice(&wire[pos..pos + n]);
        pos = (pos + n) % wire.len();
        // The message is copied to the stack to be answered: the borrowed view lives in
        // the connection's buffer, which the send would change.
        let mut data = [0u8; 16];
        while let Some(event) = ws.next_event_ref().expect("valid frames") {
            let EventRef::Binary(payload) = event else {
                panic!("binary messages only")
            };
            data.copy_from_slice(payload);
            ws.send_binary(&data).expect("room to send");
            echoed += 1;
        }
        let out = ws.outgoing();
        while out.has_remaining() {
            let chunk = out.chunk();
            sum = chunk
                .iter()
                .fold(sum, |s, &b| s.wrapping_mul(31) ^ u64::from(b));
            written += chunk.len();
            let len = chunk.len();
            out.advance(len);
        }
    }
    (sum, written)
}

#[test]
fn a_16_byte_echo_loop_allocates_nothing_per_message() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // 1,000 distinct frames, replayed.
    let mut wire = Vec::new();
    for i in 0..1000u32 {
        let mut payload = [0u8; 16];
        payload[..4].copy_from_slice(&i.to_le_bytes());
        wire.extend_from_slice(&client_frame(&payload, (i * 7 + 1).to_be_bytes()));
    }
    for per_read in [1, 7, 1000] {
        let mut ws = Connection::server(Config::default());
        // Warm up: buffers reach their steady size.
        echo_loop(&mut ws, &wire, per_read, 2000);
        ALLOCATIONS.store(0, Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        let (_, written) = echo_loop(&mut ws, &wire, per_read, 10_000);
        COUNTING.with(|c| c.set(false));
        let allocations = ALLOCATIONS.load(Ordering::Relaxed);
        // Every echo was written: 18 bytes each (2-byte header, unmasked, 16 bytes).
        assert!(written >= 18 * 10_000, "{written}");
        assert_eq!(written % 18, 0);
        assert_eq!(
            allocations, 0,
            "{allocations} allocations for 10,000 messages, {per_read} per read"
        );
    }
}

/// The counter counts: the owned path copies each small payload into a `Bytes` of its
/// own (one allocation per message, `next_event`'s documented cost), which the
/// borrowed path above avoids.
#[test]
fn the_owned_path_allocates_per_message() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let wire = client_frame(&[3; 16], [1, 2, 3, 4]);
    let mut ws = Connection::server(Config::default());
    for _ in 0..100 {
        ws.receive(&wire);
        assert!(ws.next_event().unwrap().is_some());
    }
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for _ in 0..100 {
        ws.receive(&wire);
        assert!(ws.next_event().unwrap().is_some());
    }
    COUNTING.with(|c| c.set(false));
    assert!(ALLOCATIONS.load(Ordering::Relaxed) >= 100);
}
