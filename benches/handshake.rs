//! Opening handshake: parse + accept a ~500-byte Chromium request, next to a baseline of
//! `httparse` parsing the same head plus computing the accept key (SHA-1 + base64),
//! in one run. Goal: ours no slower than the baseline, although ours also checks every
//! §4.2.1 rule and writes the 101.

use base64::Engine as _;
use criterion::{Criterion, Throughput, black_box, criterion_group};
use rfc6455::handshake::{ClientHandshake, RequestParser, WsUri};
use sha1::{Digest as _, Sha1};

const CHROMIUM: &[u8] = b"GET /chat?room=lobby HTTP/1.1\r\n\
Host: localhost:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: http://localhost:8080\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: session=abc123; theme=dark\r\n\
Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

const ACCEPT: &[u8] = b"HSmrc0sMlYUkAGmm5OPpG2HaGWk=";

/// The baseline: httparse over the head, then the accept key from the key header.
fn httparse_and_accept_key(bytes: &[u8]) -> (usize, [u8; 28]) {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let httparse::Status::Complete(len) = req.parse(bytes).expect("valid") else {
        panic!("incomplete");
    };
    let key = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
        .expect("key")
        .value;
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let mut accept = [0u8; 28];
    base64::engine::general_purpose::STANDARD
        .encode_slice(sha.finalize(), &mut accept)
        .expect("28 bytes");
    (len, accept)
}

fn server(c: &mut Criterion) {
    assert!(CHROMIUM.len() > 450 && CHROMIUM.len() < 600);
    let mut group = c.benchmark_group("handshake_server");
    group.throughput(Throughput::Bytes(CHROMIUM.len() as u64));

    assert_eq!(
        httparse_and_accept_key(CHROMIUM),
        (CHROMIUM.len(), {
            let mut a = [0u8; 28];
            a.copy_from_slice(ACCEPT);
            a
        })
    );
    group.bench_function("httparse+accept_key (baseline)", |b| {
        b.iter(|| httparse_and_accept_key(black_box(CHROMIUM)));
    });

    let mut out = Vec::with_capacity(256);
    {
        let req = RequestParser::new().parse(CHROMIUM).unwrap().unwrap();
        req.accept().write(&mut out);
        assert!(out.windows(ACCEPT.len()).any(|w| w == ACCEPT));
    }
    group.bench_function("rfc6455 parse+accept", |b| {
        b.iter(|| {
            out.clear();
            let mut parser = RequestParser::new();
            let req = parser.parse(black_box(CHROMIUM)).unwrap().unwrap();
            req.accept().write(&mut out);
            black_box(out.len())
        });
    });
    group.bench_function("rfc6455 parse", |b| {
        b.iter(|| {
            let mut parser = RequestParser::new();
            let req = parser.parse(black_box(CHROMIUM)).unwrap().unwrap();
            black_box(req.consumed())
        });
    });
    group.finish();
}

fn client(c: &mut Criterion) {
    let uri = WsUri::parse("ws://localhost:8080/chat").unwrap();
    let mut nonce = |buf: &mut [u8]| buf.fill(7);
    let template = ClientHandshake::with_random(&uri, &mut nonce);
    let request = template.request();
    let response = RequestParser::new()
        .parse(&request)
        .unwrap()
        .unwrap()
        .accept()
        .to_vec();
    let mut group = c.benchmark_group("handshake_client");
    group.throughput(Throughput::Bytes(response.len() as u64));
    group.bench_function("rfc6455 check 101", |b| {
        b.iter(|| {
            let mut client = template.clone();
            let r = client
                .parse_response(black_box(&response))
                .unwrap()
                .unwrap();
            black_box(r.consumed())
        });
    });
    group.finish();
}

/// For instruction counts under callgrind, without criterion's own work:
/// `HANDSHAKE_ITERATIONS=<baseline|ours|parse>:<n>` runs that closure `n` times and
/// exits. The difference between the totals for `2n` and `n`, divided by `n`, is the
/// count per iteration (docs/PERFORMANCE.md, "Handshake: parse + accept").
fn iterations_only() -> bool {
    let Ok(spec) = std::env::var("HANDSHAKE_ITERATIONS") else {
        return false;
    };
    let (mode, n) = spec.split_once(':').expect("<mode>:<n>");
    let n: usize = n.parse().expect("a count");
    let mut out = Vec::with_capacity(256);
    let mut sum = 0;
    for _ in 0..n {
        sum += match mode {
            "baseline" => httparse_and_accept_key(black_box(CHROMIUM)).0,
            "ours" => {
                out.clear();
                let mut parser = RequestParser::new();
                let req = parser.parse(black_box(CHROMIUM)).unwrap().unwrap();
                req.accept().write(&mut out);
                out.len()
            }
            "parse" => {
                let mut parser = RequestParser::new();
                let req = parser.parse(black_box(CHROMIUM)).unwrap().unwrap();
                req.consumed()
            }
            _ => panic!("mode: baseline, ours or parse"),
        };
    }
    black_box(sum);
    true
}

criterion_group!(benches, server, client);

fn main() {
    if !iterations_only() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
