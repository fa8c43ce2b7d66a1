"""One line per check (`PASS suite/name` or `FAIL suite/name: reason`), each bounded in
time, and the closing `N passed, M failed` line."""

import asyncio
import sys
import time
import traceback


class CheckFailed(Exception):
    """A check's expectation was not met; the message is the reason printed."""


def expect(condition, reason):
    if not condition:
        raise CheckFailed(reason)


def short(value, limit=60):
    """A value for a failure message: long payloads by length and first bytes."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{type(value).__name__} of {len(value)} starting {text[:limit]}..."


# After this many timeouts in a row the server is taken to be hung: the remaining checks
# fail at once instead of each waiting out its time limit.
GIVE_UP_AFTER = 3


class Report:
    def __init__(self, suite, only=None):
        self.suite = suite
        self.only = only
        self.passed = 0
        self.failed = 0
        self.timeouts_in_a_row = 0

    async def check(self, name, coro_fn, timeout=10.0):
        """Runs `coro_fn()` under `timeout` seconds; a hang is a failure, not a hang."""
        full = f"{self.suite}/{name}"
        if self.only and self.only not in full:
            return
        if self.timeouts_in_a_row >= GIVE_UP_AFTER:
            self.fail(full, f"not run: the {GIVE_UP_AFTER} checks before it timed out (a hung server?)")
            return
        started = time.monotonic()
        self.timeouts_in_a_row += 1
        try:
            await asyncio.wait_for(coro_fn(), timeout)
        except asyncio.TimeoutError:
            self.fail(full, f"timed out after {timeout:g} s")
            return
        except CheckFailed as e:
            self.fail(full, str(e))
        except Exception as e:  # any other exception is a failure with its reason
            if "--verbose" in sys.argv:
                traceback.print_exc()
            self.fail(full, f"{type(e).__name__}: {e}")
        else:
            self.passed += 1
            elapsed = time.monotonic() - started
            slow = f" ({elapsed:.1f} s)" if elapsed >= 1 else ""
            print(f"PASS {full}{slow}", flush=True)
        self.timeouts_in_a_row = 0

    def fail(self, full, reason):
        self.failed += 1
        reason = " ".join(reason.split()) or "failed"
        print(f"FAIL {full}: {reason}", flush=True)

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
