//! Autobahn 1.x: text and binary messages of the sizes where the length encoding changes
//! (§5.2: 7-bit, 16-bit and 64-bit lengths), echoed.

use rfc6455::Role;

use crate::harness::{BINARY, Case, Chunking, Ev, TEXT, both, repeat};

/// 1.1.1-1.1.7 (text) and 1.2.1-1.2.7 (binary): sizes 0, 125, 126, 127, 128, 65535, 65536.
const SIZES: [(&str, usize); 7] = [
    ("1", 0),
    ("2", 125),
    ("3", 126),
    ("4", 127),
    ("5", 128),
    ("6", 65535),
    ("7", 65536),
];

fn message(id: &str, role: Role, opcode: u8, len: usize) -> Case {
    let payload = if opcode == TEXT {
        repeat(b"*", len)
    } else {
        repeat(&[0xfe], len)
    };
    let ev = if opcode == TEXT {
        Ev::text(&payload)
    } else {
        Ev::binary(&payload)
    };
    Case::new(id, role)
        .send(|w| {
            w.frame(0x80 | opcode, &payload);
        })
        .expect([ev])
        .then_close()
}

#[test]
fn case_1_1_1_to_1_1_7_text_lengths() {
    for (n, len) in SIZES {
        both(|role| message(&format!("1.1.{n}"), role, TEXT, len));
    }
}

#[test]
fn case_1_2_1_to_1_2_7_binary_lengths() {
    for (n, len) in SIZES {
        both(|role| message(&format!("1.2.{n}"), role, BINARY, len));
    }
}

/// 1.1.8 and 1.2.8: 65536 bytes sent in 997-byte chops.
#[test]
fn case_1_1_8_and_1_2_8_chopped_997() {
    for (id, opcode) in [("1.1.8", TEXT), ("1.2.8", BINARY)] {
        both(|role| message(id, role, opcode, 65536).chunkings(vec![Chunking::Fixed(997)]));
    }
}

/// §5.2: the 16-bit and 64-bit lengths are checked at their boundaries in both
/// directions: what we send uses the minimal encoding (the expected bytes are built that
/// way), what we receive at each boundary decodes.
#[test]
fn length_encoding_boundaries_echoed() {
    for len in [124, 125, 126, 127, 65534, 65535, 65536, 65537] {
        both(|role| message(&format!("length {len}"), role, BINARY, len));
    }
}
