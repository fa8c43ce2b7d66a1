//! Memory of permessage-deflate, counted by a global allocator: what a connection keeps
//! with context takeover (the figures `PerMessageDeflate`'s docs state), and the peak while
//! a decompression bomb is refused. One test, so that nothing else allocates meanwhile.
#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use rfc6455::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use rfc6455::{Config, Connection, ProtocolError, Role};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The bytes the extension keeps once it has compressed and decompressed a message: its
/// compressor and decompressor (the connection's own buffers are measured apart).
fn retained(deflate: &DeflateConfig, params: DeflateParams) -> (usize, usize) {
    let mut sender = PerMessageDeflate::new(Role::Server, params, deflate);
    let mut receiver = PerMessageDeflate::new(Role::Client, params, deflate);
    use rfc6455::extension::Extension;
    let text = "a chat message of some length, a chat message".repeat(20);
    let mut wire = bytes::BytesMut::new();
    let mut out = bytes::BytesMut::new();
    // Warm the buffers first, so that only the codecs' state is counted below.
    wire.reserve(4096);
    out.reserve(4096);
    let before = live();
    sender.encode(text.as_bytes(), true, &mut wire).unwrap();
    let compressor = live() - before;
    let before = live();
    receiver.decode(&wire, true, &mut out, 1 << 20).unwrap();
    let decompressor = live() - before;
    assert_eq!(&out[..], text.as_bytes());
    (compressor, decompressor)
}

#[test]
fn memory_per_connection_and_under_a_bomb() {
    let (compressor, decompressor) = retained(&DeflateConfig::default(), DeflateParams::DEFAULT);
    println!("default: compressor {compressor} B, decompressor {decompressor} B");
    assert!((360_000..400_000).contains(&compressor), "{compressor}");
    assert!((40_000..50_000).contains(&decompressor), "{decompressor}");
    let small = DeflateConfig::default()
        .server_max_window_bits(10)
        .memory_level(4);
    let params = DeflateParams {
        server_max_window_bits: 10,
        ..DeflateParams::DEFAULT
    };
    let (compressor, decompressor) = retained(&small, params);
    println!("window 10, memory level 4: compressor {compressor} B, decompressor {decompressor} B");
    assert!((140_000..160_000).contains(&compressor), "{compressor}");

    // A 64 MiB bomb against a 1 MiB limit: the peak stays near the limit.
    let mut deflate = zlib_rs::Deflate::new(9, false, 15);
    let zeros = vec![0u8; 64 << 20];
    let mut bomb = vec![0; 1 << 20];
    deflate
        .compress(&zeros, &mut bomb, zlib_rs::DeflateFlush::SyncFlush)
        .unwrap();
    bomb.truncate(deflate.total_out() as usize - 4);
    drop((zeros, deflate));
    let mut frame = vec![0xc2];
    match u16::try_from(bomb.len()) {
        Ok(len) if len > 125 => {
            frame.push(126);
            frame.extend_from_slice(&len.to_be_bytes());
        }
        _ => {
            frame.push(127);
            frame.extend_from_slice(&(bomb.len() as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&bomb);
    let config = Config::default().max_message_size(1 << 20);
    let mut client = Connection::client_with_random(config, |buf: &mut [u8]| buf.fill(7))
        .with_extension(PerMessageDeflate::new(
            Role::Client,
            DeflateParams::DEFAULT,
            &DeflateConfig::default(),
        ));
    client.receive(&frame);
    let base = live();
    PEAK.store(base, Ordering::Relaxed);
    assert_eq!(
        client.next_event(),
        Err(ProtocolError::MessageTooLarge { max: 1 << 20 })
    );
    let peak = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "bomb of {} B against a 1 MiB limit: peak {peak} B over the received frame",
        bomb.len()
    );
    // The output buffer grows to at most the limit + 1 (half of that held while it
    // moves), beside the 46 KiB decompressor.
    assert!(peak < (1 << 20) * 3 / 2 + 64 * 1024, "{peak}");
}
