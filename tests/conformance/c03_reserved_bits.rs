//! Autobahn 3.x: RSV1-3 "MUST be 0 unless an extension is negotiated that defines
//! meanings for non-zero values" (§5.2) → fail with 1002. Messages before the bad frame
//! are echoed first; frames after it are ignored (no pong).

use rfc6455::{ProtocolError, Role};

use crate::harness::{BINARY, CLOSE, Case, Ev, FIN, PING, PONG, TEXT, both};

const RSV1: u8 = 0x40;
const RSV2: u8 = 0x20;
const RSV3: u8 = 0x10;

fn rsv_case(id: &str, role: Role, rsv: u8, opcode: u8, payload: &[u8], text_before: bool) -> Case {
    let mut case = Case::new(id, role);
    if text_before {
        case = case
            .send(|w| {
                w.text("Hello, world!");
            })
            .expect([Ev::text("Hello, world!")]);
    }
    case.send(|w| {
        w.frame(FIN | rsv | opcode, payload);
        w.ping("");
        w.close(1000, "");
    })
    .fails(ProtocolError::ReservedBitsSet(rsv >> 4))
}

/// 3.1: small text message with RSV = 1.
#[test]
fn case_3_1_text_rsv1() {
    both(|role| rsv_case("3.1", role, RSV3, TEXT, b"Hello, world!", false));
}

/// 3.2: small text message, then again with RSV = 2, then a ping: the first is echoed,
/// then close 1002, and no pong.
#[test]
fn case_3_2_text_then_rsv2() {
    both(|role| rsv_case("3.2", role, RSV2, TEXT, b"Hello, world!", true));
}

/// 3.3: as 3.2 with RSV = 3 (frame-wise chops are among the standard chunkings).
#[test]
fn case_3_3_text_then_rsv3() {
    both(|role| rsv_case("3.3", role, RSV2 | RSV3, TEXT, b"Hello, world!", true));
}

/// 3.4: as 3.2 with RSV = 4, octet-wise.
#[test]
fn case_3_4_text_then_rsv4() {
    both(|role| rsv_case("3.4", role, RSV1, TEXT, b"Hello, world!", true));
}

/// 3.5: binary message with RSV = 5.
#[test]
fn case_3_5_binary_rsv5() {
    both(|role| rsv_case("3.5", role, RSV1 | RSV3, BINARY, &[0xff; 8], false));
}

/// 3.6: ping with RSV = 6.
#[test]
fn case_3_6_ping_rsv6() {
    both(|role| rsv_case("3.6", role, RSV1 | RSV2, PING, b"Hello, world!", false));
}

/// 3.7: close with RSV = 7.
#[test]
fn case_3_7_close_rsv7() {
    both(|role| rsv_case("3.7", role, RSV1 | RSV2 | RSV3, CLOSE, &[0x03, 0xe8], false));
}

/// Not an Autobahn case: RSV on a pong and on a continuation frame mid-message.
#[test]
fn rsv_on_pong_and_continuation() {
    both(|role| rsv_case("rsv pong", role, RSV1, PONG, b"x", true));
    both(|role| {
        Case::new("rsv continuation", role)
            .send(|w| {
                w.frame(TEXT, b"a");
                w.frame(FIN | RSV1, b"b");
            })
            .fails(ProtocolError::ReservedBitsSet(0b100))
    });
}
