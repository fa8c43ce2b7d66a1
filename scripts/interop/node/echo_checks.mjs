// Node `ws` (a peer we did not write) against `examples/echo`.
//
//   node echo_checks.mjs ws://127.0.0.1:9101 [--only NAME]
//
// Prints `PASS node/NAME` or `FAIL node/NAME: reason` per check and ends with
// `N passed, M failed`; exits 1 if anything failed.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Report, expect, short } from './report.mjs';

const MiB = 1 << 20;
const SIZES = [0, 1, 125, 126, 65535, 65536, MiB, 16 * MiB];
const NAMES = { [MiB]: '1MiB', [16 * MiB]: '16MiB' };

/** Every socket opened by the current check, terminated when the check ends. */
const open = new Set();

/** A `ws` client with messages, pongs and the close as promises. */
class Peer {
  static connect(url, options = {}, protocols = undefined) {
    const peer = new Peer();
    const ws = new WebSocket(url, protocols, {
      perMessageDeflate: false,
      maxPayload: 32 * MiB,
      handshakeTimeout: 5000,
      ...options,
    });
    peer.ws = ws;
    open.add(ws);
    ws.on('message', (data, isBinary) => peer.push('message', { data, isBinary }));
    ws.on('pong', (data) => peer.push('pong', data));
    ws.on('upgrade', (response) => { peer.response = response; });
    peer.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        open.delete(ws);
        resolve({ code, reason: reason.toString() });
        peer.push('close', null);
      });
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(peer));
      ws.once('error', (e) => reject(e));
    });
  }

  constructor() {
    this.queues = { message: [], pong: [], close: [] };
    this.waiters = { message: [], pong: [], close: [] };
  }

  push(kind, value) {
    if (kind === 'close') {
      // Wake everyone waiting: nothing more will come.
      for (const k of ['message', 'pong']) {
        for (const w of this.waiters[k].splice(0)) w.reject(new Error(`connection closed while waiting for a ${k}`));
      }
      return;
    }
    const waiter = this.waiters[kind].shift();
    if (waiter) waiter.resolve(value);
    else this.queues[kind].push(value);
  }

  next(kind) {
    if (this.queues[kind].length) return Promise.resolve(this.queues[kind].shift());
    if (this.ws.readyState === WebSocket.CLOSED) {
      return Promise.reject(new Error(`connection closed while waiting for a ${kind}`));
    }
    return new Promise((resolve, reject) => this.waiters[kind].push({ resolve, reject }));
  }

  send(data, options = {}) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, options, (e) => (e ? reject(e) : resolve()));
    });
  }

  async close(code = 1000, reason = '') {
    this.ws.close(code, reason);
    return this.closed;
  }
}

function textOf(n) {
  if (n < 64) return 'a'.repeat(n);
  let body = Buffer.from('WebSocket 你好世界 '.repeat(Math.floor(n / 24) + 1)).subarray(0, n - 3);
  // Cut back to a character boundary, then pad with ASCII to exactly n bytes.
  let s = body.toString('utf8').replace(/\uFFFD+$/, '');
  return s + 'z'.repeat(n - Buffer.byteLength(s));
}

function same(got, sent, binary) {
  if (binary) return got.isBinary && Buffer.compare(got.data, sent) === 0;
  return !got.isBinary && got.data.toString('utf8') === sent;
}

async function echoOne(url, message, options = {}) {
  const binary = Buffer.isBuffer(message);
  const peer = await Peer.connect(url, options);
  await peer.send(message, { binary });
  const got = await peer.next('message');
  expect(got.isBinary === binary, `sent ${binary ? 'binary' : 'text'}, got ${got.isBinary ? 'binary' : 'text'}`);
  expect(same(got, message, binary), `echo differs: sent ${short(message)}, got ${short(binary ? got.data : got.data.toString())}`);
  const closed = await peer.close(1000);
  expect(closed.code === 1000, `close echoed as ${closed.code}`);
}

async function main() {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const url = args.find((a) => a.startsWith('ws://')) ?? process.env.ECHO_URL ?? 'ws://127.0.0.1:9001';
  const wsVersion = JSON.parse(readFileSync(new URL('./node_modules/ws/package.json', import.meta.url))).version;
  console.log(`# ws ${wsVersion} (node ${process.version}) against ${url}`);
  const report = new Report('node', only);
  const check = async (name, fn, timeoutMs) => {
    try {
      await report.check(name, fn, timeoutMs);
    } finally {
      for (const ws of open) ws.terminate();
      open.clear();
    }
  };

  for (const n of SIZES) {
    const name = NAMES[n] ?? String(n);
    const timeoutMs = n >= 16 * MiB ? 60_000 : 15_000;
    await check(`text-${name}`, () => echoOne(url, textOf(n)), timeoutMs);
    await check(`binary-${name}`, () => echoOne(url, randomBytes(n)), timeoutMs);
  }

  await check('unicode-chinese', () => echoOne(url, '中文消息：你好，世界！WebSocket 协议测试'));
  await check('unicode-emoji', () => echoOne(url, 'emoji 😀🎉👍🏽 👨‍👩‍👧‍👦 🇫🇷 and 4-byte 𝄞'));

  async function fragmented(parts, binary) {
    const peer = await Peer.connect(url);
    for (let i = 0; i < parts.length; i++) {
      await peer.send(parts[i], { binary, fin: i === parts.length - 1 });
    }
    const got = await peer.next('message');
    const whole = binary ? Buffer.concat(parts) : parts.join('');
    expect(same(got, whole, binary), `expected ${short(whole)} whole, got ${short(got.data)}`);
  }
  await check('fragmented-text', () => fragmented(['frag', 'mented ', '你好', ' 😀', ''], false));
  await check('fragmented-binary', () => fragmented([Buffer.from([0, 1]), Buffer.alloc(0), randomBytes(70000), Buffer.from('end')], true));

  async function ping(payload) {
    const peer = await Peer.connect(url);
    peer.ws.ping(payload);
    const pong = await peer.next('pong');
    expect(Buffer.compare(pong, payload) === 0, `pong payload ${short(pong)}, expected ${short(payload)}`);
    await peer.send('after ping');
    const got = await peer.next('message');
    expect(got.data.toString() === 'after ping', 'echo after the pong differs');
  }
  await check('ping-payload', () => ping(Buffer.from('ping payload \x00\xff', 'latin1')));
  await check('ping-empty', () => ping(Buffer.alloc(0)));
  await check('ping-125', () => ping(randomBytes(125)));

  async function close(code, reason) {
    const peer = await Peer.connect(url);
    await peer.send('before close');
    expect((await peer.next('message')).data.toString() === 'before close', 'echo before close differs');
    const closed = await peer.close(code, reason);
    expect(closed.code === code, `expected close ${code} echoed, got ${closed.code}`);
    // §5.5.1 asks only for the code; rfc6455 echoes the reason too.
    expect(closed.reason === reason, `expected reason ${short(reason)} echoed, got ${short(closed.reason)}`);
  }
  await check('close-1000-reason', () => close(1000, 'bye, 再见 👋'));
  await check('close-4000-reason', () => close(4000, 'application code'));

  await check('deflate-offer-declined', async () => {
    // ws's default offer: permessage-deflate with client_max_window_bits.
    const peer = await Peer.connect(url, { perMessageDeflate: true });
    const ext = peer.response.headers['sec-websocket-extensions'];
    expect(ext === undefined, `server answered Sec-WebSocket-Extensions: ${ext}`);
    expect(peer.ws.extensions === '', `extensions in use: ${peer.ws.extensions}`);
    const text = 'compressible '.repeat(1000);
    await peer.send(text);
    const got = await peer.next('message');
    expect(same(got, text, false), 'echo differs with the offer declined');
  });

  await check('subprotocol-not-chosen', async () => {
    // The server speaks none of them, so it must answer without Sec-WebSocket-Protocol;
    // ws then refuses the connection itself ("Server sent no subprotocol").
    let peer;
    try {
      peer = await Peer.connect(url, {}, ['chat', 'superchat']);
    } catch (e) {
      expect(/no subprotocol/i.test(e.message), `connecting failed: ${e.message}`);
      return;
    }
    expect(false, `server chose ${short(peer.ws.protocol)}, which it does not speak`);
  });

  await check('concurrent-20x100', async () => {
    const one = async (c) => {
      const peer = await Peer.connect(url);
      for (let i = 0; i < 100; i++) {
        const message = `conn ${c} trip ${i}`;
        await peer.send(message);
        const got = await peer.next('message');
        expect(got.data.toString() === message, `connection ${c} round trip ${i}: got ${short(got.data.toString())}`);
      }
      const closed = await peer.close(1000);
      expect(closed.code === 1000, `connection ${c}: close echoed as ${closed.code}`);
    };
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, c) => one(c)));
    const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(errors.length === 0, `${errors.length} of 20 connections failed, first: ${errors[0]?.message}`);
  }, 60_000);

  process.exitCode = report.summary();
}

main().catch((e) => {
  console.log(`FAIL node/suite: ${e?.stack ?? e}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
