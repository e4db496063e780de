#!/usr/bin/env python3
"""Boot-time benchmark: ec2-boot-init against cloud-init's EC2 crawler, side by side.

Starts the IMDS simulator (tools/imds-simulator) on 127.0.0.1 with a per-request latency and
the realistic tree, then, in the same run and against the same simulator:
  (a) `ec2-boot-init run` as a whole process (crawl, cache, facts, MOTD), wall time and peak RSS;
  (b) cloud-init's crawler (cloudinit.sources.helpers.ec2, Debian's package, /usr/bin/python3),
      crawl time measured inside its process (interpreter start-up excluded), and its whole process;
  (c) `ec2-boot-init --version`, start-up alone;
  (e) `ec2-boot-init run --seed examples/seed`: a boot without the metadata service;
  (d) the Ruby ec2-boot-init's request pattern (sequential, a connection per request), modelled in
      Python (benchmarks/ruby_pattern_crawl.py), timed inside its process.
Each peer's requests are counted per path from the simulator's counters: a run in which any
path was asked twice (a retry) is reported, since it would measure the harness, not the peer.
Peak RSS is GNU time's (the agent alone, not the Python parent it is spawned from).
Prints medians, the ratios, requests and connections each used, the simulator's own service
time per request, and the targets met or missed.

With --before PATH, an earlier build runs too, in the same alternation, reported beside.

Usage: python3 benchmarks/boot_bench.py [--binary .build/release/ec2-boot-init] [--before PATH] [--runs 15] [--latency-ms 1]
"""
import argparse
import json
import re
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIMULATOR = os.path.join(REPO, "tools", "imds-simulator", "imds_sim.py")
USER_DATA = ":facts:\n  role: webserver\n:write_ec2_facts: true\n"


def start_simulator(latency_ms, interfaces, user_data_path):
    proc = subprocess.Popen([sys.executable, SIMULATOR, "--port", "0", "--latency-ms", str(latency_ms),
                             "--interfaces", str(interfaces), "--user-data", user_data_path],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit("simulator did not start: %r" % line)
    return proc, "http://127.0.0.1:%d" % int(line.split()[1])


def stats(url):
    with urllib.request.urlopen(url + "/_sim/stats") as response:
        return json.load(response)


def timed(argv, env=None, rss_file=None):
    """(wall seconds, peak RSS in KiB or None, stdout, stderr) of one child process. With
    `rss_file`, GNU time runs it: wait4's ru_maxrss of a child of this Python process would
    start at Python's own size (Linux keeps the high-water mark across exec)."""
    if rss_file:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, _ = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("%s failed (%d): %s" % (argv[0], os.waitstatus_to_exitcode(status), err.decode()[-2000:]))
    rss = int(open(rss_file).read().split()[-1]) if rss_file else None
    return wall, rss, out, err.decode()


def repeats(before, after):
    """Paths asked more than once in one run: retries."""
    counts = {p: after["by_path"].get(p, 0) - before["by_path"].get(p, 0) for p in after["by_path"]}
    return {p: n for p, n in counts.items() if n > 1}


def phases(log):
    """Crawl and cache-write milliseconds from ec2-boot-init's 'fetched instance data' line."""
    match = re.search(r"fetched instance data .*?cache_ms=(\d+) .*?ms=(\d+)", log)
    if not match:  # a build from before the line had them
        return None, None
    return int(match.group(2)), int(match.group(1))


def tree_depth(interfaces):
    """Requests that must follow one another: the token, then the deepest listing chain and its leaf."""
    sys.path.insert(0, os.path.dirname(SIMULATOR))
    import imds_sim

    def depth(node):
        if not isinstance(node, dict):
            return 1
        return 1 + max(depth(v) for v in node.values())

    return 1 + depth(imds_sim.realistic_tree(interfaces))


class Agent:
    """One ec2-boot-init build's figures across the runs."""

    def __init__(self, name, binary):
        self.name, self.binary = name, binary
        self.wall, self.rss, self.crawl, self.cache, self.seed, self.seed_rss, self.versions = [], [], [], [], [], [], []
        self.requests = self.connections = None
        self.retried = {}

    def boot(self, work, url, run):
        root = os.path.join(work, "%s-root-%d" % (self.name, run))
        os.makedirs(os.path.join(root, "etc", "ec2-boot-init"))
        with open(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), "w") as f:
            f.write("syslog: false\nlog_level: info\n")
        before = stats(url)
        wall, rss, _, log = timed([self.binary, "run", "--root", root, "--metadata-url", url], rss_file=os.path.join(work, "rss"))
        after = stats(url)
        self.retried.update(repeats(before, after))
        self.wall.append(wall)
        self.rss.append(rss)
        crawl_ms, cache_ms = phases(log)
        if crawl_ms is not None:
            self.crawl.append(crawl_ms / 1000)
            self.cache.append(cache_ms / 1000)
        self.requests = after["requests"] - before["requests"]
        self.connections = after["connections"] - before["connections"]
        # A seed boot: no metadata service, so no libcurl (issue 24) in a build that loads it lazily.
        seed_root = root + "-seed"
        os.makedirs(os.path.join(seed_root, "etc", "ec2-boot-init"))
        shutil.copy(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), os.path.join(seed_root, "etc", "ec2-boot-init"))
        wall, rss, _, _ = timed([self.binary, "run", "--root", seed_root, "--seed", os.path.join(REPO, "examples", "seed")],
                                rss_file=os.path.join(work, "rss"))
        self.seed.append(wall)
        self.seed_rss.append(rss)
        self.versions.append(timed([self.binary, "--version"])[0])


def peer_crawl(argv, url, figures, name):
    """One run of a peer that times its crawl inside its process: (wall seconds, crawl seconds), its counts kept."""
    before = stats(url)
    wall, _, out, _ = timed(argv + [url])
    after = stats(url)
    figures["counts " + name] = (after["requests"] - before["requests"], after["connections"] - before["connections"])
    figures["retried"][name].update(repeats(before, after))
    return wall, json.loads(out)["crawl_s"]


def peers(work, url, cloudinit_python, figures):
    """One run of each peer: cloud-init's crawl and the Ruby tool's pattern, with their counts."""
    wall, crawl = peer_crawl([cloudinit_python, os.path.join(HERE, "cloudinit_crawl.py")], url, figures, "cloud-init")
    figures["cloud-init proc"].append(wall)
    figures["cloud-init"].append(crawl)
    figures["ruby"].append(peer_crawl([sys.executable, os.path.join(HERE, "ruby_pattern_crawl.py")], url, figures, "ruby pattern")[1])


def ms(values):
    return statistics.median(values) * 1000 if values else float("nan")


def report(agents, figures, args, service):
    critical = tree_depth(args.interfaces) * args.latency_ms
    print("roots under %s; IMDS simulator: %.1f ms latency per request, %d network interfaces, %d runs (medians)"
          % (args.root_dir or tempfile.gettempdir(), args.latency_ms, args.interfaces, args.runs))
    print("%-50s %9s %9s %12s %9s" % ("", "ms", "requests", "connections", "peak RSS"))
    for a in agents:
        print("%-50s %9.1f %9d %12d %7.1f MB" % ("(a) %s run (whole process)" % a.name, ms(a.wall), a.requests, a.connections,
                                                   max(a.rss) / 1024))
        print("%-50s %9.1f" % ("    of which the crawl (token, tree, user-data)", ms(a.crawl)))
        print("%-50s %9.1f" % ("    of which the cache write", ms(a.cache)))
        print("%-50s %9.1f %32.1f MB" % ("(e) %s run --seed examples/seed" % a.name, ms(a.seed), max(a.seed_rss) / 1024))
        print("%-50s %9.1f" % ("(c) %s --version" % a.name, ms(a.versions)))
    counts = figures["counts cloud-init"]
    print("%-50s %9.1f %9d %12d" % ("(b) cloud-init EC2 crawl (inside its process)", ms(figures["cloud-init"]), *counts))
    print("%-50s %9.1f" % ("    cloud-init, whole process", ms(figures["cloud-init proc"])))
    print("%-50s %9.1f %9d %12d" % ("(d) Ruby tool's pattern (inside its process)", ms(figures["ruby"]), *figures["counts ruby pattern"]))
    retried = dict(figures["retried"], **{a.name: a.retried for a in agents})
    for peer, paths in retried.items():
        print("retries, %s: %s" % (peer, "none (every path asked once in every run)" if not paths else
                                   "%d paths asked more than once: %s" % (len(paths), sorted(paths.items())[:5])))
    print("simulator: %.3f ms of its own per request (after the latency), %d in flight at most, listen backlog 1024"
          % (1000 * service["service_s"] / max(1, service["served"]), service["max_in_flight"]))
    print("critical path: %d sequential requests x %.1f ms = %.1f ms" % (critical / args.latency_ms, args.latency_ms, critical))
    targets(agents[0], figures, critical)


def targets(a, figures, critical):
    """Issue 24's goals, for the build under test."""
    ratio = ms(figures["cloud-init"]) / ms(a.wall)
    bound = 2 * (critical + ms(a.versions))
    rss_mb = max(a.rss) / 1024
    for name, met, value in [
        ("(a) at least 10x faster than (b)'s crawl", ratio >= 10, "%.1fx" % ratio),
        ("    (against (d), the Ruby tool's pattern)", ms(figures["ruby"]) / ms(a.wall) >= 10, "%.1fx" % (ms(figures["ruby"]) / ms(a.wall))),
        ("(a) within 2x (critical path + start-up)", ms(a.wall) <= bound, "%.1f ms against %.1f ms" % (ms(a.wall), bound)),
        ("peak RSS of a boot at most 15 MB (largest run)", rss_mb <= 15, "%.1f MB" % rss_mb),
        ("--version in at most 3 ms", ms(a.versions) <= 3, "%.1f ms" % ms(a.versions)),
    ]:
        print("%-7s %-48s %s" % ("met" if met else "MISSED", name, value))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "ec2-boot-init"))
    parser.add_argument("--before", default=None, help="an earlier build, run in the same alternation (labelled 'before')")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--interfaces", type=int, default=3)
    parser.add_argument("--cloudinit-python", default="/usr/bin/python3")
    parser.add_argument("--root-dir", default=None, help="where the runs' --root folders go (default: a temp folder; /dev/shm for tmpfs)")
    args = parser.parse_args()
    agents = [Agent("ec2-boot-init", args.binary)] + ([Agent("before", args.before)] if args.before else [])
    for a in agents:
        if not os.access(a.binary, os.X_OK):
            raise SystemExit("no binary at %s: build it with `swift build -c release --static-swift-stdlib`" % a.binary)
    work = tempfile.mkdtemp(prefix="ec2boot-bench-", dir=args.root_dir)
    with open(os.path.join(work, "user-data"), "w") as f:
        f.write(USER_DATA)
    sim, url = start_simulator(args.latency_ms, args.interfaces, os.path.join(work, "user-data"))
    figures = {"cloud-init": [], "cloud-init proc": [], "ruby": [], "retried": {"cloud-init": {}, "ruby pattern": {}}}
    try:
        for run in range(args.runs):
            for a in agents:
                a.boot(work, url, run)
            peers(work, url, args.cloudinit_python, figures)
        service = stats(url)
    finally:
        sim.kill()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)
    report(agents, figures, args, service)


if __name__ == "__main__":
    main()
