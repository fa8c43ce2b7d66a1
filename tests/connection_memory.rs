//! The memory a connection holds: once it is closed or failed, its receive buffers are
//! given back (a server with many finished connections must not keep their largest
//! messages' buffers). A global allocator (this test binary's only) counts the bytes
//! live on the test's own thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rfc6455::{Config, Connection, Event, ProtocolError};

struct Live;

thread_local! {
    /// Bytes allocated and not freed by this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get() + n));
}

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Live = Live;

fn live() -> isize {
    LIVE.with(Cell::get)
}

/// A masked frame from a client, any length, key 00 00 00 00.
fn client_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = vec![b0];
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(payload);
    out
}

/// A large message in one frame and two fragmented ones (binary, then text, each
/// joined in its own buffer), each read and dropped (the text borrowed, so that its
/// buffer is kept for the next message), then what `end` does to the connection;
/// returns the bytes the connection holds afterwards, beyond what a new one holds.
fn after_large_messages(end: impl Fn(&mut Connection)) -> isize {
    let mut input = client_frame(0x82, &vec![1; 1 << 20]);
    input.extend(client_frame(0x02, &vec![2; 512 << 10]));
    input.extend(client_frame(0x80, &vec![3; 512 << 10]));
    input.extend(client_frame(0x01, &vec![b'a'; 512 << 10]));
    input.extend(client_frame(0x80, &vec![b'b'; 512 << 10]));
    let before = live();
    let mut ws = Connection::server(Config::default());
    let idle = live() - before;
    ws.receive(&input);
    for len in [1 << 20, 1 << 20] {
        match ws.next_event() {
            Ok(Some(Event::Binary(data))) => assert_eq!(data.len(), len),
            other => panic!("{other:?}"),
        }
    }
    match ws.next_event_ref() {
        Ok(Some(rfc6455::EventRef::Text(text))) => assert_eq!(text.len(), 1 << 20),
        other => panic!("{other:?}"),
    }
    end(&mut ws);
    let _ = ws.take_outgoing();
    let held = live() - before - idle;
    drop(ws);
    drop(input);
    held
}

#[test]
fn a_closed_connection_gives_its_receive_memory_back() {
    let held = after_large_messages(|ws| {
        ws.receive(&client_frame(0x88, &1000u16.to_be_bytes()));
        assert!(matches!(ws.next_event(), Ok(Some(Event::Close(_)))));
        assert_eq!(ws.next_event(), Ok(None));
    });
    assert!(held < 16 << 10, "{held} bytes held after the close");
}

#[test]
fn a_failed_connection_gives_its_receive_memory_back() {
    let held = after_large_messages(|ws| {
        ws.receive(&client_frame(0x83, b""));
        assert_eq!(ws.next_event(), Err(ProtocolError::ReservedOpcode(3)));
        assert_eq!(ws.next_event(), Ok(None));
    });
    assert!(held < 16 << 10, "{held} bytes held after the failure");
}

/// Many small messages queued and written: the outgoing queue grew past 64 KiB, and gives
/// it back once drained, whether taken at once or written through the `Buf`.
#[test]
fn a_drained_outgoing_queue_gives_its_memory_back() {
    use bytes::Buf;
    for through_buf in [false, true] {
        let before = live();
        let mut ws = rfc6455::Connection::server(Config::default());
        for _ in 0..1000 {
            ws.send_binary(&[5u8; 200][..]).unwrap();
        }
        assert!(live() - before > 200_000);
        if through_buf {
            while ws.outgoing().has_remaining() {
                let n = ws.outgoing().chunk().len();
                ws.outgoing().advance(n);
            }
        } else {
            let wire = ws.take_outgoing();
            assert_eq!(wire.len(), 1000 * (4 + 200)); // 126 and a 16-bit length
        }
        let held = live() - before;
        assert!(
            held < 16 << 10,
            "{held} bytes held after the queue drained (through_buf {through_buf})"
        );
    }
}

/// A large frame read the way a server reads (64 KiB at a time into `receive_buffer`),
/// consumed borrowed or owned (and the payload dropped): its room is reused while reads
/// bring bytes, and given back at the first read that brings nothing. At most 128 KiB
/// (two of the largest reads) stays. The frame ends at every offset in a read, so the
/// room left past it ranges from none to almost a whole read.
#[test]
fn a_large_frame_room_is_given_back_when_the_connection_goes_idle() {
    for borrowed in [false, true] {
        for tail in [0usize, 1, 4000, 40_000, 65_535] {
            let wire = client_frame(0x82, &vec![6; (1 << 20) + tail]);
            let before = live();
            let mut ws = Connection::server(Config::default());
            let mut at = 0;
            let mut got = 0;
            while got == 0 {
                let room = ws.receive_buffer();
                let n = (room.capacity() - room.len())
                    .min(64 << 10)
                    .min(wire.len() - at);
                room.extend_from_slice(&wire[at..at + n]);
                at += n;
                if borrowed {
                    while let Some(event) = ws.next_event_ref().unwrap() {
                        let rfc6455::EventRef::Binary(data) = event else {
                            panic!("a binary message")
                        };
                        got = data.len();
                    }
                } else {
                    while let Some(event) = ws.next_event().unwrap() {
                        let Event::Binary(data) = event else {
                            panic!("a binary message")
                        };
                        got = data.len();
                    }
                }
            }
            assert_eq!(got, (1 << 20) + tail);
            // The next read would block: its room is lent, nothing comes.
            let _ = ws.receive_buffer();
            assert_eq!(ws.next_event(), Ok(None));
            let held = live() - before;
            assert!(
                held <= 128 << 10,
                "borrowed {borrowed}, tail {tail}: {held} bytes held when idle"
            );
            drop(ws);
        }
    }
}
