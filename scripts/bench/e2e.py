#!/usr/bin/env python3
"""Runs the end-to-end comparison of issue 12 and prints medians and ratios.

Started by scripts/bench/e2e.sh, which builds the binaries and passes their paths; see it
for the settings (environment variables). Every run starts a fresh server on a fresh port,
pinned to SERVER_CPU, and the load generator (benches/e2e/load.rs) pinned to CLIENT_CPU;
within a cell the servers take turns, in an order rotated per repeat. Each run's JSON line
(with the load average when it started) goes to OUT/results.jsonl; the tables go to stdout
and OUT/summary.md.

Figures:
- msgs/s: echoes (or fan-out deliveries) per second, the median of the repeats;
- p99: the 99th percentile round trip (fan-out: send to the last receiver), median;
- per CPU-s: messages per second of the server's CPU time (user + system) over the same
  interval. On a shared machine the server does not always get its core; this figure
  counts only the time it ran, so it moves less with the load of others;
- sc: the server's system calls per message (per delivery for the fan-out), all kinds
  (reads, writes, epoll_wait, futex...), counted by `perf stat -e raw_syscalls:sys_enter`
  over the measured time when PERF=1 (the default if perf works);
- ratios are ours / the best peer: above 1 is better for msgs/s and per CPU-s, below 1
  is better for p99. `echo-uring` (ours on io_uring, examples/echo_uring) runs in the
  closed-loop matrix only, with its own ratios to the best peer.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

ENV = os.environ
SHORT = ENV.get("SHORT", "") not in ("", "0")
REPEATS = int(ENV.get("REPEATS", "1" if SHORT else "2"))
DURATION = float(ENV.get("DURATION", "0.5" if SHORT else "4"))
WARMUP = float(ENV.get("WARMUP", "0.2" if SHORT else "1"))
SERVERS = ENV.get("SERVERS",
                  "echo echo-uring tungstenite fastwebsockets sockudo tokio-websockets").split()
PARTS = ENV.get("PARTS", "matrix pipelined fanout idle").split()
OUT = ENV.get("OUT", os.path.join(ENV.get("CARGO_TARGET_DIR", "target"), "e2e"))
SERVER_CPU = ENV.get("SERVER_CPU", "0")
CLIENT_CPU = ENV.get("CLIENT_CPU", "1")
# A directory with an earlier build's `echo` and `e2e_server`: run as `echo@base` and
# `ours@base` beside the others, for a before/after in the same interleaved run.
BASELINE = ENV.get("BASELINE", "")
if BASELINE:
    SERVERS.insert(1, "echo@base")
OURS = ("echo", "ours")
# Ours on io_uring (examples/echo_uring): in the closed-loop matrix only; never a peer.
URING = "echo-uring"
PERF = ENV.get("PERF", "1") != "0" and subprocess.run(
    ["perf", "stat", "-e", "raw_syscalls:sys_enter", "--", "true"],
    capture_output=True).returncode == 0 if shutil.which("perf") else False


def is_ours(name):
    return name.split("@")[0] in OURS + (URING,)

CONNECTIONS = [1, 10] if SHORT else [1, 100, 500]
SIZES = [20, 1024] if SHORT else [20, 1024, 16 * 1024]
FANOUT_RECEIVERS = 50 if SHORT else 1000
IDLE = [200, 400] if SHORT else [5000, 10000]
PIPELINED = (10 if SHORT else 100, 20, 16)  # connections, size, in flight

args = argparse.ArgumentParser()
args.add_argument("--echo", required=True)
args.add_argument("--load", required=True)
args.add_argument("--server", required=True)
args.add_argument("--echo-uring", default="")
args = args.parse_args()

os.makedirs(OUT, exist_ok=True)
results_path = os.path.join(OUT, "results.jsonl")
results = open(results_path, "w")
port = 9300 + os.getpid() % 500 * 10


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def start_server(name):
    """Starts server `name` on a fresh port; returns (process, url base)."""
    global port
    port += 1
    addr = f"127.0.0.1:{port}"
    base, _, at = name.partition("@")
    echo = os.path.join(BASELINE, "echo") if at else args.echo
    server = os.path.join(BASELINE, "e2e_server") if at else args.server
    if base == "echo":
        cmd = [echo, "--addr", addr, "--quiet", "--max-connections", "20000"]
    elif base == URING:
        cmd = [args.echo_uring, "--addr", addr, "--quiet", "--max-connections", "20000"]
    else:
        cmd = [server, "--impl", base, "--addr", addr]
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU] + cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        sys.exit(f"e2e.py: {name} did not start: {line!r}")
    return proc, f"ws://{addr}"


def uring_works():
    """Whether echo_uring starts here; if not (no io_uring), says why on stderr."""
    if not args.echo_uring:
        print(f"e2e.py: {URING} left out: no --echo-uring binary", file=sys.stderr)
        return False
    proc = subprocess.Popen([args.echo_uring, "--addr", "127.0.0.1:0", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "listening on" in line:
        stop_server(proc)
        return True
    why = proc.stderr.read().strip()
    proc.wait()
    print(f"e2e.py: {URING} left out: {why or line!r}", file=sys.stderr)
    return False


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(part, name, mode, path, connections, size, in_flight, extra=()):
    proc, base = start_server(name)
    try:
        load = loadavg()
        cmd = ["taskset", "-c", CLIENT_CPU, args.load, "--mode", mode, "--url", base + path,
               "--connections", str(connections), "--size", str(size),
               "--in-flight", str(in_flight), "--warmup", str(WARMUP),
               "--duration", str(DURATION), "--server-pid", str(proc.pid),
               "--label", name, *(["--perf"] if PERF else []), *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            sys.exit(f"e2e.py: {part} {name} {mode} N={connections} size={size}: "
                     f"{done.stderr.strip()}")
        report = json.loads(done.stdout)
    finally:
        stop_server(proc)
    report.update(part=part, load=load)
    results.write(json.dumps(report) + "\n")
    results.flush()
    per_cpu = report["rate"] / report["server_cpu"] if report.get("server_cpu") else None
    report["per_cpu"] = per_cpu
    n = report["rate"] * report["seconds"]
    calls, switches = report.get("server_syscalls"), report.get("server_switches")
    report["calls"] = calls / n if calls is not None and n else None
    report["switches_per"] = switches / n if switches is not None and n else None
    note = (f"{report['rss_per_connection']:.0f} B/conn" if "rss_per_connection" in report
            else f"{report['rate']:10.0f}/s p99 {report['p99_us']:8.0f} µs "
                 f"server cpu {report['server_cpu'] or 0:.2f} "
                 f"syscalls/msg {report['calls'] or 0:.2f}")
    print(f"  {part:9} {name:16} N={connections:<5} {size:>6} B  {note}  (load {load:.1f})",
          file=sys.stderr, flush=True)
    return report


def rotated(servers, r):
    k = r % len(servers)
    return servers[k:] + servers[:k]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit=""):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}{unit}"
    return f"{x:.1f}{unit}"


def best_peer(values, lower_is_better=False):
    peers = [v for k, v in values.items() if not is_ours(k) and v is not None]
    if not peers:
        return None
    return min(peers) if lower_is_better else max(peers)


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "—"


summary = []


def out(line=""):
    print(line)
    summary.append(line)


def table(title, cells, runs):
    """cells: list of (label, key); runs: {key: {server: [reports]}}."""
    out(f"### {title}")
    out()
    names = [s for s in SERVERS if any(s in runs[k] for _, k in cells)]
    ours = next((s for s in names if s in OURS), None)
    base = next((s for s in names if is_ours(s) and "@" in s), None)
    uring = URING if URING in names else None
    out("| case | " + " | ".join(names) + " | ours ÷ best peer |")
    out("|---|" + "---|" * (len(names) + 1))
    for label, key in cells:
        med = {s: {m: median([r.get(m) for r in runs[key].get(s, [])])
                   for m in ("rate", "p99_us", "per_cpu", "calls")} for s in names}
        rate = {s: med[s]["rate"] for s in names}
        p99 = {s: med[s]["p99_us"] for s in names}
        eff = {s: med[s]["per_cpu"] for s in names}
        calls = {s: med[s]["calls"] for s in names}
        cols = [f"{fmt(rate[s])}/s, p99 {fmt(p99[s])} µs, {fmt(eff[s])}/CPU-s, "
                f"{calls[s]:.2f} sc" if calls[s] is not None else "—" for s in names]
        if ours:
            r = (f"msgs/s {ratio(rate[ours], best_peer(rate))}, "
                 f"p99 {ratio(p99[ours], best_peer(p99, True))}, "
                 f"per CPU-s {ratio(eff[ours], best_peer(eff))}")
        else:
            r = "—"
        if ours and base:
            r += (f"; ours ÷ {base}: msgs/s {ratio(rate[ours], rate[base])}, "
                  f"per CPU-s {ratio(eff[ours], eff[base])}")
        if uring:
            r = "" if r == "—" else r + "; "
            r += (f"{uring} ÷ best peer: msgs/s {ratio(rate[uring], best_peer(rate))}, "
                  f"p99 {ratio(p99[uring], best_peer(p99, True))}, "
                  f"per CPU-s {ratio(eff[uring], best_peer(eff))}")
            if ours:
                r += (f"; {uring} ÷ {ours}: msgs/s {ratio(rate[uring], rate[ours])}, "
                      f"per CPU-s {ratio(eff[uring], eff[ours])}")
        out(f"| {label} | " + " | ".join(cols) + f" | {r} |")
    loads = [r["load"] for k in [k for _, k in cells] for s in runs[k].values() for r in s]
    if loads:
        out()
        out(f"Load average during these runs: median {median(loads):.1f}, "
            f"range {min(loads):.1f}-{max(loads):.1f}; {REPEATS} run(s) per server and case, "
            f"{DURATION:g} s measured after {WARMUP:g} s warm-up.")
    out()


def size_label(size):
    return f"{size // 1024} KiB" if size >= 1024 else f"{size} B"


if URING in SERVERS and ("matrix" not in PARTS or not uring_works()):
    SERVERS.remove(URING)

started = time.time()
out(f"## End to end ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
    f"server on CPU {SERVER_CPU}, load generator on CPU {CLIENT_CPU})")
out()
print(f"results: {results_path}", file=sys.stderr)

if "matrix" in PARTS:
    runs, cells = {}, []
    for n in CONNECTIONS:
        for size in SIZES:
            key = (n, size)
            cells.append((f"N={n}, {size_label(size)}", key))
            runs[key] = {}
            for r in range(REPEATS):
                for s in rotated(SERVERS, r):
                    rep = run("matrix", s, "echo", "/", n, size, 1)
                    runs[key].setdefault(s, []).append(rep)
    table("Echo, closed loop (1 message in flight per connection)", cells, runs)
# The other parts run without echo-uring.
SERVERS = [s for s in SERVERS if s != URING]

if "pipelined" in PARTS:
    n, size, k = PIPELINED
    runs = {"window": {}, "burst": {}}
    for r in range(REPEATS):
        for key, extra in (("window", ()), ("burst", ("--burst",))):
            for s in rotated(SERVERS, r):
                runs[key].setdefault(s, []).append(
                    run(f"pipe-{key}", s, "echo", "/", n, size, k, extra))
    table(f"Pipelined echo ({k} in flight per connection)",
          [(f"N={n}, {size_label(size)}, a sliding window of {k}", "window"),
           (f"N={n}, {size_label(size)}, bursts of {k} (the next once all came back)",
            "burst")], runs)

fan_servers = [s.replace("echo", "ours", 1) if s.startswith("echo") else s for s in SERVERS]
if "fanout" in PARTS:
    runs = {"f": {}}
    saved = SERVERS
    SERVERS = list(dict.fromkeys(fan_servers))
    for r in range(REPEATS):
        for s in rotated(SERVERS, r):
            runs["f"].setdefault(s, []).append(
                run("fanout", s, "fanout", "/fanout", FANOUT_RECEIVERS, 1024, 8))
    table("Fan-out (one sender, 8 broadcasts in flight; deliveries)",
          [(f"{FANOUT_RECEIVERS} receivers, 1 KiB", "f")], runs)
    SERVERS = saved

if "idle" in PARTS:
    out("### Idle memory (server RSS growth per connection after the handshake)")
    out()
    out("| connections | " + " | ".join(SERVERS) + " |")
    out("|---|" + "---|" * len(SERVERS))
    for n in IDLE:
        per = {}
        for r in range(REPEATS):
            for s in rotated(SERVERS, r):
                rep = run("idle", s, "idle", "/", n, 20, 1, ("--settle", "1"))
                per.setdefault(s, []).append(rep.get("rss_per_connection"))
        out(f"| {n:,} | " + " | ".join(f"{fmt(median(per[s]))} B" for s in SERVERS) + " |")
    out()

out(f"({(time.time() - started) / 60:.1f} minutes; every run: {results_path})")
with open(os.path.join(OUT, "summary.md"), "w") as f:
    f.write("\n".join(summary) + "\n")
