//! Arbitrary bytes into the frame decoder, for both roles and a small and the default
//! payload limit: never a panic, and every decoded frame is consistent with the bytes it
//! consumed.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rfc6455::Role;
use rfc6455::frame::FrameDecoder;

fuzz_target!(|data: &[u8]| {
    let (selector, input) = data.split_first().unwrap_or((&0, &[]));
    let role = if selector & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let mut decoder =
        FrameDecoder::new(role).allow_rsv(selector & 2 != 0, false, selector & 4 != 0);
    if selector & 8 != 0 {
        decoder = decoder.max_payload_len(u64::from(selector >> 4) * 16);
    }
    let mut buf = BytesMut::from(input);
    loop {
        let before = buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => {
                let header_len = frame.header.encoded_len();
                assert_eq!(before - buf.len(), header_len + frame.payload.len());
                assert_eq!(frame.header.payload_len, frame.payload.len() as u64);
                assert!(frame.header.payload_len <= decoder.max_payload());
            }
            Ok(None) => {
                assert_eq!(buf.len(), before, "need-more must not consume");
                break;
            }
            Err(_) => {
                assert_eq!(buf.len(), before, "an error must not consume");
                break;
            }
        }
    }
});
