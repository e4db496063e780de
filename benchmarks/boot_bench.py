#!/usr/bin/env python3
"""Boot-time benchmark: ec2-boot-init against cloud-init's EC2 crawler, side by side.

Starts the IMDS simulator (tools/imds-simulator) on 127.0.0.1 with a per-request latency and
the realistic tree, then, in the same run and against the same simulator:
  (a) `ec2-boot-init run` as a whole process (crawl, cache, facts, MOTD), wall time and peak RSS;
  (b) cloud-init's crawler (cloudinit.sources.helpers.ec2, Debian's package, /usr/bin/python3),
      crawl time measured inside its process (interpreter start-up excluded), and its whole process;
  (c) `ec2-boot-init --version`, start-up alone;
  (d) the Ruby ec2-boot-init's request pattern (sequential, a connection per request), modelled in
      Python (benchmarks/ruby_pattern_crawl.py), timed inside its process.
Each peer's requests are counted per path from the simulator's counters: a run in which any
path was asked twice (a retry) is reported, since it would measure the harness, not the peer.
Peak RSS is GNU time's (the agent alone, not the Python parent it is spawned from).
Prints medians, the ratios, requests and connections each used, the simulator's own service
time per request, and the targets met or missed.

Usage: python3 benchmarks/boot_bench.py [--binary .build/release/ec2-boot-init] [--runs 15] [--latency-ms 1]
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "ec2-boot-init"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--interfaces", type=int, default=3)
    parser.add_argument("--cloudinit-python", default="/usr/bin/python3")
    parser.add_argument("--root-dir", default=None, help="where the runs' --root folders go (default: a temp folder; /dev/shm for tmpfs)")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        raise SystemExit("no binary at %s: build it with `swift build -c release --static-swift-stdlib`" % args.binary)

    work = tempfile.mkdtemp(prefix="ec2boot-bench-", dir=args.root_dir)
    user_data = os.path.join(work, "user-data")
    with open(user_data, "w") as f:
        f.write(USER_DATA)
    sim, url = start_simulator(args.latency_ms, args.interfaces, user_data)
    try:
        ours, ours_rss, ours_req, ours_conn, crawl, cache = [], [], None, None, [], []
        theirs_crawl, theirs_proc, theirs_req, theirs_conn = [], [], None, None
        ruby_crawl, ruby_req, ruby_conn = [], None, None
        retried = {"ec2-boot-init": {}, "cloud-init": {}, "ruby pattern": {}}
        for i in range(args.runs):
            root = os.path.join(work, "root-%d" % i)
            os.makedirs(os.path.join(root, "etc", "ec2-boot-init"))
            with open(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), "w") as f:
                f.write("syslog: false\nlog_level: info\n")
            before = stats(url)
            wall, rss, _, log = timed([args.binary, "run", "--root", root, "--metadata-url", url],
                                      rss_file=os.path.join(work, "rss"))
            after = stats(url)
            retried["ec2-boot-init"].update(repeats(before, after))
            ours.append(wall)
            crawl_ms, cache_ms = phases(log)
            if crawl_ms is not None:
                crawl.append(crawl_ms / 1000)
                cache.append(cache_ms / 1000)
            ours_rss.append(rss)
            ours_req = after["requests"] - before["requests"]
            ours_conn = after["connections"] - before["connections"]

            before = stats(url)
            wall, _, out, _ = timed([args.cloudinit_python, os.path.join(HERE, "cloudinit_crawl.py"), url])
            after = stats(url)
            theirs_proc.append(wall)
            theirs_crawl.append(json.loads(out)["crawl_s"])
            theirs_req = after["requests"] - before["requests"]
            theirs_conn = after["connections"] - before["connections"]
            retried["cloud-init"].update(repeats(before, after))

            before = stats(url)
            _, _, out, _ = timed([sys.executable, os.path.join(HERE, "ruby_pattern_crawl.py"), url])
            after = stats(url)
            ruby_crawl.append(json.loads(out)["crawl_s"])
            ruby_req = after["requests"] - before["requests"]
            ruby_conn = after["connections"] - before["connections"]
            retried["ruby pattern"].update(repeats(before, after))
        service = stats(url)
        versions = [timed([args.binary, "--version"])[0] for _ in range(max(20, args.runs))]
    finally:
        sim.kill()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)

    ms = lambda values: statistics.median(values) * 1000 if values else float("nan")  # noqa: E731
    depth = tree_depth(args.interfaces)
    critical = depth * args.latency_ms
    ratio = ms(theirs_crawl) / ms(ours)
    ruby_ratio = ms(ruby_crawl) / ms(ours)
    print("roots under %s" % (args.root_dir or tempfile.gettempdir()))
    rss_mb = max(ours_rss) / 1024
    print("IMDS simulator: %.1f ms latency per request, %d network interfaces, %d runs (medians)"
          % (args.latency_ms, args.interfaces, args.runs))
    print("%-46s %9s %9s %12s" % ("", "ms", "requests", "connections"))
    print("%-46s %9.1f %9d %12d" % ("(a) ec2-boot-init run (whole process)", ms(ours), ours_req, ours_conn))
    print("%-46s %9.1f" % ("    of which the crawl (token, tree, user-data)", ms(crawl)))
    print("%-46s %9.1f" % ("    of which the cache write", ms(cache)))
    print("%-46s %9.1f %9d %12d" % ("(b) cloud-init EC2 crawl (inside its process)", ms(theirs_crawl), theirs_req, theirs_conn))
    print("%-46s %9.1f" % ("    cloud-init, whole process", ms(theirs_proc)))
    print("%-46s %9.1f %9d %12d" % ("(d) Ruby tool's pattern (inside its process)", ms(ruby_crawl), ruby_req, ruby_conn))
    print("%-46s %9.1f" % ("(c) ec2-boot-init --version", ms(versions)))
    for peer, paths in retried.items():
        print("retries, %s: %s" % (peer, "none (every path asked once in every run)" if not paths else
                                   "%d paths asked more than once: %s" % (len(paths), sorted(paths.items())[:5])))
    print("simulator: %.3f ms of its own per request (after the latency), %d in flight at most, listen backlog 1024"
          % (1000 * service["service_s"] / max(1, service["served"]), service["max_in_flight"]))
    print("critical path: %d sequential requests x %.1f ms = %.1f ms" % (depth, args.latency_ms, critical))
    print("peak RSS of ec2-boot-init run: %.1f MB at most, %.1f MB median" % (rss_mb, statistics.median(ours_rss) / 1024))
    targets = [
        ("(a) at least 10x faster than (b)'s crawl", ratio >= 10, "%.1fx" % ratio),
        ("    (against (d), the Ruby tool's pattern)", ruby_ratio >= 10, "%.1fx" % ruby_ratio),
        ("(a) within 3x the critical path", ms(ours) <= 3 * critical, "%.1fx" % (ms(ours) / critical)),
        ("    (its crawl alone within 3x)", ms(crawl) <= 3 * critical, "%.1fx" % (ms(crawl) / critical)),
        ("peak RSS at most 20 MB (the largest run)", rss_mb <= 20, "%.1f MB" % rss_mb),
        ("--version in at most 5 ms", ms(versions) <= 5, "%.1f ms" % ms(versions)),
    ]
    for name, met, value in targets:
        print("%-7s %-44s %s" % ("met" if met else "MISSED", name, value))


if __name__ == "__main__":
    main()
