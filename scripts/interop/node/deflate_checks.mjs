// Node `ws` with permessage-deflate (RFC 7692) against `examples/echo --deflate`.
//
//   node deflate_checks.mjs ws://127.0.0.1:9102 [--only NAME]
//
// Each check shows the handshake agreed permessage-deflate (the 101's
// Sec-WebSocket-Extensions and `ws.extensions`), then that messages of 1 B to 16 MiB,
// text and binary, compressible and random, come back intact; and the same for each
// parameter ws can offer (context takeover, window bits).
//
// Prints `PASS node-deflate/NAME` or `FAIL node-deflate/NAME: reason` per check and ends
// with `N passed, M failed`; exits 1 if anything failed.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Report, expect, short } from './report.mjs';

const MiB = 1 << 20;
const SIZES = [[1, '1B'], [125, '125B'], [65536, '64KiB'], [MiB, '1MiB'], [16 * MiB, '16MiB']];

/** Connects with `perMessageDeflate` options; resolves with the socket, its 101 and a
 * queue of received messages. */
function connect(url, deflate = true) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: deflate,
      maxPayload: 32 * MiB,
      handshakeTimeout: 5000,
    });
    const inbox = [];
    const waiters = [];
    let response = null;
    ws.on('upgrade', (r) => { response = r; });
    ws.on('message', (data, isBinary) => {
      const waiter = waiters.shift();
      if (waiter) waiter.resolve({ data, isBinary });
      else inbox.push({ data, isBinary });
    });
    ws.on('close', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`closed ${code} while waiting for a message`));
    });
    ws.once('error', reject);
    ws.once('open', () => resolve({
      ws,
      response,
      next: () => (inbox.length ? Promise.resolve(inbox.shift())
        : new Promise((res, rej) => waiters.push({ resolve: res, reject: rej }))),
      send: (data, binary) => new Promise((res, rej) => ws.send(data, { binary }, (e) => (e ? rej(e) : res()))),
      close: () => new Promise((res) => { ws.once('close', (code) => res(code)); ws.close(1000); }),
    }));
  });
}

/** The handshake agreed permessage-deflate; returns the 101's header. */
function agreed(peer) {
  const header = peer.response.headers['sec-websocket-extensions'];
  expect(header !== undefined, 'no Sec-WebSocket-Extensions in the 101: compression not agreed');
  expect(header.split(';')[0].trim() === 'permessage-deflate', `the 101 agreed ${header}`);
  expect(peer.ws.extensions.startsWith('permessage-deflate'), `ws.extensions is ${JSON.stringify(peer.ws.extensions)}`);
  return header;
}

function compressibleText(n) {
  const parts = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const record = `{"user":"émilie","text":"hello ✓, how are you?","n":${i}},`;
    const len = Buffer.byteLength(record);
    if (size + len > n) break;
    parts.push(record);
    size += len;
  }
  return parts.join('') + 'z'.repeat(n - size);
}

function randomText(n) {
  // Random 2-byte characters, then random 7-bit ones: exactly n bytes of UTF-8.
  const wide = Math.min(Math.floor(n / 4), 4096);
  const noise = randomBytes(n);
  let s = '';
  for (let i = 0; i < wide; i++) s += String.fromCharCode(0x80 + ((noise[i] << 3) | (noise[n - 1 - i] & 7)) % 0x780);
  const ascii = Buffer.alloc(n - 2 * wide);
  for (let i = 0; i < ascii.length; i++) ascii[i] = noise[wide + i] & 0x7f;
  return s + ascii.toString('latin1');
}

function compressibleBinary(n) {
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) bytes[i] = (i & 0xf8) | (bytes[i] & 7);
  return bytes;
}

async function echo(peer, message) {
  const binary = Buffer.isBuffer(message);
  await peer.send(message, binary);
  const got = await peer.next();
  expect(got.isBinary === binary, `sent ${binary ? 'binary' : 'text'}, got ${got.isBinary ? 'binary' : 'text'}`);
  const same = binary ? Buffer.compare(got.data, message) === 0 : got.data.toString('utf8') === message;
  expect(same, `echo differs: sent ${short(message)}, got ${short(binary ? got.data : got.data.toString())}`);
}

async function main() {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const url = args.find((a) => a.startsWith('ws://')) ?? process.env.ECHO_URL ?? 'ws://127.0.0.1:9001';
  const wsVersion = JSON.parse(readFileSync(new URL('./node_modules/ws/package.json', import.meta.url))).version;
  console.log(`# ws ${wsVersion} (node ${process.version}) with permessage-deflate against ${url}`);
  const report = new Report('node-deflate', only);
  const opened = new Set();
  const check = async (name, fn, timeoutMs) => {
    try {
      await report.check(name, fn, timeoutMs);
    } finally {
      for (const ws of opened) ws.terminate();
      opened.clear();
    }
  };
  const open = async (options) => {
    const peer = await connect(url, options);
    opened.add(peer.ws);
    return peer;
  };

  await check('handshake-agreed', async () => {
    const peer = await open(true);
    const header = agreed(peer);
    expect(header === 'permessage-deflate', `the 101 answered ${header}, expected no parameters`);
    await echo(peer, 'hello');
    expect((await peer.close()) === 1000, 'close not echoed');
    console.log(`  answer: ${JSON.stringify(header)}; ws.extensions: ${JSON.stringify(peer.ws.extensions)}`);
  });

  const kinds = [
    ['text-compressible', compressibleText],
    ['text-random', randomText],
    ['binary-compressible', compressibleBinary],
    ['binary-random', randomBytes],
  ];
  for (const [n, name] of SIZES) {
    for (const [kind, make] of kinds) {
      const message = make(n);
      const size = Buffer.isBuffer(message) ? message.length : Buffer.byteLength(message);
      expect(size === n, `test bug: ${kind} of ${size} bytes`);
      await check(`${kind}-${name}`, async () => {
        // threshold 0: ws compresses every message (by default, those of 1 KiB or more).
        const peer = await open({ threshold: 0 });
        agreed(peer);
        await echo(peer, message);
      }, n >= 16 * MiB ? 90_000 : 20_000);
    }
  }

  // Each parameter ws can offer (RFC 7692 §7.1); ws inflates with the agreed window.
  const variants = {
    'server_no_context_takeover': { serverNoContextTakeover: true },
    'client_no_context_takeover': { clientNoContextTakeover: true },
    'server_max_window_bits=9': { serverMaxWindowBits: 9 },
    'client_max_window_bits=9': { clientMaxWindowBits: 9 },
    'all-four': { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
  };
  const text = compressibleText(MiB);
  const bytes = randomBytes(200_000);
  for (const [name, options] of Object.entries(variants)) {
    await check(`offer-${name}`, async () => {
      const peer = await open({ ...options, threshold: 0 });
      const header = agreed(peer);
      if (options.serverNoContextTakeover) expect(header.includes('server_no_context_takeover'), `answer ${header}`);
      if (options.serverMaxWindowBits) {
        expect(header.includes(`server_max_window_bits=${options.serverMaxWindowBits}`), `answer ${header}`);
      }
      for (let i = 0; i < 3; i++) {
        for (const message of [text, bytes, 'small', '', compressibleText(5000)]) await echo(peer, message);
      }
      expect((await peer.close()) === 1000, 'close not echoed');
    }, 60_000);
  }

  process.exitCode = report.summary();
}

main().catch((e) => {
  console.log(`FAIL node-deflate/suite: ${e?.stack ?? e}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
