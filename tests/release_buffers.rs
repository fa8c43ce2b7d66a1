//! `Connection::release_buffers` (issue 12: idle memory): it gives back only empty
//! buffers, so nothing received or queued is lost, and the connection works on; and the
//! tokio adapter calls it when a read would block, so an idle connection holds none.
#![cfg(feature = "std")]

use rfc6455::{Config, Connection, Event, MessageKind};

/// A client's frames (masked, §5.3) for the server under test.
fn client_bytes(send: impl FnOnce(&mut Connection)) -> Vec<u8> {
    let mut client = Connection::client(Config::default());
    send(&mut client);
    client.take_outgoing()
}

#[test]
fn an_idle_connection_holds_no_buffer() {
    let mut server = Connection::server(Config::default());
    let frame = client_bytes(|c| c.send_binary(&b"hello"[..]).unwrap());
    server.receive_buffer().extend_from_slice(&frame);
    let Some(Event::Binary(data)) = server.next_event().unwrap() else {
        panic!("a binary message")
    };
    server.send_binary(data).unwrap();
    let _ = server.take_outgoing();
    // A read would block now: its room was lent, nothing came.
    assert!(server.receive_buffer().capacity() > 0);
    assert!(server.buffer_capacity() > 0);
    server.release_buffers();
    assert_eq!(server.buffer_capacity(), 0);
    // And it works on.
    let frame = client_bytes(|c| c.send_text("again").unwrap());
    server.receive(&frame);
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Text("again".into()))
    );
}

#[test]
fn a_partial_frame_is_kept() {
    let mut server = Connection::server(Config::default());
    let frame = client_bytes(|c| c.send_binary(vec![7u8; 3000]).unwrap());
    // Every split: header, mask key or payload cut anywhere.
    for cut in [1, 2, 4, 6, 7, 100, 2999] {
        server.receive_buffer().extend_from_slice(&frame[..cut]);
        assert_eq!(server.next_event().unwrap(), None);
        server.release_buffers();
        assert!(
            server.buffer_capacity() >= cut,
            "the {cut} bytes received are kept"
        );
        server.receive(&frame[cut..]);
        assert_eq!(
            server.next_event().unwrap(),
            Some(Event::Binary(vec![7u8; 3000].into())),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_message_in_fragments_is_kept() {
    let mut server = Connection::server(Config::default());
    let (first, rest) = {
        let mut client = Connection::client(Config::default());
        client.begin_message(MessageKind::Text).unwrap();
        client.send_fragment(&b"first half, "[..]).unwrap();
        let first = client.take_outgoing();
        client.finish_message(&b"second half"[..]).unwrap();
        (first, client.take_outgoing())
    };
    server.receive(&first);
    assert_eq!(server.next_event().unwrap(), None);
    server.release_buffers();
    server.receive(&rest);
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Text("first half, second half".into()))
    );
}

#[test]
fn queued_bytes_are_kept() {
    let mut server = Connection::server(Config::default());
    server.send_text("not written yet").unwrap();
    server.send_binary(vec![1u8; 5000]).unwrap();
    let before = server.buffered_amount();
    server.release_buffers();
    assert_eq!(server.buffered_amount(), before);
    let out = server.take_outgoing();
    assert_eq!(&out[..17], b"\x81\x0fnot written yet");
    assert_eq!(out.len(), before);
    server.release_buffers();
    assert_eq!(server.buffer_capacity(), 0);
}

#[test]
fn reads_that_would_block_do_not_shrink_the_room() {
    // Reads that fill the room grow it (to 64 KiB); a read that would block brings
    // nothing and says nothing about read sizes, so the room stays large across idle
    // moments (where the adapter releases the buffers): a 16 KiB message keeps arriving
    // in one read, not in a 4 KiB read and then the rest.
    let mut server = Connection::server(Config::default());
    let stream = client_bytes(|c| {
        for _ in 0..200 {
            c.send_binary(vec![5u8; 16 * 1024]).unwrap();
        }
    });
    let mut at = 0;
    while at < stream.len() {
        let room = server.receive_buffer();
        let n = (room.capacity() - room.len()).min(stream.len() - at);
        room.extend_from_slice(&stream[at..at + n]);
        at += n;
        while server.next_event().unwrap().is_some() {}
    }
    let grown = server.receive_buffer().capacity();
    assert!(grown >= 16 * 1024 + 14, "{grown}");
    for _ in 0..4 {
        // The room is lent, nothing comes: the read would block.
        server.release_buffers();
        let _ = server.receive_buffer();
    }
    server.release_buffers();
    let after = server.receive_buffer().capacity();
    assert!(
        after >= 16 * 1024 + 14,
        "{grown} -> {after}: a frame no longer fits"
    );
}

#[test]
fn one_frame_per_read_settles_on_one_read_per_frame() {
    // A closed-loop echo of 16 KiB messages: the peer sends one frame and waits for its
    // echo, so every read brings at most the rest of that frame, and between frames a
    // read would block (where the adapter releases the buffers). After a few frames
    // each must come in one read: the short read that ends a frame is not a reason to
    // shrink the room.
    let mut server = Connection::server(Config::default());
    let frame = client_bytes(|c| c.send_binary(vec![9u8; 16 * 1024]).unwrap());
    let mut reads_per_frame = Vec::new();
    for _ in 0..12 {
        let (mut at, mut reads) = (0, 0);
        // As the adapter does: events until none, then a read, and again.
        let event = loop {
            if let Some(event) = server.next_event().unwrap() {
                break event;
            }
            let room = server.receive_buffer();
            let n = (room.capacity() - room.len()).min(frame.len() - at);
            room.extend_from_slice(&frame[at..at + n]);
            at += n;
            reads += 1;
        };
        assert_eq!(event, Event::Binary(vec![9u8; 16 * 1024].into()));
        // The next read would block.
        let _ = server.receive_buffer();
        server.release_buffers();
        reads_per_frame.push(reads);
    }
    assert!(
        reads_per_frame[6..].iter().all(|&r| r == 1),
        "{reads_per_frame:?}"
    );
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn the_adapter_releases_the_buffers_of_an_idle_connection() {
    use std::time::Duration;

    use rfc6455::tokio::{Message, Options, WebSocket};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (ours, mut peer) = tokio::io::duplex(64 * 1024);
    let mut ws = WebSocket::from_connection(
        ours,
        Connection::server(Config::default()),
        &Options::default(),
    );
    for round in 0..3 {
        let frame = client_bytes(|c| c.send_binary(vec![round; 2000]).unwrap());
        peer.write_all(&frame).await.unwrap();
        let message = ws.recv().await.unwrap().expect("a message");
        assert_eq!(message, Message::Binary(vec![round; 2000].into()));
        ws.feed(message).await.unwrap();
        // `recv` writes the echo, then finds nothing to read: the read would block. The
        // timeout only ends the wait; what is checked is the state after it.
        let waited = tokio::time::timeout(Duration::from_millis(20), ws.recv()).await;
        assert!(waited.is_err(), "nothing more was sent");
        assert_eq!(ws.connection().buffer_capacity(), 0, "round {round}");
        let mut echo = vec![0u8; 2004];
        peer.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo[..4], &[0x82, 126, 0x07, 0xD0]);
        assert!(echo[4..].iter().all(|&b| b == round));
    }
}

/// The same with `receive_with`, the plain-slice way in: reads that fill the room grow
/// it, and a read that would block (the closure's error) leaves it as it was.
#[test]
fn reads_that_would_block_do_not_shrink_the_room_receive_with() {
    let mut server = Connection::server(Config::default());
    let stream = client_bytes(|c| {
        for _ in 0..200 {
            c.send_binary(vec![5u8; 16 * 1024]).unwrap();
        }
    });
    let mut at = 0;
    let mut offered = 0;
    while at < stream.len() {
        server
            .receive_with(|room: &mut [u8]| {
                offered = room.len();
                let n = room.len().min(stream.len() - at);
                room[..n].copy_from_slice(&stream[at..at + n]);
                at += n;
                Ok::<usize, ()>(n)
            })
            .unwrap();
        while server.next_event().unwrap().is_some() {}
    }
    assert!(offered >= 16 * 1024, "{offered}");
    let grown = offered;
    for _ in 0..4 {
        let result = server.receive_with(|room: &mut [u8]| {
            offered = room.len();
            Err::<usize, &str>("would block")
        });
        assert_eq!(result, Err("would block"));
    }
    let _ = server.receive_with(|room: &mut [u8]| {
        offered = room.len();
        Ok::<usize, ()>(0)
    });
    assert_eq!(
        offered, grown,
        "the room shrank after reads that brought nothing"
    );
}

/// `release_buffers` after a message in fragments: the reassembly buffer, emptied when
/// the message was delivered, is given back too (text is joined in a buffer of its own).
#[test]
fn the_reassembly_buffer_is_given_back() {
    for kind in [MessageKind::Binary, MessageKind::Text] {
        for borrowed in [false, true] {
            let mut server = Connection::server(Config::default());
            let bytes = client_bytes(|c| {
                c.begin_message(kind).unwrap();
                c.send_fragment(&[b'a'; 100][..]).unwrap();
                c.send_fragment(&[b'b'; 100][..]).unwrap();
                c.finish_message(&[b'c'; 100][..]).unwrap();
            });
            server.receive(&bytes);
            let len = if borrowed {
                match server.next_event_ref().unwrap() {
                    Some(rfc6455::EventRef::Binary(data)) => data.len(),
                    Some(rfc6455::EventRef::Text(text)) => text.len(),
                    other => panic!("{other:?}"),
                }
            } else {
                match server.next_event().unwrap() {
                    Some(Event::Binary(data)) => data.len(),
                    Some(Event::Text(text)) => text.len(),
                    other => panic!("{other:?}"),
                }
            };
            assert_eq!(len, 300);
            assert!(server.next_event().unwrap().is_none());
            if borrowed {
                // The joined message was lent out of the connection's buffer, which is
                // kept for the next message.
                assert!(server.buffer_capacity() >= 300, "{kind:?}");
            }
            server.release_buffers();
            assert_eq!(server.buffer_capacity(), 0, "{kind:?}, borrowed {borrowed}");
        }
    }
}

/// Between reads the receive room is kept: a connection that reads, consumes and reads
/// again does not allocate a buffer for every read. A read that would block (the room
/// lent, nothing put in it) leaves the room in place.
#[test]
fn the_room_is_kept_between_reads() {
    let mut server = Connection::server(Config::default());
    let frame = client_bytes(|c| c.send_binary(&b"small"[..]).unwrap());
    server.receive_buffer().extend_from_slice(&frame);
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Binary(b"small"[..].into()))
    );
    assert_eq!(server.next_event().unwrap(), None);
    let room = server.receive_buffer().capacity();
    assert!(room > 0);
    // The read would block: nothing came.
    assert_eq!(server.next_event().unwrap(), None);
    assert_eq!(server.buffer_capacity(), room, "the room was kept");
    assert_eq!(server.receive_buffer().capacity(), room);
}

/// A room grown far past the reads at hand (here by the caller; a large frame does the
/// same) is given back at the first read that brings nothing — the connection is idle —
/// without waiting for `release_buffers`. At most 128 KiB (two of the largest reads) is
/// kept.
#[test]
fn a_grown_room_is_given_back_when_the_connection_goes_idle() {
    for borrowed in [false, true] {
        let mut server = Connection::server(Config::default());
        let frame = client_bytes(|c| c.send_binary(&b"small"[..]).unwrap());
        let room = server.receive_buffer();
        room.reserve(1 << 20);
        room.extend_from_slice(&frame);
        assert!(server.buffer_capacity() >= 1 << 20);
        if borrowed {
            assert_eq!(
                server.next_event_ref().unwrap(),
                Some(rfc6455::EventRef::Binary(b"small"))
            );
            assert_eq!(server.next_event_ref().unwrap(), None);
        } else {
            assert_eq!(
                server.next_event().unwrap(),
                Some(Event::Binary(b"small"[..].into()))
            );
            assert_eq!(server.next_event().unwrap(), None);
        }
        // The read would block: the room is lent, nothing comes.
        let _ = server.receive_buffer();
        assert_eq!(server.next_event().unwrap(), None);
        let held = server.buffer_capacity();
        assert!(
            held <= 128 * 1024,
            "borrowed: {borrowed}, {held} bytes held"
        );
        // And it works on.
        let frame = client_bytes(|c| c.send_text("again").unwrap());
        server.receive_buffer().extend_from_slice(&frame);
        assert_eq!(
            server.next_event().unwrap(),
            Some(Event::Text("again".into()))
        );
    }
}
