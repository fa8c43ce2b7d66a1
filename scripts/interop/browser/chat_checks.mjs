// Chromium against examples/chat: several browser contexts drive the page as users
// would, one of them through a TCP proxy that can hold, cut or refuse its connection
// (a phone's network blip), and the server is restarted in the middle.
//
// Exported for checks.mjs, which passes its helpers (check, skip, ...). Every check is
// bounded in time; no check measures time: "at once" means "within the check's limit,
// far below the 40 s an idle connection is kept by default".

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The server's flags for these checks: names held 6 s after a drop, dead connections
// found within 4 s, state kept across the restart.
const GRACE_S = 6;
const serverFlags = (stateFile) => ['--resume-grace', `${GRACE_S}s`, '--ping-interval', '2s',
  '--ping-timeout', '2s', '--state', stateFile];

// ----- the chat server, when we run it ourselves -----

class ChatServer {
  constructor(bin, flags, h) {
    this.bin = bin;
    this.flags = flags;
    this.h = h;
    this.addr = '127.0.0.1:0';
    this.child = null;
  }

  // Starts the server and resolves with its http:// URL once it prints it.
  start() {
    const { withTimeout, oneLine } = this.h;
    return withTimeout(new Promise((resolvePromise, reject) => {
      const child = spawn(this.bin, ['--addr', this.addr, ...this.flags],
        { stdio: ['ignore', 'pipe', 'pipe'] });
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

  // SIGTERM, as Ctrl-C: the server closes every connection with 1001, saves its state
  // and exits.
  stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return this.h.withTimeout(new Promise((resolvePromise) => {
      child.once('exit', () => resolvePromise());
      child.kill('SIGTERM');
    }), 15_000, 'stopping the chat server').catch((e) => {
      child.kill('SIGKILL');
      throw e;
    });
  }
}

// ----- a proxy between one page and the server: the network, under our control -----

class Proxy {
  constructor(target) {
    this.target = target; // host:port
    this.refusing = false;
    this.pairs = new Set();
    this.server = null;
  }

  start() {
    const [host, port] = [this.target.replace(/:\d+$/, ''), Number(this.target.split(':').pop())];
    this.server = createServer((client) => {
      if (this.refusing) { client.destroy(); return; }
      const up = createConnection(port, host);
      const pair = { client, up, hold: { up: false, down: false }, held: { up: [], down: [] }, dead: false };
      this.pairs.add(pair);
      client.on('data', (d) => { if (pair.dead) return; if (pair.hold.up) pair.held.up.push(d); else up.write(d); });
      up.on('data', (d) => { if (pair.dead) return; if (pair.hold.down) pair.held.down.push(d); else client.write(d); });
      const end = () => {
        this.pairs.delete(pair);
        if (!pair.dead) { client.destroy(); up.destroy(); }
      };
      client.on('close', end);
      up.on('close', () => { if (!pair.dead) end(); });
      client.on('error', () => {});
      up.on('error', () => {});
    });
    return new Promise((resolvePromise, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolvePromise(`http://127.0.0.1:${this.server.address().port}/`));
    });
  }

  // Holds the bytes going one way ('up' to the server, 'down' to the page).
  hold(direction) { for (const p of this.pairs) p.hold[direction] = true; }

  // Lets held bytes through.
  release() {
    for (const p of this.pairs) {
      for (const direction of ['up', 'down']) {
        p.hold[direction] = false;
        const target = direction === 'up' ? p.up : p.client;
        for (const d of p.held[direction].splice(0)) target.write(d);
      }
    }
  }

  // The page's side drops; the server's side stays open and silent, as when a phone
  // loses its network: only keepalive can tell the server.
  cut() {
    for (const p of this.pairs) {
      p.dead = true;
      p.client.destroy();
      p.up.pause();
    }
    this.pairs.clear();
  }

  refuse(on) { this.refusing = on; }

  close() {
    for (const p of this.pairs) { p.client.destroy(); p.up.destroy(); }
    this.server?.close();
  }
}

// ----- page helpers -----

const lines = (page, cls) => page.$$eval(`#messages li.${cls}`, (lis) => lis.map((li) => {
  const part = (c) => li.querySelector(`.${c}`)?.textContent ?? null;
  return { from: part('from'), text: part('text'), tag: part('tag'), status: li.dataset.status ?? null, room: li.dataset.room };
}));
const userList = (page) => page.$$eval('#users li', (lis) => lis.map((li) => li.textContent));

async function waitForLine(page, cls, text, ms = 5000) {
  try {
    await page.waitForFunction(([cls, text]) =>
      [...document.querySelectorAll(`#messages li.${cls} .text`)].some((e) => e.textContent === text),
    [cls, text], { timeout: ms });
  } catch {
    const all = await page.$$eval('#messages li', (lis) => lis.slice(-8).map((li) => li.textContent));
    throw new Error(`no ${cls} line ${JSON.stringify(text)}; last lines: ${JSON.stringify(all)}`);
  }
}

async function waitForStatus(page, text, status, ms = 5000) {
  try {
    await page.waitForFunction(([text, status]) =>
      [...document.querySelectorAll('#messages li.mine')].some((li) =>
        li.querySelector('.text')?.textContent === text && li.dataset.status === status),
    [text, status], { timeout: ms });
  } catch {
    const mine = await page.$$eval('#messages li.mine', (lis) => lis.map((li) => `${li.textContent} [${li.dataset.status}]`));
    throw new Error(`line ${JSON.stringify(text)} not ${status}; mine: ${JSON.stringify(mine)}`);
  }
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

// Clicks "Retry now" if the page is waiting to reconnect (it may have reconnected on
// its own already: the backoff's first step is half a second).
async function retryNow(page) {
  if (await page.isVisible('#retry')) await page.click('#retry', { timeout: 2000 }).catch(() => {});
}

const count = async (page, cls, text) => (await lines(page, cls)).filter((l) => l.text === text).length;

// ----- the checks -----

export async function chatChecks(browser, h) {
  const { opts, check, skip, expectEqual, wsScenario, watchConsole } = h;
  let server = null;
  let proxy = null;
  let url = opts.chat;
  let stateDir = null;
  const watch = { dialogs: [], errors: [] };
  const contexts = [];

  async function openChat(target, viewport = { width: 980, height: 620 }) {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      watch.dialogs.push(dialog.message());
      dialog.dismiss().catch(() => {});
    });
    page.on('pageerror', (error) => watch.errors.push(error.message));
    watchConsole(page);
    const response = await page.goto(target);
    if (!response || response.status() !== 200) throw new Error(`GET ${target}: ${response?.status()}`);
    await waitForState(page, 'open');
    return { context, page };
  }

  async function closeChat(user) {
    await user.context.close();
    contexts.splice(contexts.indexOf(user.context), 1);
  }

  async function joinAs(page, nick) {
    await page.fill('#nick', nick);
    await page.click('#join');
    await page.waitForSelector('#chat-view:not([hidden])', { timeout: 5000 });
    const me = await page.textContent('#me');
    if (!me.endsWith(nick)) throw new Error(`header says ${JSON.stringify(me)}`);
  }

  async function refusedName(nick, expect) {
    const other = await openChat(url);
    try {
      await other.page.fill('#nick', nick);
      await other.page.click('#join');
      await other.page.waitForFunction((expect) =>
        document.querySelector('#join-error').textContent.includes(expect), expect, { timeout: 5000 });
      if (await other.page.isVisible('#chat-view')) throw new Error(`chat view shown after refusing ${nick}`);
    } finally {
      await closeChat(other);
    }
  }

  async function say(page, text, to = '') {
    await page.selectOption('#to', to);
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  const wsUrl = () => new URL('/ws', url).href.replace(/^http/, 'ws');

  try {
    if (opts.chatBin) {
      stateDir = mkdtempSync(join(tmpdir(), 'chat-checks-'));
      server = new ChatServer(opts.chatBin, serverFlags(join(stateDir, 'state.json')), h);
      const ok = await check('chat: server starts', async () => {
        url = await server.start();
        proxy = new Proxy(new URL(url).host);
        await proxy.start();
      }, 20_000);
      if (!ok) return;
    }
    const proxied = () => (proxy ? proxy : null);
    let alice;
    let bob;
    let carol;

    await check('chat: page served with text/html; charset=utf-8 and connects', async () => {
      const response = await fetch(url);
      const type = response.headers.get('content-type');
      if (type !== 'text/html; charset=utf-8') throw new Error(`Content-Type ${type}`);
      const missing = await fetch(new URL('/nope', url));
      if (missing.status !== 404) throw new Error(`GET /nope: ${missing.status}`);
      // alice goes through the proxy (when we run the server), so that her network can fail.
      alice = await openChat(proxied() ? await proxyUrl() : url);
    });
    if (!alice) return;

    async function proxyUrl() { return `http://127.0.0.1:${proxy.server.address().port}/`; }

    await check('chat: two users join and see each other', async () => {
      await joinAs(alice.page, 'alice');
      bob = await openChat(url);
      await joinAs(bob.page, 'bob');
      await waitForUsers(alice.page, ['alice', 'bob']);
      await waitForUsers(bob.page, ['alice', 'bob']);
      await waitForLine(alice.page, 'notice', 'bob joined #lobby.');
    });
    if (!bob) return;

    await check('chat: a broadcast is seen by both; the sender\'s line goes from sending to sent', async () => {
      await say(alice.page, 'Hello everyone 👋');
      await waitForStatus(alice.page, 'Hello everyone 👋', 'sent');
      await waitForLine(bob.page, 'chat', 'Hello everyone 👋');
      const [line] = await lines(bob.page, 'chat');
      expectEqual(line.from, 'alice', 'sender shown to bob');
      await say(bob.page, 'Hi alice!');
      await waitForLine(alice.page, 'chat', 'Hi alice!');
    });

    await check('chat: a third user joins; everyone\'s list updates', async () => {
      carol = await openChat(url);
      await joinAs(carol.page, 'carol');
      for (const p of [alice, bob, carol]) await waitForUsers(p.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: a private message is seen by its target and the sender only', async () => {
      const secret = 'psst, bob: the meeting moved to 3pm';
      await say(alice.page, secret, 'bob');
      await waitForLine(bob.page, 'private', secret);
      await waitForStatus(alice.page, secret, 'sent');
      await say(alice.page, 'after the secret'); // ordered after it on every connection
      await waitForLine(carol.page, 'chat', 'after the secret');
      const carolSaw = [...await lines(carol.page, 'private'), ...await lines(carol.page, 'chat')];
      if (carolSaw.some((l) => l.text === secret)) throw new Error('carol saw the private message');
      const [toBob] = await lines(bob.page, 'private');
      expectEqual(toBob.from, 'alice', 'private sender');
    });

    await check('chat: private mode is obvious and stays when the user list changes', async () => {
      await alice.page.click('#users li:has-text("bob")');
      await alice.page.waitForSelector('#composer.private', { timeout: 3000 });
      const banner = await alice.page.textContent('#private-banner');
      if (!banner.includes('Private to bob')) throw new Error(`banner: ${banner}`);
      // The list changes twice (someone comes, someone goes): the choice stays.
      const dave = await openChat(url);
      await joinAs(dave.page, 'dave');
      await waitForUsers(alice.page, ['alice', 'bob', 'carol', 'dave']);
      await dave.page.click('#signout');
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
      await closeChat(dave);
      expectEqual(await alice.page.inputValue('#to'), 'bob', 'recipient after list changes');
      await alice.page.fill('#text', 'still private');
      await alice.page.press('#text', 'Enter');
      await waitForLine(bob.page, 'private', 'still private');
      await waitForStatus(alice.page, 'still private', 'sent');
      if ((await count(carol.page, 'chat', 'still private')) + (await count(carol.page, 'private', 'still private'))) {
        throw new Error('carol got it');
      }
      await alice.page.click('#to-everyone');
      expectEqual(await alice.page.inputValue('#to'), '', 'recipient after "back to everyone"');
    });

    await check('chat: an absent recipient blocks sending, with a message', async () => {
      const erin = await openChat(url);
      await joinAs(erin.page, 'erin');
      await waitForUsers(alice.page, ['alice', 'bob', 'carol', 'erin']);
      await alice.page.selectOption('#to', 'erin');
      await erin.page.click('#signout');
      await closeChat(erin);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
      expectEqual(await alice.page.inputValue('#to'), 'erin', 'the recipient who left stays selected');
      const note = await alice.page.textContent('#send-note');
      if (!note.includes('erin is not online')) throw new Error(`note: ${note}`);
      if (!(await alice.page.isDisabled('#send'))) throw new Error('Send is enabled');
      await alice.page.fill('#text', 'to nobody');
      await alice.page.press('#text', 'Enter');
      await new Promise((r) => setTimeout(r, 300));
      expectEqual(await alice.page.inputValue('#text'), 'to nobody', 'the text stays');
      if (await count(bob.page, 'chat', 'to nobody')) throw new Error('it went to everyone');
      await alice.page.fill('#text', '');
      await alice.page.click('#to-everyone');
    });

    await check('chat: a nickname taken, look-alike, invisible or reversing is refused', async () => {
      await refusedName('Alice', 'taken');
      await refusedName('Аlice', 'taken'); // Cyrillic А
      await refusedName('ali\u200Bce', 'invisible');
      await refusedName('ev\u202Eil', 'text-direction');
      await refusedName('\u200B\u200B', 'invisible');
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    }, 30_000);

    await check('chat: a right-to-left name is isolated (<bdi>, unicode-bidi: isolate)', async () => {
      const rtl = await openChat(url);
      await joinAs(rtl.page, 'שלום');
      await rtl.page.fill('#text', 'hi 123');
      await rtl.page.press('#text', 'Enter');
      await waitForLine(alice.page, 'chat', 'hi 123');
      const iso = await alice.page.evaluate(() => {
        const from = [...document.querySelectorAll('#messages li.chat .from')].find((e) => e.textContent === 'שלום');
        const user = [...document.querySelectorAll('#users li')].find((li) => li.textContent === 'שלום');
        return {
          fromTag: from?.tagName, fromBidi: from && getComputedStyle(from).unicodeBidi,
          userTag: user?.firstElementChild?.tagName,
        };
      });
      expectEqual(iso, { fromTag: 'BDI', fromBidi: 'isolate', userTag: 'BDI' }, 'isolation');
      await rtl.page.click('#signout');
      await closeChat(rtl);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: malformed JSON and over-long text get an error; others undisturbed', async () => {
      const got = await wsScenario(carol.page, wsUrl(), null, `
        await opened;
        ws.send('{"type":"hello","nick":"mallory"}');
        await received(1);
        ws.send('this is not JSON');
        ws.send('{"type":"chat"}');
        ws.send(JSON.stringify({ type: 'chat', text: 'x'.repeat(5000), ref: 'long' }));
        ws.send(JSON.stringify({ type: 'private', to: 'nobody', text: 'hi', ref: 'nobody' }));
        ws.send(JSON.stringify({ type: 'chat', text: 'mallory is still here', ref: 'ok' }));
        const deadline = Date.now() + 4000;
        while (!inbox.some((m) => JSON.parse(m).type === 'ack') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        ws.send('{"type":"quit"}');
        return inbox.map((m) => JSON.parse(m));`);
      expectEqual(got[0].type, 'welcome', 'hello');
      const errors = got.filter((m) => m.type === 'error');
      expectEqual(errors.map((m) => m.code), ['invalid', 'invalid', 'invalid', 'no-recipient'], 'errors');
      if (!/malformed/.test(errors[0].message)) throw new Error(`error 1: ${errors[0].message}`);
      if (!/limit/.test(errors[2].message)) throw new Error(`error 3: ${errors[2].message}`);
      expectEqual(errors.map((m) => m.ref ?? null), [null, null, 'long', 'nobody'], 'refs');
      if (!got.some((m) => m.type === 'ack' && m.ref === 'ok')) throw new Error('no ack for the good message');
      await waitForLine(alice.page, 'chat', 'mallory is still here');
      const errorLines = await lines(alice.page, 'error');
      if (errorLines.length) throw new Error(`alice saw errors: ${JSON.stringify(errorLines)}`);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: a WebSocket message over 64 KiB is closed with 1009', async () => {
      const got = await wsScenario(carol.page, wsUrl(), null, `
        await opened;
        ws.send('x'.repeat(70 * 1024));
        return await closed;`);
      expectEqual(got.code, 1009, 'close code');
    });

    await check('chat: HTML in a nickname and a message is shown as text', async () => {
      const evil = '<img src=x onerror=alert(1)>';
      const mal = await openChat(url);
      await joinAs(mal.page, evil);
      const text = `${evil}<script>alert(2)</script><b>bold?</b>`;
      await mal.page.fill('#text', text);
      await mal.page.press('#text', 'Enter');
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
      await mal.page.click('#signout');
      await closeChat(mal);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: rooms — join from the page, counts for everyone, messages stay in their room', async () => {
      await alice.page.fill('#room-name', 'Rust');
      await alice.page.press('#room-name', 'Enter');
      await alice.page.waitForSelector('.tab[data-room="rust"][aria-selected="true"]', { timeout: 5000 });
      await bob.page.waitForSelector('#rooms li[data-room="rust"]', { timeout: 5000 });
      await bob.page.click('#rooms li[data-room="rust"]');
      await bob.page.waitForSelector('.tab[data-room="rust"][aria-selected="true"]', { timeout: 5000 });
      await carol.page.waitForFunction(() =>
        document.querySelector('#rooms li[data-room="rust"] .count')?.textContent === '2', null, { timeout: 5000 });
      await waitForUsers(alice.page, ['alice', 'bob']);
      await say(alice.page, 'ownership talk');
      await waitForLine(bob.page, 'chat', 'ownership talk');
      await say(carol.page, 'lobby only');
      await waitForLine(alice.page, 'chat', 'lobby only'); // in the lobby's view
      const shown = await alice.page.$$eval('#messages li.chat', (lis) =>
        lis.filter((li) => !li.hidden).map((li) => li.querySelector('.text').textContent));
      if (shown.includes('lobby only')) throw new Error('a #lobby message shown in #rust');
      await alice.page.waitForSelector('.tab[data-room="lobby"] .unread', { timeout: 3000 });
      if (await count(carol.page, 'chat', 'ownership talk')) throw new Error('carol saw #rust');
      await alice.page.click('.tab[data-room="lobby"]');
      await bob.page.click('.tab[data-room="lobby"]');
    });

    await check('chat: history — a late joiner sees the rooms\' recent messages', async () => {
      const late = await openChat(url);
      await joinAs(late.page, 'late');
      await waitForLine(late.page, 'chat', 'Hello everyone 👋');
      await waitForLine(late.page, 'chat', 'lobby only');
      await late.page.click('#rooms li[data-room="rust"]');
      await late.page.waitForSelector('.tab[data-room="rust"][aria-selected="true"]', { timeout: 5000 });
      await waitForLine(late.page, 'chat', 'ownership talk');
      await late.page.click('#signout');
      await closeChat(late);
      await waitForUsers(alice.page, ['alice', 'bob', 'carol']);
    });

    await check('chat: typing indicator', async () => {
      await bob.page.fill('#text', 'I am typ');
      await alice.page.waitForFunction(() => document.querySelector('#typing').textContent === 'bob is typing…',
        null, { timeout: 5000 });
      await bob.page.fill('#text', '');
    });

    if (proxy) {
      await check('chat: a network blip — the page resumes at once and gets what was sent meanwhile', async () => {
        proxy.refuse(true);
        proxy.cut();
        await waitForState(alice.page, 'closed');
        // While alice is away: a room message, a private one, and someone after her name.
        await say(bob.page, 'during the blip');
        await waitForStatus(bob.page, 'during the blip', 'sent');
        await say(bob.page, 'alice, are you there?', 'alice');
        await waitForStatus(bob.page, 'alice, are you there?', 'sent');
        await refusedName('alice', 'taken');
        proxy.refuse(false);
        await retryNow(alice.page); // "Retry now": no waiting for the backoff
        await waitForLine(alice.page, 'notice', 'Reconnected as alice.');
        await waitForLine(alice.page, 'chat', 'during the blip');
        await waitForLine(alice.page, 'private', 'alice, are you there?');
        await waitForUsers(bob.page, ['alice', 'bob', 'carol']);
        const away = await bob.page.$$eval('#users li.away', (lis) => lis.length);
        expectEqual(away, 0, 'users shown as away');
        await bob.page.click('#to-everyone');
      }, 20_000);

      await check('chat: text typed offline is not sent; private mode survives the reconnect; Retry now', async () => {
        await alice.page.click('#users li:has-text("bob")');
        proxy.refuse(true);
        proxy.cut();
        await waitForState(alice.page, 'closed');
        await alice.page.fill('#text', 'typed while offline');
        await alice.page.press('#text', 'Enter');
        await new Promise((r) => setTimeout(r, 300));
        expectEqual(await alice.page.inputValue('#text'), 'typed while offline', 'text kept');
        // "Retry now" does not wait for the backoff: once the page waits 3 s or more for
        // its next try, the button connects at once.
        await alice.page.waitForFunction(() => /retrying in ([3-9]|\d\d) s/.test(document.querySelector('#state').textContent),
          null, { timeout: 10_000 });
        proxy.refuse(false);
        await alice.page.click('#retry');
        await waitForState(alice.page, 'open', 2000);
        await alice.page.waitForFunction(() => !document.querySelector('#send').disabled, null, { timeout: 5000 });
        expectEqual(await alice.page.inputValue('#to'), 'bob', 'recipient after the reconnect');
        if (!(await alice.page.$('#composer.private'))) throw new Error('private mode lost');
        await alice.page.press('#text', 'Enter');
        await waitForLine(bob.page, 'private', 'typed while offline');
        await waitForStatus(alice.page, 'typed while offline', 'sent');
        if (await count(carol.page, 'chat', 'typed while offline')) throw new Error('it went to everyone');
        await alice.page.click('#to-everyone');
      }, 30_000);

      await check('chat: a message pending when the connection drops is failed, and Retry sends it once', async () => {
        // Never reached the server: failed, then Retry.
        proxy.hold('up');
        await say(alice.page, 'lost on the way');
        await waitForStatus(alice.page, 'lost on the way', 'pending');
        proxy.refuse(true);
        proxy.cut();
        await waitForStatus(alice.page, 'lost on the way', 'failed');
        proxy.refuse(false);
        await retryNow(alice.page);
        await waitForLine(alice.page, 'notice', 'Reconnected as alice.');
        await alice.page.click('#messages li.mine[data-status="failed"] .retry');
        await waitForStatus(alice.page, 'lost on the way', 'sent');
        await waitForLine(bob.page, 'chat', 'lost on the way');
        // Reached the server, but its ack did not come back: after the resume the
        // message is known as sent, and nobody sees it twice.
        proxy.hold('down');
        await say(alice.page, 'ack lost');
        await waitForLine(bob.page, 'chat', 'ack lost');
        proxy.refuse(true);
        proxy.cut();
        await waitForStatus(alice.page, 'ack lost', 'failed');
        proxy.refuse(false);
        await retryNow(alice.page);
        await waitForStatus(alice.page, 'ack lost', 'sent');
        await new Promise((r) => setTimeout(r, 300));
        expectEqual(await count(bob.page, 'chat', 'ack lost'), 1, 'copies bob saw');
        expectEqual(await count(bob.page, 'chat', 'lost on the way'), 1, 'copies bob saw');
      }, 25_000);

      await check('chat: a private message to someone who left meanwhile fails, with Retry', async () => {
        const fay = await openChat(url);
        await joinAs(fay.page, 'fay');
        await waitForUsers(alice.page, ['alice', 'bob', 'carol', 'fay']);
        await alice.page.selectOption('#to', 'fay');
        proxy.hold('down'); // alice does not hear that fay left
        await fay.page.click('#signout');
        await closeChat(fay);
        await waitForUsers(bob.page, ['alice', 'bob', 'carol']);
        await alice.page.fill('#text', 'too late, fay');
        await alice.page.press('#text', 'Enter');
        proxy.release();
        await waitForStatus(alice.page, 'too late, fay', 'failed');
        const status = await alice.page.$eval('#messages li.mine[data-status="failed"] .status', (e) => e.textContent);
        if (!/nobody called "fay"/.test(status) || !/Retry/.test(status)) throw new Error(`status: ${status}`);
        await alice.page.click('#to-everyone');
      }, 15_000);
    } else {
      skip('chat: network blip checks', 'need --chat-bin (the proxy sits in front of our own server)');
    }

    await check('chat: closing a page gives a leave notice once the grace period is over', async () => {
      await closeChat(carol);
      for (const p of [alice, bob]) {
        await waitForLine(p.page, 'notice', 'carol left #lobby.', (GRACE_S + 8) * 1000);
        await waitForUsers(p.page, ['alice', 'bob']);
      }
    }, (GRACE_S + 12) * 1000);

    if (server) {
      await check('chat: after a server restart the pages resume; a newcomer cannot take their names', async () => {
        await server.stop();
        for (const p of [alice, bob]) {
          await waitForLine(p.page, 'notice', 'Disconnected (1001 server shutting down).');
          await waitForState(p.page, 'closed');
        }
        url = await server.start();
        // Straight away, before the pages are back: the names are held for them.
        const got = await wsScenario(bob.page, wsUrl(), null, `
          await opened;
          ws.send('{"type":"hello","nick":"bob"}');
          await received(1);
          return JSON.parse(inbox[0]);`);
        expectEqual([got.type, got.code], ['error', 'name-taken'], 'a newcomer as bob');
        for (const p of [alice, bob]) {
          await retryNow(p.page);
          await waitForLine(p.page, 'notice', 'Reconnected as ' + (p === alice ? 'alice.' : 'bob.'), 10_000);
          await waitForUsers(p.page, ['alice', 'bob']);
        }
        await say(bob.page, 'Back again.');
        await waitForLine(alice.page, 'chat', 'Back again.');
      }, 40_000);
    } else {
      skip('chat: after a server restart the pages resume', 'needs --chat-bin to restart the server');
    }

    await check('chat: phone, 375 px — no horizontal scroll; the lists fold behind a toggle', async () => {
      const phone = await openChat(url, { width: 375, height: 740 });
      const overflow = () => phone.page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expectEqual(await overflow(), 0, 'horizontal overflow on the sign-in view (px)');
      await joinAs(phone.page, 'pat');
      await say(phone.page, 'A long line from a phone: ' + 'word '.repeat(40) + 'https://example.com/' + 'x'.repeat(120));
      await waitForStatus(phone.page, 'A long line from a phone: ' + 'word '.repeat(40) + 'https://example.com/' + 'x'.repeat(120), 'sent');
      expectEqual(await overflow(), 0, 'horizontal overflow in the chat (px)');
      if (await phone.page.isVisible('#users')) throw new Error('the user list is shown without the toggle');
      const send = await phone.page.locator('#send').boundingBox();
      if (!send || send.x + send.width > 375) throw new Error(`Send is off-screen: ${JSON.stringify(send)}`);
      await phone.page.click('#panel-toggle');
      await phone.page.waitForSelector('#users', { state: 'visible', timeout: 3000 });
      expectEqual(await overflow(), 0, 'horizontal overflow with the lists open (px)');
      await phone.page.click('#panel-toggle');
      const shot = join(dirname(opts.screenshot), 'chat-375.png');
      mkdirSync(dirname(shot), { recursive: true });
      await phone.page.screenshot({ path: shot });
      console.log(`  screenshot saved to ${shot}`);
      await phone.page.click('#signout');
      await closeChat(phone);
    });

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
    proxy?.close();
    if (server) await server.stop().catch(() => {});
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
}
