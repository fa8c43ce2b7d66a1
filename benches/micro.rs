//! Micro benchmarks of the hot-path building blocks: masking (§5.3) and UTF-8 validation
//! (§8.1), each against its physical or library floor.
//!
//! Run: `cargo bench --bench micro -- --warm-up-time 1 --measurement-time 3`.

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use rfc6455::Utf8Validator;
use rfc6455::frame::apply_mask;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const MASK_SIZES: [usize; 5] = [16, 125, 4096, 65536, 1 << 20];

/// The reference: one byte at a time, as §5.3 writes it.
fn mask_naive(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(phase + i) & 3];
    }
    (phase + buf.len()) & 3
}

/// Candidate: u64 words, key rotated and replicated, byte tail.
fn mask_u64(buf: &mut [u8], key: [u8; 4], phase: usize) -> usize {
    let phase = phase & 3;
    let next = (phase + buf.len()) & 3;
    let k = [
        key[phase],
        key[(phase + 1) & 3],
        key[(phase + 2) & 3],
        key[(phase + 3) & 3],
    ];
    let k64 = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes(w.try_into().unwrap()) ^ k64;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= k[i & 3];
    }
    next
}

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in MASK_SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let original: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut expected = original.clone();
        mask_naive(&mut expected, KEY, 1);
        type MaskFn = fn(&mut [u8], [u8; 4], usize) -> usize;
        // 64-byte blocks with a byte tail were measured too: as fast as 32-byte blocks
        // on large buffers, 2.5x slower at 125 bytes (see `src/frame/mask.rs`).
        let candidates: [(&str, MaskFn); 3] = [
            ("apply_mask", apply_mask),
            ("naive", mask_naive),
            ("u64", mask_u64),
        ];
        for (name, f) in candidates {
            // Correct once, outside the timing: a broken candidate cannot look fast.
            let mut check = original.clone();
            assert_eq!(f(&mut check, KEY, 1), (1 + size) & 3);
            assert_eq!(check, expected, "{name} is wrong at {size} bytes");
            let mut buf = original.clone();
            group.bench_function(BenchmarkId::new(name, size), |b| {
                // Masking twice restores the input, so the buffer stays in a known
                // state; each iteration masks once (the phase alternates harmlessly).
                b.iter(|| {
                    let p = f(black_box(&mut buf), black_box(KEY), black_box(1));
                    assert_eq!(p, (1 + size) & 3);
                });
            });
        }
        let src = original.clone();
        let mut dst = vec![0u8; size];
        group.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| {
                black_box(&mut dst).copy_from_slice(black_box(&src));
                assert_eq!(dst.len(), size);
            });
        });
    }
    group.finish();
}

/// Mixed Chinese/ASCII text of about `size` bytes (cut at a `char` boundary).
fn mixed_text(size: usize) -> String {
    const PARAGRAPH: &str = "WebSocket (RFC 6455) 协议在单个 TCP 连接上提供全双工通信, \
        frames are masked by the client; 服务器必须拒绝未掩码的帧。Text messages must be \
        valid UTF-8 — 文本消息必须是有效的 UTF-8, otherwise close with 1007. ";
    let mut text = String::with_capacity(size + PARAGRAPH.len());
    while text.len() < size {
        text.push_str(PARAGRAPH);
    }
    let mut end = size;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    for size in [64 * 1024, 1 << 20] {
        let text = mixed_text(size);
        let bytes = text.as_bytes();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("feed_whole", size), |b| {
            let mut v = Utf8Validator::new();
            b.iter(|| {
                assert!(v.feed(black_box(bytes)).is_ok());
                assert!(v.finish().is_ok());
            });
        });
        group.bench_function(BenchmarkId::new("feed_4k_chunks", size), |b| {
            let mut v = Utf8Validator::new();
            b.iter(|| {
                for chunk in black_box(bytes).chunks(4096) {
                    assert!(v.feed(chunk).is_ok());
                }
                assert!(v.finish().is_ok());
            });
        });
        group.bench_function(BenchmarkId::new("validate", size), |b| {
            b.iter(|| assert!(Utf8Validator::validate(black_box(bytes)).is_ok()));
        });
        group.bench_function(BenchmarkId::new("core_str_from_utf8", size), |b| {
            b.iter(|| assert!(core::str::from_utf8(black_box(bytes)).is_ok()));
        });
        group.bench_function(BenchmarkId::new("simdutf8_compat", size), |b| {
            b.iter(|| assert!(simdutf8::compat::from_utf8(black_box(bytes)).is_ok()));
        });
    }
    group.finish();
}

criterion_group!(benches, mask, utf8);
criterion_main!(benches);
