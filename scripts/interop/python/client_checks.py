"""`examples/client` against echo servers we did not write: Python `websockets`
(echo_server.py) and Node `ws` (../node/echo_server.mjs).

    python client_checks.py --client target/debug/examples/client [--only NAME]
                            [--servers python,node]

Prints `PASS client-SERVER/NAME` or `FAIL client-SERVER/NAME: reason` per check and ends
with `N passed, M failed`; exits 1 if anything failed.
"""

import asyncio
import itertools
import os
import sys
from pathlib import Path

from report import CheckFailed, Report, expect, short

HERE = Path(__file__).resolve().parent
SERVERS = {
    "python": [sys.executable, str(HERE / "echo_server.py")],
    "node": ["node", str(HERE.parent / "node" / "echo_server.mjs")],
}
ids = itertools.count(1)


class Server:
    """An echo server process, its URL, and the `end PATH CODE REASON` lines it prints."""

    @classmethod
    async def start(cls, command):
        self = cls()
        self.proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
        )
        line = await asyncio.wait_for(self.proc.stdout.readline(), 20)
        text = line.decode().strip()
        if not text.startswith("listening on ws://"):
            self.stop()
            raise RuntimeError(f"server did not start: {text!r}")
        self.url = text.removeprefix("listening on ")
        self.ends = {}
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self.read_ends())
        return self

    async def read_ends(self):
        while line := await self.proc.stdout.readline():
            parts = line.decode().rstrip("\n").split(" ", 3)
            if parts[0] == "end" and len(parts) >= 3:
                self.ends[parts[1]] = (int(parts[2]), parts[3] if len(parts) > 3 else "")
                self.changed.set()

    async def end_of(self, path, within=5):
        """The close code and reason the server received on the connection to `path`."""
        async with asyncio.timeout(within):
            while path not in self.ends:
                self.changed.clear()
                await self.changed.wait()
        return self.ends[path]

    def stop(self):
        if self.proc.returncode is None:
            self.proc.terminate()


async def run_client(client, url, lines=(), args=(), greeting=0, keep_stdin_open=False, within=10):
    """Runs the client as a person would: waits for `greeting` lines from the server, types
    `lines`, waits until their echoes are printed (or `within` runs out), then ends the
    input (unless `keep_stdin_open`) and waits for the exit. Returns (exit code, stdout
    lines, stderr).

    End of input makes the client send its close at once; a server that answers a close
    before it has echoed what preceded it (websockets does) would drop those echoes, so
    input is ended only once they are in."""
    proc = await asyncio.create_subprocess_exec(
        client, *args, url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=4 << 20,  # lines up to 4 MiB
    )
    out = []
    printed = asyncio.Event()

    async def read_stdout():
        try:
            while line := await proc.stdout.readline():
                out.append(line.decode("utf-8", "replace").removesuffix("\n"))
                printed.set()
        finally:
            printed.set()  # end of output (the client exited) wakes `until` too

    async def until(count):
        while len(out) < count and proc.returncode is None and not reader.done():
            printed.clear()
            await printed.wait()

    reader = asyncio.create_task(read_stdout())
    stderr = asyncio.create_task(proc.stderr.read())
    try:
        async with asyncio.timeout(within):
            try:
                await until(greeting)
                if lines:
                    proc.stdin.write("".join(f"{line}\n" for line in lines).encode())
                    await proc.stdin.drain()
                    await until(greeting + len(lines))
                if not keep_stdin_open:
                    proc.stdin.close()
            except (BrokenPipeError, ConnectionResetError):
                pass
            await proc.wait()
            await reader
            err = await stderr
    except TimeoutError:
        proc.kill()
        await proc.wait()
        reader.cancel()
        stderr.cancel()
        raise CheckFailed(f"client still running after {within} s (killed); stdout so far {short(out)}") from None
    return proc.returncode, out, err.decode("utf-8", "replace")


def last_error(stderr):
    lines = [line for line in stderr.strip().split("\n") if line]
    return lines[-1] if lines else "(no stderr)"


async def suite(report, client, server):
    check = report.check

    def path(name):
        return f"/{name}?id={next(ids)}"

    async def echo(lines, name="echo"):
        p = path(name)
        code, out, err = await run_client(client, server.url + p, lines)
        expect(code == 0, f"exit code {code}: {last_error(err)}")
        expect(out == lines, f"stdout {short(out)}, expected {short(lines)}")
        got = await server.end_of(p)
        expect(got[0] == 1000, f"the server received close {got[0]} {got[1]!r}, expected 1000")

    await check("echo-lines", lambda: echo(["hello", "你好，世界 😀", "", "last line"]))
    await check("echo-1000-lines", lambda: echo([f"line {i} " + "x" * (i % 200) for i in range(1000)]))
    await check("echo-1MiB-line", lambda: echo(["1MiB " + "y" * ((1 << 20) - 5)]))
    await check("no-input", lambda: echo([]))

    async def hello(args, expected, stderr_has=None):
        p = path("hello")
        code, out, err = await run_client(client, server.url + p, ["after"], args=args, greeting=1)
        expect(code == 0, f"exit code {code}: {last_error(err)}")
        expect(out == [expected, "after"], f"stdout {short(out)}, expected {short([expected, 'after'])}")
        if stderr_has:
            expect(stderr_has in err, f"stderr lacks {stderr_has!r}: {last_error(err)}")

    await check(
        "protocol-chat",
        lambda: hello(["--protocol", "chat"], "hello subprotocol=chat x-interop=-", "subprotocol chat"),
    )
    await check(
        "protocol-chat-second-choice",
        lambda: hello(["--protocol", "superchat", "--protocol", "chat"], "hello subprotocol=chat x-interop=-"),
    )
    await check(
        "protocol-none-chosen",
        lambda: hello(["--protocol", "superchat"], "hello subprotocol=- x-interop=-"),
    )
    await check("header", lambda: hello(["--header", "X-Interop: yes 1"], "hello subprotocol=- x-interop=yes 1"))

    async def rejected():
        code, out, err = await run_client(client, server.url + path("reject"), ["never sent"])
        expect(code != 0, "exit code 0 after a 403")
        expect(code == 1, f"exit code {code}, the client documents 1 for a handshake failure")
        expect("403" in err, f"stderr does not name the 403: {last_error(err)}")
        expect(out == [], f"stdout {short(out)}")

    await check("reject-403", rejected)

    async def first_line(name, expected):
        code, out, err = await run_client(client, server.url + path(name), ["after"], greeting=1)
        expect(code == 0, f"exit code {code}: {last_error(err)}")
        expect(out == [expected, "after"], f"stdout {short(out)}, expected {short([expected, 'after'])}")

    await check("binary-from-server", lambda: first_line("binary", "<binary 3 bytes>"))
    await check("server-ping-answered", lambda: first_line("ping", "pong ok"))

    async def server_closes(name, want_zero):
        p = path(name)
        # stdin stays open: the server's close alone must end the client.
        code, out, err = await run_client(client, server.url + p, keep_stdin_open=True)
        if want_zero:
            expect(code == 0, f"exit code {code}: {last_error(err)}")
        else:
            expect(code != 0, "exit code 0 after close 1011")
        got = await server.end_of(p)
        expect(got[0] == int(name[-4:]), f"the server's close was answered with {got[0]} {got[1]!r}")

    await check("server-close-1001", lambda: server_closes("close-1001", True))
    await check("server-close-1011", lambda: server_closes("close-1011", False))


async def main(client, only, kinds):
    report = Report("client", only)

    async def refused():
        # A port nothing listens on: bind one, then close it.
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        code, _, err = await run_client(client, f"ws://127.0.0.1:{port}/", ["x"])
        expect(code == 1, f"exit code {code}, expected 1: {last_error(err)}")

    await report.check("connection-refused", refused)

    for kind in kinds:
        try:
            server = await Server.start(SERVERS[kind])
        except Exception as e:
            report.fail(f"client-{kind}/server-start", f"{type(e).__name__}: {e}")
            continue
        try:
            sub = Report(f"client-{kind}", only)
            await suite(sub, client, server)
            report.passed += sub.passed
            report.failed += sub.failed
        finally:
            server.stop()
            await server.proc.wait()
    return report.summary()


if __name__ == "__main__":
    args = sys.argv[1:]
    client = args[args.index("--client") + 1] if "--client" in args else os.environ.get("CLIENT_BIN")
    only = args[args.index("--only") + 1] if "--only" in args else None
    kinds = (args[args.index("--servers") + 1] if "--servers" in args else "python,node").split(",")
    if not client:
        sys.exit("usage: client_checks.py --client PATH")
    print(f"# {client} against Python websockets and Node ws echo servers", flush=True)
    sys.exit(asyncio.run(main(client, only, kinds)))
