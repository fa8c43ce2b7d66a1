//! permessage-deflate's decompressor (RFC 7692 §7.2.2) on arbitrary input: split into
//! frames and messages as the input's first bytes say, under a small size limit. It never
//! panics, and its output never holds more than the limit.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use rfc6455::extension::{Extension, ExtensionError};

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, split], input)) = data.split_first_chunk::<2>() else {
        return;
    };
    let params = DeflateParams {
        server_no_context_takeover: flags & 1 != 0,
        ..DeflateParams::DEFAULT
    };
    let max = 1usize << (flags >> 4); // 1 B to 32 KiB
    let mut ext = PerMessageDeflate::new(Role::Client, params, &DeflateConfig::default());
    // Frames of `split` bytes (at least 1); a message ends after every `flags >> 1 & 7`
    // frames (plus one).
    let frame_len = usize::from(split).max(1);
    let per_message = usize::from(flags >> 1 & 7) + 1;
    let frames: Vec<&[u8]> = input.chunks(frame_len).collect();
    for message in frames.chunks(per_message) {
        let mut output = BytesMut::new();
        for (i, frame) in message.iter().enumerate() {
            let end = i + 1 == message.len();
            match ext.decode(frame, end, &mut output, max) {
                Ok(()) => assert!(output.len() <= max),
                Err(ExtensionError::TooLarge) => {
                    assert!(output.len() <= max);
                    return; // the connection fails here
                }
                Err(_) => return,
            }
        }
    }
});
