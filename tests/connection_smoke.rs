use rfc6455::{CloseCode, Config, Connection, ConnectionState, Event, ProtocolError};

fn masked(opcode_byte: u8, payload: &[u8]) -> Vec<u8> {
    let key = [1u8, 2, 3, 4];
    let mut out = vec![opcode_byte];
    assert!(payload.len() < 126);
    out.push(0x80 | payload.len() as u8);
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

#[test]
fn smoke() {
    let mut s = Connection::server(Config::default());
    let mut input = masked(0x81, b"hi");
    input.extend(masked(0x89, b"p"));
    input.extend(masked(0x01, b"a"));
    input.extend(masked(0x80, b"b"));
    input.extend(masked(0x88, &[0x03, 0xe8, b'x']));
    s.receive(&input);
    assert_eq!(s.next_event().unwrap(), Some(Event::Text("hi".into())));
    assert_eq!(
        s.next_event().unwrap(),
        Some(Event::Ping(bytes::Bytes::from_static(b"p")))
    );
    assert_eq!(s.next_event().unwrap(), Some(Event::Text("ab".into())));
    match s.next_event().unwrap() {
        Some(Event::Close(c)) => assert_eq!(c.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.state(), ConnectionState::Closed);
    assert_eq!(
        s.take_outgoing(),
        vec![0x8a, 1, b'p', 0x88, 3, 0x03, 0xe8, b'x']
    );
    assert!(s.should_close_transport());
}

#[test]
fn invalid_utf8_fails_fast_mid_frame() {
    let mut s = Connection::server(Config::default());
    let frame = masked(0x81, &[b'a', 0xff, b'b', b'c']);
    s.receive(&frame[..8]); // header (6) + 2 payload bytes
    assert_eq!(s.next_event(), Err(ProtocolError::InvalidUtf8));
    assert_eq!(s.take_outgoing(), vec![0x88, 2, 0x03, 0xef]);
    assert_eq!(s.next_event(), Ok(None));
}
