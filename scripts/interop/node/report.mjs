// One line per check (`PASS suite/name` or `FAIL suite/name: reason`), each bounded in
// time, and the closing `N passed, M failed` line.

export class CheckFailed extends Error {}

export function expect(condition, reason) {
  if (!condition) throw new CheckFailed(reason);
}

/** A value for a failure message: long payloads by length and first bytes. */
export function short(value) {
  if (value === undefined || value === null) return String(value);
  const isBuf = Buffer.isBuffer(value);
  const text = isBuf ? `<Buffer ${value.subarray(0, 16).toString('hex')}>` : JSON.stringify(value);
  if (!isBuf && text.length <= 60) return text;
  return `${isBuf ? 'Buffer' : 'string'} of ${value.length} starting ${text.slice(0, 60)}...`;
}

// After this many timeouts in a row the server is taken to be hung: the remaining checks
// fail at once instead of each waiting out its time limit.
const GIVE_UP_AFTER = 3;

export class Report {
  constructor(suite, only) {
    this.suite = suite;
    this.only = only;
    this.passed = 0;
    this.failed = 0;
    this.timeoutsInARow = 0;
  }

  /** Runs `fn()` under `timeoutMs`; a hang is a failure, not a hang. */
  async check(name, fn, timeoutMs = 10_000) {
    const full = `${this.suite}/${name}`;
    if (this.only && !full.includes(this.only)) return;
    if (this.timeoutsInARow >= GIVE_UP_AFTER) {
      this.failed++;
      console.log(`FAIL ${full}: not run: the ${GIVE_UP_AFTER} checks before it timed out (a hung server?)`);
      return;
    }
    const started = Date.now();
    let timer;
    let timedOut = false;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new CheckFailed(`timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    try {
      await Promise.race([fn(), timeout]);
      this.passed++;
      const elapsed = (Date.now() - started) / 1000;
      console.log(`PASS ${full}${elapsed >= 1 ? ` (${elapsed.toFixed(1)} s)` : ''}`);
    } catch (e) {
      // ws's own handshakeTimeout counts as a timeout too.
      if (/timed out/i.test(e?.message ?? '')) timedOut = true;
      this.failed++;
      const reason = e instanceof CheckFailed ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
      console.log(`FAIL ${full}: ${reason.split(/\s+/).join(' ')}`);
    } finally {
      clearTimeout(timer);
      this.timeoutsInARow = timedOut ? this.timeoutsInARow + 1 : 0;
    }
  }

  summary() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}
