// Chromium with permessage-deflate (RFC 7692) against `examples/echo --deflate`: the
// browser's own WebSocket, which always offers `permessage-deflate;
// client_max_window_bits`.
//
//   node deflate_checks.mjs --echo ws://127.0.0.1:9102 [--chromium /usr/bin/chromium]
//
// Each check shows the handshake agreed permessage-deflate (`ws.extensions` in the page,
// and the 101's Sec-WebSocket-Extensions as DevTools saw it), then that messages of 1 B to
// 16 MiB, text and binary, compressible and random, come back intact; one check counts
// the bytes on the wire through a proxy to show both directions were compressed.
//
// Prints `PASS browser-deflate/NAME` or `FAIL browser-deflate/NAME: reason` per check and
// ends with `N passed, M failed`; exits 1 if anything failed. Run by
// scripts/interop/run.sh (suite browser-deflate), after browser/run.sh has installed
// playwright-core and Chromium.

import { createServer as createHttpServer } from 'node:http';
import { connect as tcpConnect, createServer as createTcpServer } from 'node:net';
import { chromium } from 'playwright-core';

const opts = { echo: process.env.ECHO_URL || '', chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
for (let i = 2; i < process.argv.length; i++) {
  const flag = process.argv[i];
  if (flag === '--echo') opts.echo = process.argv[++i];
  else if (flag === '--chromium') opts.chromium = process.argv[++i];
  else throw new Error(`unknown argument ${flag}; usage: node deflate_checks.mjs --echo URL [--chromium PATH]`);
}
if (!opts.echo) throw new Error('--echo URL (an examples/echo --deflate) is needed');

const MiB = 1 << 20;
let passed = 0;
let failed = 0;
const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim().slice(0, 300);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(name, fn, ms = 20_000) {
  const started = Date.now();
  try {
    await withTimeout(Promise.resolve().then(fn), ms, name);
    passed++;
    const s = (Date.now() - started) / 1000;
    console.log(`PASS browser-deflate/${name}${s >= 1 ? ` (${s.toFixed(1)} s)` : ''}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL browser-deflate/${name}: ${oneLine(e && e.message ? e.message : e)}`);
    return false;
  }
}

function expect(condition, reason) {
  if (!condition) throw new Error(reason);
}

// ----- in the page -----

// Defines window.payload(kind, n) (exactly n bytes: as UTF-8 for text) and
// window.roundTrip(url, kinds, n): one connection, each kind sent and compared with its
// echo, returning what the page saw.
const PAGE_HELPERS = `
  window.randomBytes = (n) => {
    const bytes = new Uint8Array(n);
    for (let at = 0; at < n; at += 65536) crypto.getRandomValues(bytes.subarray(at, Math.min(n, at + 65536)));
    return bytes;
  };
  const fromCodes = (codes) => {
    let s = '';
    for (let at = 0; at < codes.length; at += 8192) s += String.fromCharCode.apply(null, codes.subarray(at, at + 8192));
    return s;
  };
  window.payload = (kind, n) => {
    if (kind === 'text-compressible') {
      // JSON-like records with 2- and 3-byte characters, padded with 'z' to n bytes.
      const encoder = new TextEncoder();
      const parts = [];
      let size = 0;
      for (let i = 0; ; i++) {
        const record = '{"user":"émilie","text":"hello ✓, how are you?","n":' + i + '},';
        const len = encoder.encode(record).length;
        if (size + len > n) break;
        parts.push(record);
        size += len;
      }
      return parts.join('') + 'z'.repeat(n - size);
    }
    if (kind === 'text-random') {
      // Random 2-byte characters, then random 7-bit ones.
      const wide = Math.min(Math.floor(n / 4), 4096);
      const noise = randomBytes(n - wide);
      const codes = new Uint16Array(n - wide);
      for (let i = 0; i < wide; i++) codes[i] = 0x80 + ((noise[i] << 3) | (noise[n - wide - 1 - i] & 7)) % 0x780;
      for (let i = wide; i < n - wide; i++) codes[i] = noise[i] & 0x7f;
      return fromCodes(codes);
    }
    if (kind === 'binary-compressible') {
      // A byte ramp whose 3 low bits are noise.
      const bytes = randomBytes(n);
      for (let i = 0; i < n; i++) bytes[i] = (i & 0xf8) | (bytes[i] & 7);
      return bytes;
    }
    if (kind === 'binary-random') return randomBytes(n);
    throw new Error('unknown kind ' + kind);
  };
  window.sameBytes = (a, b) => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  };
  window.roundTrip = (url, kinds, n, ms) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const results = [];
    let sent = null;
    let next = 0;
    const timer = setTimeout(() => { ws.close(); reject(new Error('in-page timeout after ' + ms + ' ms, ' + results.length + ' echo(es) seen')); }, ms);
    const sendNext = () => {
      if (next === kinds.length) {
        clearTimeout(timer);
        ws.close(1000);
        resolve({ extensions: ws.extensions, results });
        return;
      }
      const kind = kinds[next++];
      sent = { kind, data: payload(kind, n) };
      ws.send(sent.data);
    };
    ws.onopen = sendNext;
    ws.onerror = () => {};
    ws.onclose = (e) => { clearTimeout(timer); if (next < kinds.length || results.length < kinds.length) reject(new Error('closed ' + e.code + ' ' + e.reason + ' after ' + results.length + ' echo(es)')); };
    ws.onmessage = (event) => {
      const got = event.data;
      const text = typeof got === 'string';
      const wasText = typeof sent.data === 'string';
      const same = text && wasText ? got === sent.data
        : !text && !wasText ? sameBytes(new Uint8Array(got), sent.data) : false;
      results.push({ kind: sent.kind, text, wasText, same,
        sentLength: wasText ? sent.data.length : sent.data.byteLength,
        gotLength: text ? got.length : got.byteLength });
      sendNext();
    };
  });
`;

// ----- a byte-counting TCP proxy, to see what went over the wire -----

async function countingProxy(target) {
  const url = new URL(target);
  const counts = { up: 0, down: 0 };
  const sockets = new Set();
  const server = createTcpServer((client) => {
    const upstream = tcpConnect(Number(url.port), url.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk) => { counts.up += chunk.length; });
    upstream.on('data', (chunk) => { counts.down += chunk.length; });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `ws://127.0.0.1:${server.address().port}/`,
    counts,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

// ----- the checks -----

async function checks(page, cdp) {
  const url = opts.echo;
  // What DevTools saw of each handshake: the offer and the answer.
  const handshakes = [];
  cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => {
    handshakes.push({ id: e.requestId, request: e.request.headers, response: null });
  });
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    const h = handshakes.find((x) => x.id === e.requestId);
    if (h) h.response = e.response;
  });
  const header = (headers, name) => {
    for (const [k, v] of Object.entries(headers || {})) if (k.toLowerCase() === name) return v;
    return undefined;
  };

  await check('handshake-agreed', async () => {
    handshakes.length = 0;
    const got = await page.evaluate(([url]) => roundTrip(url, ['text-compressible'], 100, 8000), [url]);
    expect(got.extensions === 'permessage-deflate', `ws.extensions is ${JSON.stringify(got.extensions)}`);
    expect(got.results[0].same, 'echo differs');
    const h = handshakes[0];
    expect(h && h.response, 'DevTools saw no handshake response');
    const offer = header(h.request, 'sec-websocket-extensions');
    const answer = header(h.response.headers, 'sec-websocket-extensions');
    expect(h.response.status === 101, `status ${h.response.status}`);
    expect(/^permessage-deflate/.test(offer || ''), `Chromium offered ${JSON.stringify(offer)}`);
    expect(answer === 'permessage-deflate', `the 101 answered ${JSON.stringify(answer)}`);
    console.log(`  offer: ${JSON.stringify(offer)}; answer: ${JSON.stringify(answer)}; ws.extensions: ${JSON.stringify(got.extensions)}`);
  });

  const kinds = ['text-compressible', 'text-random', 'binary-compressible', 'binary-random'];
  const sizes = [[1, '1B'], [125, '125B'], [126, '126B'], [65536, '64KiB'], [MiB, '1MiB'], [16 * MiB, '16MiB']];
  for (const [n, name] of sizes) {
    for (const kind of kinds) {
      const ms = n >= 16 * MiB ? 90_000 : 20_000;
      await check(`${kind}-${name}`, async () => {
        const got = await page.evaluate(([url, kind, n, ms]) => roundTrip(url, [kind], n, ms), [url, kind, n, ms - 2000]);
        expect(got.extensions === 'permessage-deflate', `ws.extensions is ${JSON.stringify(got.extensions)}`);
        const r = got.results[0];
        expect(r.text === r.wasText, `sent ${r.wasText ? 'text' : 'binary'}, got ${r.text ? 'text' : 'binary'}`);
        expect(r.gotLength === r.sentLength, `sent ${r.sentLength}, got ${r.gotLength} back`);
        expect(r.same, 'echo differs');
      }, ms);
    }
  }

  await check('compressed-on-the-wire-both-ways', async () => {
    const proxy = await countingProxy(url);
    try {
      // 1 MiB of compressible text and of compressible binary, then 20 times the same
      // 64 KiB: each way, the bytes on the wire are a fraction of the payload.
      const got = await page.evaluate(([url]) => new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        const text = payload('text-compressible', 1 << 20);
        const bytes = payload('binary-compressible', 1 << 20);
        const again = payload('text-compressible', 65536);
        const messages = [text, bytes, ...Array(20).fill(again)];
        let i = 0;
        let ok = true;
        const timer = setTimeout(() => reject(new Error('in-page timeout, ' + i + ' echoes')), 15000);
        ws.onopen = () => ws.send(messages[0]);
        ws.onmessage = (e) => {
          const sent = messages[i];
          ok = ok && (typeof sent === 'string' ? e.data === sent : sameBytes(new Uint8Array(e.data), sent));
          i++;
          if (i < messages.length) ws.send(messages[i]);
          else { clearTimeout(timer); ws.onclose = () => resolve({ ok, extensions: ws.extensions, total: 2 * (1 << 20) + 20 * 65536 }); ws.close(1000); }
        };
        ws.onclose = (e) => { clearTimeout(timer); reject(new Error('closed ' + e.code + ' after ' + i + ' echoes')); };
      }), [proxy.url]);
      expect(got.ok, 'an echo differs');
      expect(got.extensions === 'permessage-deflate', `ws.extensions is ${JSON.stringify(got.extensions)}`);
      const { up, down } = proxy.counts;
      console.log(`  ${got.total} B of messages each way; on the wire: ${up} B from Chromium, ${down} B from the server`);
      expect(up < got.total / 2, `Chromium sent ${up} B for ${got.total} B of messages: not compressed`);
      expect(down < got.total / 2, `the server sent ${down} B for ${got.total} B of messages: not compressed`);
    } finally {
      proxy.close();
    }
  }, 30_000);
}

async function blankPageServer() {
  // A page on loopback: Chromium blocks WebSockets from an opaque origin (about:blank)
  // to loopback (Local Network Access).
  const server = createHttpServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>rfc6455 deflate checks</title>');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

async function main() {
  let browser = null;
  const server = await blankPageServer();
  try {
    const ok = await check('chromium-launch', async () => {
      browser = await chromium.launch({
        executablePath: opts.chromium,
        headless: true,
        args: ['--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }, 30_000);
    if (!ok) return;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.evaluate(PAGE_HELPERS);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await checks(page, cdp);
    await context.close();
  } finally {
    server.closeAllConnections();
    server.close();
    if (browser) await withTimeout(browser.close(), 10_000, 'closing chromium').catch(() => {});
  }
}

const watchdog = setTimeout(() => {
  console.log('FAIL browser-deflate/watchdog: the checks took over 6 minutes');
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 360_000);
watchdog.unref();

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL browser-deflate/deflate_checks.mjs: ${oneLine(e.stack || e)}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
