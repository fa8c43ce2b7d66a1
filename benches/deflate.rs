//! permessage-deflate (RFC 7692): the cost of compressing and decompressing one message,
//! and the compressed size, for the crate's `zlib-rs` path (through `PerMessageDeflate`,
//! as a connection drives it) and for `miniz_oxide` (the pure-Rust alternative measured
//! for `docs/DEFLATE.md`), at levels 1 and 6, without context takeover (each message
//! compressed from scratch, so every iteration does the same work).
//!
//! Run: `cargo bench --features deflate --bench deflate -- --warm-up-time 1 --measurement-time 3`.
//! The compressed sizes are printed first.

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZFlush};
use rfc6455::Role;
use rfc6455::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use rfc6455::extension::Extension;

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

/// A 125-byte chat message.
fn json_125() -> Vec<u8> {
    let s = br#"{"type":"message","room":"general","user":"alice","id":48213,"text":"hello everyone, how is it going?","ts":1718000000,"v":1}"#;
    assert_eq!(s.len(), 125);
    s.to_vec()
}

/// 16 KiB of JSON records (ids, names from a small set, numbers).
fn json_16k() -> Vec<u8> {
    let names = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    let mut out = b"[".to_vec();
    let mut i = 0u32;
    while out.len() < 16 * 1024 - 120 {
        let x = i.wrapping_mul(2_654_435_761);
        out.extend_from_slice(
            format!(
                r#"{{"id":{i},"user":"{}","score":{},"tags":["{}","{}"],"active":{}}},"#,
                names[(x >> 3) as usize % 8],
                x % 10000,
                names[(x >> 7) as usize % 8],
                names[(x >> 11) as usize % 8],
                x % 2 == 0
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.resize(16 * 1024 - 1, b' ');
    out.push(b']');
    out
}

/// 1 MiB of 16-bit samples of a slow ramp with 3 bits of noise: compressible, not
/// trivially.
fn binary_1m() -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut seed = 0x1234_5678u32;
    let mut i = 0u32;
    while out.len() < 1 << 20 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let v = ((i / 64) % 512) as u16 * 16 + (seed % 8) as u16;
        out.extend_from_slice(&v.to_le_bytes());
        i += 1;
    }
    out
}

/// Our path: encode then decode through the extension hook, as two connections would.
struct Ours {
    sender: PerMessageDeflate,
    receiver: PerMessageDeflate,
    wire: BytesMut,
    out: BytesMut,
}

impl Ours {
    fn new(level: u8) -> Self {
        let config = DeflateConfig::default().level(level);
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateParams::DEFAULT
        };
        Ours {
            sender: PerMessageDeflate::new(Role::Server, params, &config),
            receiver: PerMessageDeflate::new(Role::Client, params, &config),
            wire: BytesMut::new(),
            out: BytesMut::new(),
        }
    }

    fn round_trip(&mut self, data: &[u8]) -> usize {
        self.wire.clear();
        self.out.clear();
        self.sender.encode(data, true, &mut self.wire).unwrap();
        self.receiver
            .decode(&self.wire, true, &mut self.out, usize::MAX)
            .unwrap();
        assert_eq!(self.out.len(), data.len());
        self.wire.len()
    }
}

/// `miniz_oxide` driven the same way: sync flush, tail removed, appended, inflated.
struct Miniz {
    compressor: Box<CompressorOxide>,
    inflate: Box<InflateState>,
    wire: Vec<u8>,
    out: Vec<u8>,
}

impl Miniz {
    fn new(level: u8) -> Self {
        let flags = create_comp_flags_from_zip_params(i32::from(level), -15, 0);
        Miniz {
            compressor: Box::new(CompressorOxide::new(flags)),
            inflate: InflateState::new_boxed(DataFormat::Raw),
            wire: Vec::new(),
            out: Vec::new(),
        }
    }

    fn round_trip(&mut self, data: &[u8]) -> usize {
        self.wire.clear();
        self.wire.resize(data.len() + data.len() / 16 + 64, 0);
        let r = miniz_oxide::deflate::stream::deflate(
            &mut self.compressor,
            data,
            &mut self.wire,
            MZFlush::Sync,
        );
        assert_eq!(r.bytes_consumed, data.len());
        self.wire.truncate(r.bytes_written);
        assert!(self.wire.ends_with(&TAIL));
        let len = self.wire.len() - 4; // RFC 7692 §7.2.1
        self.compressor.reset();
        // The tail stays: removing it and appending it again (RFC 7692 §7.2.2) cancel out.
        self.out.clear();
        self.out.resize(data.len() + 64, 0);
        let r = miniz_oxide::inflate::stream::inflate(
            &mut self.inflate,
            &self.wire,
            &mut self.out,
            MZFlush::Sync,
        );
        assert!(r.status.is_ok());
        assert_eq!(r.bytes_written, data.len());
        self.inflate.reset(DataFormat::Raw);
        len
    }
}

fn deflate(c: &mut Criterion) {
    let payloads = [
        ("json 125 B", json_125()),
        ("json 16 KiB", json_16k()),
        ("binary 1 MiB", binary_1m()),
    ];
    for (name, data) in &payloads {
        for level in [1, 6] {
            let ours = Ours::new(level).round_trip(data);
            let miniz = Miniz::new(level).round_trip(data);
            eprintln!(
                "{name:>12}, level {level}: {} B -> zlib-rs {ours} B, miniz_oxide {miniz} B",
                data.len()
            );
        }
    }
    let mut group = c.benchmark_group("deflate round trip");
    for (name, data) in &payloads {
        group.throughput(Throughput::Bytes(data.len() as u64));
        if data.len() > 1 << 16 {
            group.sample_size(20);
        }
        for level in [1, 6] {
            let mut ours = Ours::new(level);
            group.bench_with_input(
                BenchmarkId::new(format!("zlib-rs level {level}"), name),
                data,
                |b, data| b.iter(|| ours.round_trip(black_box(data))),
            );
            let mut miniz = Miniz::new(level);
            group.bench_with_input(
                BenchmarkId::new(format!("miniz_oxide level {level}"), name),
                data,
                |b, data| b.iter(|| miniz.round_trip(black_box(data))),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, deflate);
criterion_main!(benches);
