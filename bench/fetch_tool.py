#!/usr/bin/python3
"""Helpers of bench/fetch_bench.sh (the download benchmark of issue 3). Standard library only.

    fetch_tool.py freeports N                          N free TCP ports on 127.0.0.1
    fetch_tool.py select SRC DST SIZES N MIN MAX       first N files of SRC (by name) of MIN..MAX
                                                       bytes, hard-linked (or copied) into DST
    fetch_tool.py urls BASE SIZES OUT [LIMIT]          BASE/img/NAME for each file (first LIMIT)
    fetch_tool.py tinyurls BASE COUNT OUT              BASE/tiny/t000000.jpg ... (memory test)
    fetch_tool.py queryurls BASE SIZES OUT COPIES      BASE/img/NAME?v=K, K < COPIES, round-robin
                                                       over the files (the 3,000-URL benchmark)
    fetch_tool.py run [options] -- COMMAND...          one timed, checked run; a JSON line appended
    fetch_tool.py check OUT SIZES URLS                 the check alone (exit 1 when it fails)
    fetch_tool.py report RESULTS META                  the Markdown report on stdout

Every HTTP request this file makes goes to 127.0.0.1 (the /stats of `thumbfetch serve`), with
proxies disabled.
"""
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request


# --- set-up ----------------------------------------------------------------------------------

def cmd_freeports(n):
    socks, ports = [], []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    print(" ".join(map(str, ports)))


def cmd_select(src, dst, sizes_path, n, lo, hi):
    n, lo, hi = int(n), int(lo), int(hi)
    os.makedirs(dst, exist_ok=True)
    chosen, skipped = [], 0
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue
        size = os.path.getsize(path)
        if not lo <= size <= hi:
            skipped += 1
            continue
        chosen.append((name, size))
        if len(chosen) == n:
            break
    if len(chosen) < n:
        print(f"only {len(chosen)} files of {lo}-{hi} bytes in {src} (need {n})", file=sys.stderr)
        return 1
    for name, _ in chosen:
        target = os.path.join(dst, name)
        if os.path.lexists(target):
            os.unlink(target)
        try:
            os.link(os.path.join(src, name), target)
        except OSError:
            shutil.copyfile(os.path.join(src, name), target)
    # The SHA-256 of each served file, so that a run is checked by content, not only by size.
    with open(sizes_path, "w") as f:
        for name, size in chosen:
            f.write(f"{name}\t{size}\t{file_sha256(os.path.join(dst, name))}\n")
    sizes = [s for _, s in chosen]
    jpeg = sum(1 for name, _ in chosen if name.lower().endswith((".jpg", ".jpeg")))
    print(f"{len(chosen)} files ({jpeg} JPEG, {len(chosen) - jpeg} PNG), {sum(sizes)} bytes, "
          f"{min(sizes)}-{max(sizes)} bytes (median {int(statistics.median(sizes))}); "
          f"{skipped} files of {src} outside {lo}-{hi} bytes skipped; last used: {chosen[-1][0]}")
    return 0


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_table(path):
    """name -> (size, sha256 or None) from a sizes.tsv."""
    table = {}
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            table[fields[0]] = (int(fields[1]), fields[2] if len(fields) > 2 else None)
    return table


def read_sizes(path):
    return {name: size for name, (size, _) in read_table(path).items()}


def cmd_urls(base, sizes_path, out, limit=None):
    names = list(read_sizes(sizes_path))
    if limit is not None:
        names = names[: int(limit)]
    with open(out, "w") as f:
        for name in names:
            f.write(f"{base}/img/{name}\n")


def cmd_tinyurls(base, count, out):
    with open(out, "w") as f:
        for i in range(int(count)):
            f.write(f"{base}/tiny/t{i:06d}.jpg\n")


def cmd_queryurls(base, sizes_path, out, copies):
    # Distinct URLs for the same files: copy K of every file before copy K+1, so neighbours in
    # the list are different files (no file is asked for twice in a row).
    names = list(read_sizes(sizes_path))
    with open(out, "w") as f:
        for k in range(int(copies)):
            for name in names:
                f.write(f"{base}/img/{name}?v={k}\n")


# --- one run ---------------------------------------------------------------------------------

def expected_sizes(sizes_path, urls_path):
    """(size, sha256 or None) of every URL's file, in list order."""
    sizes = read_table(sizes_path) if sizes_path.endswith(".tsv") else None
    out = []
    with open(urls_path) as f:
        for line in f:
            url = line.strip()
            if not url:
                continue
            name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
            if sizes is None:  # a single size for every URL (memory test)
                out.append((int(sizes_path), None))
            else:
                out.append(sizes[name])
    return out


def check_dir(out_dir, want):
    """Every file downloaded with the right content: same count, same total, same multiset of
    sizes and, where the served files' hashes are known, of SHA-256s. Ignored: thumbfetch's
    manifest.jsonl and hidden files (temp files are named .something)."""
    got, paths = [], []
    hidden = 0
    if os.path.isdir(out_dir):
        with os.scandir(out_dir) as it:
            for e in it:
                if e.name == "manifest.jsonl":
                    continue
                if e.name.startswith("."):
                    hidden += 1
                    continue
                if e.is_file(follow_symlinks=False):
                    got.append(e.stat(follow_symlinks=False).st_size)
                    paths.append(e.path)
    want_hashes = [h for _, h in want]
    want = [size for size, _ in want]
    res = {"files": len(got), "bytes": sum(got), "exp_files": len(want), "exp_bytes": sum(want),
           "hidden": hidden}
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} files, expected {len(want)}")
    if sum(got) != sum(want):
        problems.append(f"{sum(got)} bytes, expected {sum(want)}")
    if not problems and sorted(got) != sorted(want):
        problems.append("file sizes differ from the served ones")
    if not problems and None not in want_hashes:
        if sorted(file_sha256(p) for p in paths) != sorted(want_hashes):
            problems.append("file contents differ from the served ones")
    res["ok"] = not problems
    res["reason"] = "; ".join(problems)
    return res


def write_failures(w, recs):
    failures = [r for r in recs if not r["ok"]]
    if failures:
        w("")
        w("FAILED runs:")
        w("")
        for r in failures:
            w(f"- {r['server']} {r['latency']} ms {r['id']} run {r['run']}: {r['reason']}")


def get_stats(url):
    if not url:
        return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as r:
            return json.load(r)
    except Exception:  # noqa: BLE001 - the stats are informational
        return None


def cmd_run(argv):
    opts = {}
    i = 0
    while argv[i] != "--":
        opts[argv[i].lstrip("-")] = argv[i + 1]
        i += 2
    cmd = argv[i + 1:]
    out_dir = opts["out"]
    shutil.rmtree(out_dir, ignore_errors=True)
    if opts.get("mkdir", "1") == "1":
        os.makedirs(out_dir)
    want = expected_sizes(opts["sizes"], opts["urls"])
    stats_url = opts.get("stats")
    before = get_stats(stats_url)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    timeout = float(opts.get("timeout", 300))
    rc, timed_out = None, False
    with open(opts["log"], "ab") as log:
        log.write(f"\n### {opts['id']} {opts['server']} {opts['latency']} ms run {opts['run']}: "
                  f"{' '.join(cmd)}\n".encode())
        log.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            rc = p.wait()
        wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = get_stats(stats_url)
    res = check_dir(out_dir, want)
    if timed_out:
        res["ok"] = False
        res["reason"] = f"timed out after {timeout:.0f} s; " + res["reason"]
    elif rc != 0:
        res["ok"] = False
        res["reason"] = f"exit status {rc}; " + res["reason"]
    rec = {"id": opts["id"], "server": opts["server"], "latency": int(opts["latency"]),
           "run": int(opts["run"]), "n": len(want), "wall": wall, "rc": rc,
           "cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), **res}
    if before and after:  # this script's own /stats request is one request on one connection
        rec["srv_requests"] = after["total_requests"] - before["total_requests"] - 1
        rec["srv_connections"] = after["connections_accepted"] - before["connections_accepted"] - 1
    with open(opts["results"], "a") as f:
        f.write(json.dumps(rec) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    status = "ok" if res["ok"] else "FAILED: " + res["reason"]
    print(f"   {opts['server']:7} {opts['latency']:>3} ms run {opts['run']} {opts['id']:13} "
          f"{len(want):>4} in {wall:7.2f} s = {len(want) / wall:8.1f} img/s  {status}",
          file=sys.stderr)
    return 0


def cmd_check(out_dir, sizes, urls):
    res = check_dir(out_dir, expected_sizes(sizes, urls))
    print(json.dumps(res))
    return 0 if res["ok"] else 1


# --- the report ------------------------------------------------------------------------------

CONTESTANTS = [
    ("py_serial", "Python `requests` serial loop (reference)"),
    ("py_tpe16", "Python `ThreadPoolExecutor(16)`"),
    ("curl64", "`curl --parallel --parallel-max 64`"),
    ("aria2c64", "`aria2c -j 64`"),
    ("wget2_64", "`wget2 --max-threads=64`"),
    ("tf_serial", "thumbfetch serial"),
    ("tf_threads64", "thumbfetch threads -j 64"),
    ("tf_async64", "thumbfetch async -j 64"),
    ("tf_async256", "thumbfetch async -j 256"),
]
LATENCIES = [0, 50, 200]
SERVERS = [("nginx", "nginx (echo_sleep + static file) — primary"),
           ("tfserve", "thumbfetch serve --latency (cross-check)")]


class Cell:
    """The runs of one contestant on one server at one latency."""

    def __init__(self, recs):
        self.recs = sorted(recs, key=lambda r: r["run"])
        self.ok = [r for r in self.recs if r["ok"]]
        self.failed = [r for r in self.recs if not r["ok"]]
        self.n = self.recs[0]["n"] if self.recs else 0
        self.wall = statistics.median(r["wall"] for r in self.ok) if self.ok else None
        self.rate = self.n / self.wall if self.wall else None
        self.cpu = statistics.median(r["cpu"] for r in self.ok) if self.ok else None

    @property
    def valid(self):  # every run complete and checked
        return bool(self.recs) and not self.failed


def fmt_rate(x):
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def load_memory(m):
    """The 100,000-URL run: its record (from `run`) and the `/usr/bin/time -v` output."""
    if not m:
        return None
    if m.get("skipped"):
        return {"rss_mb": None, "reason": m["skipped"]}
    rec = None
    if os.path.exists(m["results"]):
        with open(m["results"]) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        rec = lines[-1] if lines else None
    if rec is None:
        return {"rss_mb": None, "reason": "no result recorded"}
    rss_kb = None
    timev = ""
    if os.path.exists(m["timev"]):
        with open(m["timev"]) as f:
            timev = f.read()
        for line in timev.splitlines():
            if "Maximum resident set size" in line:
                rss_kb = int(line.split(":")[-1])
    text = (f"`{m['command']}`: {rec['n']:,} URLs in {rec['wall']:.1f} s = "
            f"{rec['n'] / rec['wall']:,.0f} img/s, CPU {rec['cpu']:.1f} s, "
            f"{rec['files']:,} files / {rec['bytes']:,} bytes in the folder, "
            f"{'all there with the right size' if rec['ok'] else 'FAILED: ' + rec['reason']}; "
            f"peak RSS (`/usr/bin/time -v`, Maximum resident set size): "
            f"{'—' if rss_kb is None else f'{rss_kb / 1024:.1f} MB ({rss_kb} kB)'}. "
            f"{m.get('note', '')}")
    return {"rss_mb": None if rss_kb is None else rss_kb / 1024, "ok": rec["ok"],
            "reason": rec["reason"] or "no RSS figure", "rate": rec["n"] / rec["wall"],
            "text": text}


def cmd_report(results_path, meta_path):
    with open(meta_path) as f:
        meta = json.load(f)
    recs = []
    if os.path.exists(results_path):
        with open(results_path) as f:
            recs = [json.loads(line) for line in f if line.strip()]
    cells = {}
    for cid, _ in CONTESTANTS:
        for srv, _ in SERVERS:
            for lat in LATENCIES:
                cells[cid, srv, lat] = Cell([r for r in recs if r["id"] == cid and r["server"] == srv
                                             and r["latency"] == lat])
    out = []
    w = out.append
    w(f"# Downloads benchmark, {meta['date']}")
    w("")
    w(f"Command: `{meta['command']}` (from the repository root)")
    w("")
    w(f"- machine: {meta['machine']}; load average at start `{meta['load_start']}`, "
      f"at end `{meta['load_end']}` (2 shared cores: compare ratios within this run)")
    w(f"- thumbfetch: `{meta['thumbfetch']}` ({meta['thumbfetch_note']})")
    w(f"- tools: {meta['versions']}")
    w(f"- files: {meta['corpus']}")
    w(f"- {meta['runs']} runs of every contestant, interleaved (run 1 of all, then run 2...) with the "
      f"order rotated per run; median external wall time of the whole command (process start-up "
      f"included, for every contestant alike); the output folder is wiped before each run")
    w(f"- every run checked: exit status 0 and every file there with its served size (count, total "
      f"bytes, sizes); a run that fails the check is FAILED and left out of the median, and the "
      f"cell says so")
    w(f"- serial contestants at 50 and 200 ms fetch the first {meta['serial_n']} URLs only (500 "
      f"one after another at 200 ms take 100 s a run); their img/s is that count / median wall "
      f"time (marked `*`). All other cells: 500 URLs.")
    w("")
    for srv, srv_label in SERVERS:
        w(f"## {srv_label}")
        w("")
        w("img/s (ratio to Python serial, ratio to wget2) for each added latency:")
        w("")
        w("| contestant | 0 ms | +50 ms | +200 ms |")
        w("|---|---|---|---|")
        for cid, label in CONTESTANTS:
            row = [label]
            for lat in LATENCIES:
                c = cells[cid, srv, lat]
                if not c.recs:
                    row.append("not run")
                    continue
                py, wg = cells["py_serial", srv, lat], cells["wget2_64", srv, lat]
                r_py = c.rate / py.rate if c.rate and py.rate else None
                r_wg = c.rate / wg.rate if c.rate and wg.rate else None
                star = "*" if c.n != 500 else ""
                txt = f"**{fmt_rate(c.rate)}**{star} ({fmt_ratio(r_py)}, {fmt_ratio(r_wg)})"
                if c.failed:
                    txt += f" FAILED {len(c.failed)} of {len(c.recs)} runs"
                row.append(txt)
            w("| " + " | ".join(row) + " |")
        w("| ceiling, 64 in flight (in-flight / latency) | CPU | 1,280 | 320 |")
        w("| ceiling, 256 in flight | CPU | 5,120 | 1,280 |")
        w("")
    # details
    w("## Every cell: runs, wall times, CPU, connections")
    w("")
    w("Wall times of each run in run order (FAILED runs shown with `!`), median wall, CPU (user + "
      "system of the command, median), and for thumbfetch serve the requests and TCP connections "
      "the server counted during the run (median).")
    w("")
    w("| server | latency | contestant | URLs | runs (s) | median s | img/s | CPU s | requests / connections |")
    w("|---|---|---|---|---|---|---|---|---|")
    for srv, _ in SERVERS:
        for lat in LATENCIES:
            for cid, label in CONTESTANTS:
                c = cells[cid, srv, lat]
                if not c.recs:
                    continue
                runs = ", ".join(f"{r['wall']:.2f}" + ("" if r["ok"] else "!") for r in c.recs)
                conn = "—"
                srv_recs = [r for r in c.recs if "srv_requests" in r]
                if srv_recs:
                    conn = (f"{statistics.median(r['srv_requests'] for r in srv_recs):.0f} / "
                            f"{statistics.median(r['srv_connections'] for r in srv_recs):.0f}")
                w(f"| {srv} | {lat} | {label} | {c.n} | {runs} | "
                  f"{'—' if c.wall is None else f'{c.wall:.3f}'} | {fmt_rate(c.rate)} | "
                  f"{'—' if c.cpu is None else f'{c.cpu:.2f}'} | {conn} |")
    write_failures(w, recs)
    w("")

    # targets
    w("## The issue's targets (nginx; thumbfetch serve in brackets)")
    w("")
    w("```")
    lines = []

    def rate(cid, lat, srv="nginx"):
        c = cells[cid, srv, lat]
        return c.rate if c.valid else None

    def both(fn):
        a, b = fn("nginx"), fn("tfserve")
        return a, b

    def line(ok, text):
        if ok is None:
            lines.append(f"n/a   {text}")
        else:
            lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    def f(x, spec=",.0f"):
        return "—" if x is None else format(x, spec)

    a, b = both(lambda s: rate("tf_async64", 50, s))
    line(None if a is None else a >= 1100,
         f"50 ms: async -j 64 {f(a)} img/s >= 1,100 [{f(b)}]")
    def ratio(x, y):
        return x / y if x and y else None
    a, b = both(lambda s: ratio(rate("tf_async64", 50, s), rate("wget2_64", 50, s)))
    line(None if a is None else a >= 1.2,
         f"50 ms: async -j 64 / wget2 = {f(a, '.2f')}x >= 1.2x "
         f"(wget2 {f(rate('wget2_64', 50))} img/s) [{f(b, '.2f')}x]")
    a, b = both(lambda s: ratio(rate("tf_async64", 50, s), rate("tf_threads64", 50, s)))
    line(None if a is None else a <= 1.25,
         f"50 ms: threads within 1.25x of async: async / threads (-j 64) = {f(a, '.2f')}x <= 1.25x "
         f"(threads {f(rate('tf_threads64', 50))} img/s) [{f(b, '.2f')}x]")
    a, b = both(lambda s: rate("tf_async64", 200, s))
    line(None if a is None else a >= 0.95 * 320,
         f"200 ms: async -j 64 {f(a)} img/s = {f(a and a / 320 * 100, '.0f')}% of the ceiling 320 "
         f">= 95% (304) [{f(b)}]")
    a, b = both(lambda s: rate("tf_threads64", 200, s))
    lines.append(f"info  200 ms: threads -j 64 {f(a)} img/s = {f(a and a / 320 * 100, '.0f')}% "
                 f"of the ceiling [{f(b)}]")
    a, b = both(lambda s: rate("tf_async256", 200, s))
    line(None if a is None else a >= 1000,
         f"200 ms: async -j 256 {f(a)} img/s >= 1,000 (ceiling 1,280) [{f(b)}]")
    a, b = both(lambda s: ratio(rate("tf_async64", 0, s), rate("wget2_64", 0, s)))
    line(None if a is None else a >= 1.2,
         f"0 ms: async -j 64 / wget2 = {f(a, '.2f')}x >= 1.2x (async {f(rate('tf_async64', 0))}, "
         f"wget2 {f(rate('wget2_64', 0))} img/s) [{f(b, '.2f')}x]")
    best = max(((rate(c, 0) or 0), c) for c in ("tf_threads64", "tf_async64", "tf_async256"))
    lines.append(f"info  0 ms: best thumbfetch ({best[1]}) {f(best[0])} img/s = "
                 f"{f(ratio(best[0], rate('wget2_64', 0)), '.2f')}x wget2")
    t0 = cells["tf_serial", "nginx", 0]
    t0s = (t0.wall / t0.n) if t0.valid else None
    for lat in (50, 200):
        a, b = both(lambda s: rate("tf_serial", lat, s))
        ideal = 1000 / lat
        honest = 1 / (lat / 1000 + t0s) if t0s else None
        line(None if a is None else a >= 0.95 * ideal,
             f"{lat} ms: serial {f(a, '.2f')} img/s >= 95% of 1/latency = {0.95 * ideal:.2f} "
             f"({f(a and a / ideal * 100, '.1f')}% of {ideal:.0f}; of 1/(latency + its own 0 ms "
             f"time per image {f(t0s and t0s * 1000, '.2f')} ms) = {f(honest, '.2f')}: "
             f"{f(a and honest and a / honest * 100, '.1f')}%) [{f(b, '.2f')}]")
    conns = [r.get("srv_connections") for r in recs
             if r["id"] == "tf_serial" and r["server"] == "tfserve" and "srv_connections" in r]
    if conns:
        lines.append(f"info  serial on thumbfetch serve: TCP connections per run {sorted(set(conns))} "
                     f"(1 = one reused connection)")
    mem = load_memory(meta.get("memory_run"))
    if mem and mem.get("rss_mb") is not None:
        line(mem["ok"] and mem["rss_mb"] < 200,
             f"100,000 URLs: peak RSS {mem['rss_mb']:.1f} MB < 200 MB "
             f"({'all fetched' if mem['ok'] else 'FAILED: ' + mem['reason']}, "
             f"{mem['rate']:,.0f} img/s)")
    elif mem:
        lines.append(f"n/a   100,000 URLs: {mem.get('reason', 'not run')}")
    out.extend(lines)
    w("```")
    w("")
    if mem:
        w("## Memory: 100,000 URLs")
        w("")
        w(mem.get("text", ""))
        w("")
    w("## Commands")
    w("")
    for cid, cmd in meta["commands"].items():
        w(f"- `{cid}`: `{cmd}`")
    w("")
    if meta.get("notes"):
        w("## Notes")
        w("")
        for n in meta["notes"]:
            w(f"- {n}")
        w("")
    print("\n".join(out))
    return 0


# --- the 3,000-URL benchmark (issue 9) ------------------------------------------------------

SCALE_CONTESTANTS = [("wget2_64", "`wget2 --max-threads=64`"),
                     ("tf_async64", "thumbfetch async -j 64"),
                     ("tf_threads64", "thumbfetch threads -j 64")]
SCALE_SERVERS = [("http", 0, "http, +0 ms"), ("http", 50, "http, +50 ms"),
                 ("https", 0, "https + HTTP/2, +0 ms")]


def cmd_scale_report(results_path, meta_path):
    """The 3,000-URL report: median wall and CPU per contestant and server, PASS/FAIL lines."""
    with open(meta_path) as f:
        meta = json.load(f)
    with open(results_path) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    cells = {(cid, srv, lat): Cell([r for r in recs if r["id"] == cid and r["server"] == srv
                                    and r["latency"] == lat])
             for cid, _ in SCALE_CONTESTANTS for srv, lat, _ in SCALE_SERVERS}
    out = []
    w = out.append
    w(f"# Downloads at scale (issue 9), {meta['date']}")
    w("")
    w(f"Command: `{meta['command']}` (from the repository root)")
    w("")
    w(f"- machine: {meta['machine']}; load average at start `{meta['load_start']}`, at end "
      f"`{meta['load_end']}` (2 shared cores: compare ratios within this run)")
    w(f"- thumbfetch: `{meta['tf']}` ({meta['tf_note']})")
    w(f"- tools: {meta['versions']}")
    w(f"- files: {meta['corpus']}")
    w(f"- {meta['runs']} runs of every cell, interleaved with the order rotated per run; medians; "
      f"wall = external time of the whole command, CPU = user + system of the command; every run "
      f"checked (exit 0, every file with its served content), a FAILED run is left out")
    w("")
    w("| server | contestant | URLs | runs, wall s | median wall s | img/s | runs, CPU s | median CPU s | CPU ms/img |")
    w("|---|---|---|---|---|---|---|---|---|")
    for srv, lat, label in SCALE_SERVERS:
        for cid, clabel in SCALE_CONTESTANTS:
            c = cells[cid, srv, lat]
            if not c.recs:
                continue
            walls = ", ".join(f"{r['wall']:.2f}" + ("" if r["ok"] else "!") for r in c.recs)
            cpus = ", ".join(f"{r['cpu']:.2f}" for r in c.recs)
            per = "—" if c.cpu is None else f"{1000 * c.cpu / c.n:.2f}"
            w(f"| {label} | {clabel} | {c.n} | {walls} | "
              f"{'—' if c.wall is None else f'{c.wall:.2f}'} | {fmt_rate(c.rate)} | {cpus} | "
              f"{'—' if c.cpu is None else f'{c.cpu:.2f}'} | {per} |")
    write_failures(w, recs)
    w("")
    w("## The issue's targets")
    w("")
    w("```")

    def med(cid, srv, lat, what):
        c = cells[cid, srv, lat]
        return getattr(c, what) if c.valid else None

    def line(a, b, limit, text):
        if a is None or b is None:
            w(f"n/a   {text}: not measured (a cell is missing or FAILED)")
            return
        ratio = a / b
        w(f"{'PASS' if ratio <= limit else 'FAIL'}  {text}: {a:.2f} s / {b:.2f} s = "
          f"{ratio:.2f} (target <= {limit:g})")

    for cid in ("tf_async64", "tf_threads64"):
        name = cid.replace("tf_", "thumbfetch ").replace("64", " -j 64")
        line(med(cid, "http", 0, "wall"), med("wget2_64", "http", 0, "wall"), 1.0,
             f"http +0 ms wall, {name} / wget2")
        line(med(cid, "http", 0, "cpu"), med("wget2_64", "http", 0, "cpu"), 1.0,
             f"http +0 ms CPU, {name} / wget2")
        line(med(cid, "http", 50, "wall"), med("wget2_64", "http", 50, "wall"), 0.9,
             f"http +50 ms wall, {name} / wget2")
        # "at least 1.2x wget2's speed": thumbfetch's time at most 1 / 1.2 of wget2's
        line(med(cid, "https", 0, "wall"), med("wget2_64", "https", 0, "wall"), 1 / 1.2,
             f"https + HTTP/2 wall, {name} / wget2 (1.2x the speed)")
    for srv, lat, label in SCALE_SERVERS:
        line(med("tf_threads64", srv, lat, "cpu"), med("tf_async64", srv, lat, "cpu"), 1.2,
             f"{label} CPU, threads / async")
    w("```")
    print("\n".join(out))
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "freeports":
        return cmd_freeports(*args)
    if cmd == "select":
        return cmd_select(*args)
    if cmd == "urls":
        return cmd_urls(*args)
    if cmd == "tinyurls":
        return cmd_tinyurls(*args)
    if cmd == "queryurls":
        return cmd_queryurls(*args)
    if cmd == "scale-report":
        return cmd_scale_report(*args)
    if cmd == "run":
        return cmd_run(args)
    if cmd == "check":
        return cmd_check(*args)
    if cmd == "report":
        return cmd_report(*args)
    sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main() or 0)
