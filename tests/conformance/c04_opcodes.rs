//! Autobahn 4.x: "If an unknown opcode is received, the receiving endpoint MUST _Fail
//! the WebSocket Connection_" (§5.2) → 1002. Non-control 0x3-0x7 (4.1.x) and control
//! 0xB-0xF (4.2.x), alone, with a payload, and after a valid message (echoed first).

use rfc6455::{ProtocolError, Role};

use crate::harness::{Case, Ev, FIN, both};

/// `text_before`: a valid text message first; `payload`: the reserved frame's payload;
/// a ping follows the reserved frame in the 4.x.3-4.x.5 cases and must not be answered.
fn opcode_case(id: &str, role: Role, opcode: u8, payload: &[u8], text_before: bool) -> Case {
    let mut case = Case::new(id, role);
    if text_before {
        case = case
            .send(|w| {
                w.text("Hello, world!");
            })
            .expect([Ev::text("Hello, world!")]);
    }
    case.send(|w| {
        w.frame(FIN | opcode, payload);
        w.ping("");
    })
    .fails(ProtocolError::ReservedOpcode(opcode))
}

/// 4.1.1: opcode 3; 4.1.2: opcode 4 with payload; 4.1.3: text, opcode 5, ping; 4.1.4:
/// text, opcode 6 with payload, ping; 4.1.5: text, opcode 7 with payload, ping.
#[test]
fn case_4_1_x_reserved_non_control_opcodes() {
    both(|role| opcode_case("4.1.1", role, 3, b"", false));
    both(|role| opcode_case("4.1.2", role, 4, b"reserved opcode payload", false));
    both(|role| opcode_case("4.1.3", role, 5, b"", true));
    both(|role| opcode_case("4.1.4", role, 6, b"reserved opcode payload", true));
    both(|role| opcode_case("4.1.5", role, 7, b"reserved opcode payload", true));
}

/// 4.2.1-4.2.5: the same with the reserved control opcodes 0xB-0xF.
#[test]
fn case_4_2_x_reserved_control_opcodes() {
    both(|role| opcode_case("4.2.1", role, 0xB, b"", false));
    both(|role| opcode_case("4.2.2", role, 0xC, b"reserved opcode payload", false));
    both(|role| opcode_case("4.2.3", role, 0xD, b"", true));
    both(|role| opcode_case("4.2.4", role, 0xE, b"reserved opcode payload", true));
    both(|role| opcode_case("4.2.5", role, 0xF, b"reserved opcode payload", true));
}

/// A reserved opcode in the middle of a fragmented message fails it too.
#[test]
fn reserved_opcode_mid_message() {
    both(|role| {
        Case::new("reserved mid-message", role)
            .send(|w| {
                w.frame(0x01, b"frag");
                w.frame(0x80 | 0x3, b"");
            })
            .fails(ProtocolError::ReservedOpcode(3))
    });
}
