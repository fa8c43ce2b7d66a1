// Chromium against the rfc6455 examples: the browser's own WebSocket API talking to the
// echo server, and the chat page driven in several browser contexts.
//
//   node checks.mjs [--echo ws://127.0.0.1:9001] [--chat http://127.0.0.1:9003/ | --chat-bin PATH]
//                   [--chromium /usr/bin/chromium] [--screenshot target/interop/chat.png]
//
// Environment variables ECHO_URL, CHAT_URL, CHAT_BIN, CHROMIUM and SCREENSHOT stand in for the
// flags. With --chat-bin the script starts the chat server itself (on a free port) and also
// checks that the page reconnects after the server restarts; with --chat it uses a running
// server and skips that check.
//
// Each check prints `PASS name` or `FAIL name: reason` and is bounded in time; the last line
// is `N passed, M failed`, and the exit status is 1 if anything failed.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

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

// ----- the chat server, when we run it ourselves -----

class ChatServer {
  constructor(bin) {
    this.bin = bin;
    this.addr = '127.0.0.1:0';
    this.child = null;
  }

  // Starts the server and resolves with its http:// URL once it prints it.
  start() {
    return withTimeout(new Promise((resolvePromise, reject) => {
      const child = spawn(this.bin, ['--addr', this.addr], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let out = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const m = out.match(/listening on http:\/\/([^/\s]+)\//);
        if (m) {
          this.addr = m[1]; // keep the port across restarts
          resolvePromise(`http://${m[1]}/`);
        }
      });
      child.stderr.on('data', () => {}); // the server's log: not needed here
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`chat server exited with ${code}: ${oneLine(out)}`)));
    }), 15_000, 'starting the chat server');
  }

  // SIGTERM, as Ctrl-C: the server closes every connection with 1001 and exits.
  stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return withTimeout(new Promise((resolvePromise) => {
      child.once('exit', () => resolvePromise());
      child.kill('SIGTERM');
    }), 15_000, 'stopping the chat server').catch((e) => {
      child.kill('SIGKILL');
      throw e;
    });
  }
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

// ----- chat checks -----

// Page-side queries.
const lines = (page, cls) => page.$$eval(`#messages li.${cls}`, (lis) => lis.map((li) => {
  const part = (c) => li.querySelector(`.${c}`)?.textContent ?? null;
  return { from: part('from'), text: part('text'), tag: part('tag') };
}));
const userList = (page) => page.$$eval('#users li', (lis) => lis.map((li) => li.textContent));

async function waitForLine(page, cls, text, ms = 5000) {
  await page.waitForFunction(([cls, text]) =>
    [...document.querySelectorAll(`#messages li.${cls} .text`)].some((e) => e.textContent === text),
  [cls, text], { timeout: ms });
}

async function waitForUsers(page, users, ms = 5000) {
  try {
    await page.waitForFunction((want) => JSON.stringify(
      [...document.querySelectorAll('#users li')].map((li) => li.textContent)) === want,
    JSON.stringify(users), { timeout: ms });
  } catch {
    throw new Error(`user list is ${JSON.stringify(await userList(page))}, expected ${JSON.stringify(users)}`);
  }
}

async function waitForState(page, state, ms = 5000) {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout: ms });
}

async function openChat(browser, url, watch) {
  const context = await browser.newContext({ viewport: { width: 980, height: 620 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (error) => watch.errors.push(error.message));
  watchConsole(page);
  const response = await page.goto(url);
  if (!response || response.status() !== 200) throw new Error(`GET ${url}: ${response?.status()}`);
  await waitForState(page, 'open');
  return { context, page };
}

async function joinAs(page, nick) {
  await page.fill('#nick', nick);
  await page.click('#join');
  await page.waitForSelector('#chat-view:not([hidden])', { timeout: 5000 });
  const me = await page.textContent('#me');
  if (!me.endsWith(nick)) throw new Error(`header says ${JSON.stringify(me)}`);
}

async function say(page, text, to = '') {
  await page.selectOption('#to', to);
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

async function chatChecks(browser) {
  let server = null;
  let url = opts.chat;
  const watch = { dialogs: [], errors: [] };
  const contexts = [];
  try {
    if (opts.chatBin) {
      server = new ChatServer(opts.chatBin);
      const ok = await check('chat: server starts', async () => { url = await server.start(); }, 20_000);
      if (!ok) return;
    }
    let alice;
    let bob;
    let carol;

    await check('chat: page served with text/html; charset=utf-8 and connects', async () => {
      const response = await fetch(url);
      const type = response.headers.get('content-type');
      if (type !== 'text/html; charset=utf-8') throw new Error(`Content-Type ${type}`);
      const missing = await fetch(new URL('/nope', url));
      if (missing.status !== 404) throw new Error(`GET /nope: ${missing.status}`);
      alice = await openChat(browser, url, watch);
      contexts.push(alice.context);
    });
    if (!alice) return;

    await check('chat: two users join and see each other', async () => {
      await joinAs(alice.page, 'alice');
      bob = await openChat(browser, url, watch);
      contexts.push(bob.context);
      await joinAs(bob.page, 'bob');
      await waitForUsers(alice.page, ['alice', 'bob']);
      await waitForUsers(bob.page, ['alice', 'bob']);
      await waitForLine(alice.page, 'notice', 'bob joined.');
    });
    if (!bob) return;

    await check('chat: a broadcast is seen by both', async () => {
      await say(alice.page, 'Hello everyone 👋');
      await waitForLine(alice.page, 'chat', 'Hello everyone 👋');
      await waitForLine(bob.page, 'chat', 'Hello everyone 👋');
      const [line] = await lines(bob.page, 'chat');
      expectEqual(line.from, 'alice', 'sender shown to bob');
      await say(bob.page, 'Hi alice!');
      await waitForLine(alice.page, 'chat', 'Hi alice!');
    });

    await check('chat: a third user joins; everyone\'s list updates', async () => {
      carol = await openChat(browser, url, watch);
      contexts.push(carol.context);
      await joinAs(carol.page, 'carol');
      for (const p of [alice, bob, carol]) await waitForUsers(p.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: a private message is seen by its target and the sender only', async () => {
      const secret = 'psst, bob: the meeting moved to 3pm';
      await say(alice.page, secret, 'bob');
      await waitForLine(bob.page, 'private', secret);
      await waitForLine(alice.page, 'private', secret); // the echo
      await say(alice.page, 'after the secret'); // ordered after it on every connection
      await waitForLine(carol.page, 'chat', 'after the secret');
      const carolSaw = [...await lines(carol.page, 'private'), ...await lines(carol.page, 'chat')];
      if (carolSaw.some((l) => l.text === secret)) throw new Error('carol saw the private message');
      const [toBob] = await lines(bob.page, 'private');
      expectEqual(toBob.from, 'alice', 'private sender');
    });

    await check('chat: a nickname already taken is refused with a clear error', async () => {
      const dup = await openChat(browser, url, watch);
      try {
        await dup.page.fill('#nick', 'Alice');
        await dup.page.click('#join');
        await dup.page.waitForFunction(() =>
          document.querySelector('#join-error').textContent.includes('taken'), null, { timeout: 5000 });
        if (await dup.page.isVisible('#chat-view')) throw new Error('chat view shown after refusal');
      } finally {
        await dup.context.close();
      }
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: malformed JSON and over-long text get an error; others undisturbed', async () => {
      const wsUrl = new URL('/ws', url).href.replace(/^http/, 'ws');
      const got = await wsScenario(carol.page, wsUrl, null, `
        await opened;
        ws.send('{"type":"join","nick":"mallory"}');
        await received(1);
        ws.send('this is not JSON');
        ws.send('{"type":"chat"}');
        ws.send(JSON.stringify({ type: 'chat', text: 'x'.repeat(5000) }));
        ws.send(JSON.stringify({ type: 'private', to: 'nobody', text: 'hi' }));
        ws.send(JSON.stringify({ type: 'chat', text: 'mallory is still here' }));
        await received(6);
        return inbox.map((m) => JSON.parse(m));`);
      expectEqual(got[0].type, 'welcome', 'join');
      const errors = got.slice(1, 5);
      const kinds = errors.map((m) => m.type);
      expectEqual(kinds, ['error', 'error', 'error', 'error'], 'answers to bad messages');
      if (!/malformed/.test(errors[0].message)) throw new Error(`error 1: ${errors[0].message}`);
      if (!/limit/.test(errors[2].message)) throw new Error(`error 3: ${errors[2].message}`);
      expectEqual(got[5], { type: 'chat', from: 'mallory', text: 'mallory is still here' }, 'later chat');
      await waitForLine(alice.page, 'chat', 'mallory is still here');
      const errorLines = await lines(alice.page, 'error');
      if (errorLines.length) throw new Error(`alice saw errors: ${JSON.stringify(errorLines)}`);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: a WebSocket message over 64 KiB is closed with 1009', async () => {
      const wsUrl = new URL('/ws', url).href.replace(/^http/, 'ws');
      const got = await wsScenario(carol.page, wsUrl, null, `
        await opened;
        ws.send('x'.repeat(70 * 1024));
        return await closed;`);
      expectEqual(got.code, 1009, 'close code');
    });

    await check('chat: HTML in a nickname and a message is shown as text', async () => {
      const evil = '<img src=x onerror=alert(1)>';
      const mal = await openChat(browser, url, watch);
      contexts.push(mal.context);
      await joinAs(mal.page, evil);
      await say(mal.page, `${evil}<script>alert(2)</script><b>bold?</b>`);
      const text = `${evil}<script>alert(2)</script><b>bold?</b>`;
      for (const p of [alice, bob, mal]) await waitForLine(p.page, 'chat', text);
      await waitForUsers(alice.page, [evil, 'alice', 'bob', 'carol']);
      for (const p of [alice, bob, carol, mal]) {
        const injected = await p.page.evaluate(() =>
          document.querySelectorAll('img, #messages script, #messages b, #users b').length);
        if (injected) throw new Error(`${injected} element(s) created from user text`);
      }
      const [line] = (await lines(bob.page, 'chat')).filter((l) => l.text === text);
      expectEqual(line.from, evil, 'nickname shown as text');
      await new Promise((r) => setTimeout(r, 300)); // give a stray onerror time to fire
      if (watch.dialogs.length) throw new Error(`alert() ran: ${watch.dialogs}`);
      await mal.context.close();
      contexts.splice(contexts.indexOf(mal.context), 1);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: closing a page gives a leave notice and the updated list', async () => {
      await carol.context.close();
      contexts.splice(contexts.indexOf(carol.context), 1);
      for (const p of [alice, bob]) {
        await waitForLine(p.page, 'notice', 'carol left.');
        await waitForUsers(p.page, ['alice', 'bob']);
      }
    });

    if (server) {
      await check('chat: after a server restart the pages see 1001, reconnect and rejoin', async () => {
        await server.stop();
        for (const p of [alice, bob]) {
          await waitForLine(p.page, 'notice', 'Disconnected (1001 server shutting down). Reconnecting…');
          await waitForState(p.page, 'closed');
        }
        url = await server.start();
        for (const p of [alice, bob]) {
          await waitForState(p.page, 'open', 15_000);
          await waitForLine(p.page, 'notice', `Reconnected as ${p === alice ? 'alice' : 'bob'}.`);
          await waitForUsers(p.page, ['alice', 'bob']);
        }
        await say(bob.page, 'Back again.');
        await waitForLine(alice.page, 'chat', 'Back again.');
      }, 40_000);
    } else {
      skip('chat: after a server restart the pages see 1001, reconnect and rejoin',
        'needs --chat-bin to restart the server');
    }

    await check('chat: screenshot', async () => {
      await say(alice.page, 'See you tomorrow, bob', 'bob');
      await waitForLine(bob.page, 'private', 'See you tomorrow, bob');
      await alice.page.fill('#text', 'typing…');
      mkdirSync(dirname(opts.screenshot), { recursive: true });
      await alice.page.screenshot({ path: opts.screenshot });
      console.log(`  screenshot saved to ${opts.screenshot}`);
    });

    await check('chat: no script errors or dialogs on any page', async () => {
      if (watch.errors.length) throw new Error(`page errors: ${watch.errors.join('; ')}`);
      if (watch.dialogs.length) throw new Error(`dialogs: ${watch.dialogs.join('; ')}`);
    });
  } finally {
    for (const c of contexts) await c.close().catch(() => {});
    if (server) await server.stop().catch(() => {});
  }
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
      await chatChecks(browser).catch((e) => {
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
  console.log('FAIL watchdog: the checks took over 5 minutes');
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, 300_000);
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
