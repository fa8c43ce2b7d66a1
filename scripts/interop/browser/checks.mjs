// Chromium against the rfc6455 examples: the browser's own WebSocket API talking to the
// echo server, and the chat page driven in several browser contexts.
//
//   node checks.mjs [--echo ws://127.0.0.1:9001] [--chat http://127.0.0.1:9003/ | --chat-bin PATH]
//                   [--chromium /usr/bin/chromium] [--screenshot target/interop/chat.png]
//
// Environment variables ECHO_URL, CHAT_URL, CHAT_BIN, CHROMIUM and SCREENSHOT stand in for the
// flags. With --chat-bin the script starts the chat server itself (on a free port), puts a
// proxy in front of one page to fail its network, and restarts the server; with --chat it
// uses a running server and skips those checks. The chat checks are in chat_checks.mjs.
//
// Each check prints `PASS name` or `FAIL name: reason` and is bounded in time; the last line
// is `N passed, M failed`, and the exit status is 1 if anything failed.

import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chatChecks } from './chat_checks.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');

function parseArgs(argv) {
  const opts = {
    echo: process.env.ECHO_URL || 'ws://127.0.0.1:9001',
    chat: process.env.CHAT_URL || '',
    chatBin: process.env.CHAT_BIN || '',
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
    screenshot: process.env.SCREENSHOT || join(repo, 'target', 'interop', 'chat.png'),
  };
  const names = { '--echo': 'echo', '--chat': 'chat', '--chat-bin': 'chatBin',
    '--chromium': 'chromium', '--screenshot': 'screenshot' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '-h' || flag === '--help') {
      console.log('usage: node checks.mjs [--echo URL] [--chat URL | --chat-bin PATH] ' +
        '[--chromium PATH] [--screenshot PATH]');
      process.exit(0);
    }
    const key = names[flag];
    if (!key) throw new Error(`unknown argument ${argv[i]}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[key] = value;
  }
  if (!opts.chat && !opts.chatBin) opts.chat = 'http://127.0.0.1:9003/';
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
let passed = 0;
let failed = 0;
// Console errors from the pages since the last check, printed under a failure.
let consoleErrors = [];

const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim().slice(0, 300);

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function check(name, fn, ms = 10_000) {
  consoleErrors = [];
  try {
    await withTimeout(Promise.resolve().then(fn), ms, name);
    passed++;
    console.log(`PASS ${name}`);
    return true;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${oneLine(e && e.message ? e.message : e)}`);
    for (const line of consoleErrors.slice(0, 5)) console.log(`  browser console: ${oneLine(line)}`);
    return false;
  }
}

function skip(name, why) {
  console.log(`SKIP ${name}: ${why}`);
}

function expectEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

// ----- in-page helpers (these functions run in Chromium) -----

// Opens a WebSocket, runs `script` (the body of an async function that sees ws, opened,
// closed, received(n) and inbox), and resolves with its result; rejects after `ms`. The
// whole scenario is one expression string, evaluated by DevTools: a page's
// Content-Security-Policy (the chat page allows no eval) does not apply to it.
function wsScenario(page, url, binaryType, script, ms = 8000) {
  return page.evaluate(`(async () => {
    const ws = new WebSocket(${JSON.stringify(url)});
    const binaryType = ${JSON.stringify(binaryType)};
    if (binaryType) ws.binaryType = binaryType;
    const inbox = [];
    const waiters = [];
    ws.onmessage = (event) => {
      inbox.push(event.data);
      while (waiters.length && inbox.length >= waiters[0].n) waiters.shift().resolve();
    };
    const closed = new Promise((resolve) => {
      ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
    });
    const opened = new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('WebSocket error before open'));
      closed.then((c) => reject(new Error('closed before open: ' + c.code)));
    });
    // Waits until n messages have arrived in all.
    const received = (n) => inbox.length >= n
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ n, resolve }));
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('in-page timeout after ${ms} ms; readyState ' +
        ws.readyState + ', ' + inbox.length + ' message(s) received')), ${ms});
    });
    try {
      return await Promise.race([(async () => { ${script} })(), timeout]);
    } finally {
      clearTimeout(timer);
      if (ws.readyState <= 1) ws.close();
    }
  })()`);
}

// ----- echo checks -----

// An empty page served from loopback. The echo checks run in it rather than in
// about:blank: Chromium's Local Network Access checks block a WebSocket from an opaque
// origin to a loopback address (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
async function blankPageServer() {
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>rfc6455 echo checks</title>');
  });
  await new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolvePromise);
  });
  return server;
}

function watchConsole(page) {
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}

async function echoChecks(browser) {
  const server = await blankPageServer();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    watchConsole(page);
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await echoCheckList(page, opts.echo);
    await context.close();
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function echoCheckList(page, url) {

  await check('echo: readyState CONNECTING, OPEN, CLOSING, CLOSED', async () => {
    const states = await page.evaluate((url) => new Promise((resolve, reject) => {
      const seen = [];
      const ws = new WebSocket(url);
      seen.push(ws.readyState);
      ws.onopen = () => {
        seen.push(ws.readyState);
        ws.close(1000);
        seen.push(ws.readyState);
      };
      ws.onclose = () => {
        seen.push(ws.readyState);
        resolve(seen);
      };
      setTimeout(() => reject(new Error(`no close within 5 s; states so far ${seen}`)), 5000);
    }), url);
    expectEqual(states, [0, 1, 2, 3], 'readyState sequence');
  });

  await check('echo: text messages', async () => {
    const texts = ['hello', '', 'héllo wörld ☃ 🌍 中文', 'x'.repeat(70_000)];
    const got = await wsScenario(page, url, null, `
      await opened;
      for (const t of ${JSON.stringify(texts)}) ws.send(t);
      await received(${texts.length});
      return inbox;`);
    expectEqual(got.map((t) => t.length), texts.map((t) => t.length), 'lengths');
    expectEqual(got, texts, 'echoed texts');
  });

  await check('echo: ArrayBuffer messages (binaryType arraybuffer)', async () => {
    const got = await wsScenario(page, url, 'arraybuffer', `
      await opened;
      const bytes = new Uint8Array(256).map((_, i) => i);
      ws.send(bytes.buffer);
      ws.send(new ArrayBuffer(0));
      ws.send(bytes.subarray(10, 20)); // a view: only its bytes are sent
      await received(3);
      return inbox.map((d) => d instanceof ArrayBuffer ? Array.from(new Uint8Array(d)) : typeof d);`);
    const all = Array.from({ length: 256 }, (_, i) => i);
    expectEqual(got, [all, [], all.slice(10, 20)], 'echoed bytes');
  });

  await check('echo: Blob messages (binaryType blob)', async () => {
    const got = await wsScenario(page, url, 'blob', `
      await opened;
      ws.send(new Blob([new Uint8Array([0, 1, 2, 253, 254, 255]), 'abc']));
      await received(1);
      const blob = inbox[0];
      if (!(blob instanceof Blob)) return 'not a Blob: ' + Object.prototype.toString.call(blob);
      return Array.from(new Uint8Array(await blob.arrayBuffer()));`);
    expectEqual(got, [0, 1, 2, 253, 254, 255, 97, 98, 99], 'echoed Blob bytes');
  });

  await check('echo: 1 MiB binary and 1 MiB text message', async () => {
    const got = await wsScenario(page, url, 'arraybuffer', `
      await opened;
      const n = 1 << 20;
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = (i * 31 + (i >> 8)) & 255;
      const text = 'é✓'.repeat(n / 5) + 'abcd'.repeat(n / 20);
      ws.send(bytes);
      ws.send(text);
      await received(2);
      const back = new Uint8Array(inbox[0]);
      let same = back.length === n;
      for (let i = 0; same && i < n; i++) same = back[i] === bytes[i];
      return { binaryLength: back.length, binarySame: same,
               textSame: inbox[1] === text, textLength: inbox[1].length };`, 25_000);
    expectEqual(got.binaryLength, 1 << 20, 'binary length');
    if (!got.binarySame) throw new Error('binary content differs');
    if (!got.textSame) throw new Error(`text differs (length ${got.textLength})`);
  }, 30_000);

  const closeWith = (code, reason) => wsScenario(page, url, null, `
    await opened;
    ws.close(${code}, ${JSON.stringify(reason)});
    return await closed;`);

  await check('echo: close(1000, "bye") gives a clean CloseEvent with code 1000', async () => {
    const got = await closeWith(1000, 'bye');
    expectEqual([got.code, got.wasClean], [1000, true], 'CloseEvent code, wasClean');
  });

  await check('echo: close(4000, "custom") gives a clean CloseEvent with code 4000', async () => {
    const got = await closeWith(4000, 'custom');
    expectEqual([got.code, got.wasClean], [4000, true], 'CloseEvent code, wasClean');
  });

  // CloseEvent.reason is the reason in the server's close frame (WHATWG WebSockets,
  // "the WebSocket connection close reason"), so this checks that the server's echo of a
  // client's close carries the reason back, as tungstenite, websockets and ws do.
  await check('echo: the close echo carries the reason back (CloseEvent.reason "bye", "custom")', async () => {
    const reasons = [(await closeWith(1000, 'bye')).reason, (await closeWith(4000, 'custom')).reason];
    expectEqual(reasons, ['bye', 'custom'], 'CloseEvent.reason');
  });
}

// ----- main -----

async function main() {
  let browser = null;
  try {
    const ok = await check('chromium: launch', async () => {
      browser = await chromium.launch({
        executablePath: opts.chromium,
        headless: true,
        args: [
          // Playwright adds --headless, --no-sandbox and a fresh empty --user-data-dir.
          '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
        ],
      });
    }, 30_000);
    if (ok) {
      await echoChecks(browser).catch((e) => {
        failed++;
        console.log(`FAIL echo: ${oneLine(e.message)}`);
      });
      const helpers = { opts, check, skip, expectEqual, withTimeout, oneLine, wsScenario, watchConsole };
      await chatChecks(browser, helpers).catch((e) => {
        failed++;
        console.log(`FAIL chat: ${oneLine(e.message)}`);
      });
    }
  } finally {
    if (browser) await withTimeout(browser.close(), 10_000, 'closing chromium').catch(() => {});
  }
}

// A last resort: nothing may hang the caller.
const watchdog = setTimeout(() => {
  console.log('FAIL watchdog: the checks took over 6 minutes');
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 360_000);
watchdog.unref();

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL checks.mjs: ${oneLine(e.stack || e)}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
