#!/usr/bin/env python3
"""Boot storm: a whole Auto Scaling group boots at once and fetches its action list from one server.

N simulated nodes (real `ec2-boot-init run` processes, each its own root and instance-id, at
most --parallel running at a time on this machine) fetch a list of --files files from the IMDS
simulator's file server on 127.0.0.1, which answers 503 with Retry-After past --limit requests at
once. Then the same nodes run again (`run --force`): the re-run storm, where every file is
asked for conditionally.

Reported from the server's own counters: requests per node against the goal (at most 1.1 x
the files per node, plus the retries the server asked for), 503s, the server's peak
concurrency, the time until the last node finished, and bytes of body per node in each storm.
Every node must exit 0 with every file installed, or the run says so.

Usage: python3 benchmarks/storm_bench.py [--nodes 1000] [--parallel 100] [--files 20] [--limit 64]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIMULATOR = os.path.join(REPO, "tools", "imds-simulator", "imds_sim.py")


def stats(url):
    with urllib.request.urlopen(url + "/_sim/stats") as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "ec2-boot-init"))
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=100, help="node processes running at once")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--file-bytes", type=int, default=4096)
    parser.add_argument("--limit", type=int, default=64, help="the server answers 503 past this many at once")
    parser.add_argument("--retry-after", default="1")
    parser.add_argument("--latency-ms", type=float, default=1.0)
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        raise SystemExit("no binary at %s: build it with `swift build -c release --static-swift-stdlib`" % args.binary)

    work = tempfile.mkdtemp(prefix="ec2boot-storm-")
    served = os.path.join(work, "served")
    os.makedirs(served)
    names = ["action-%02d.sh" % n for n in range(args.files)]
    for n, name in enumerate(names):
        with open(os.path.join(served, name), "w") as f:
            f.write("#!/bin/sh\n# %d\n" % n + "#" * (args.file_bytes - 16) + "\n")
    with open(os.path.join(served, "list.txt"), "w") as f:
        f.write("".join(name + "\n" for name in names))
    sim = subprocess.Popen([sys.executable, SIMULATOR, "--port", "0", "--serve", served, "--latency-ms", str(args.latency_ms),
                            "--busy-above", str(args.limit), "--retry-after", args.retry_after],
                           stdout=subprocess.PIPE, text=True)
    line = sim.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit("simulator did not start: %r" % line)
    url = "http://127.0.0.1:%d" % int(line.split()[1])

    roots = []
    for n in range(args.nodes):
        root = os.path.join(work, "node-%04d" % n)
        os.makedirs(os.path.join(root, "etc", "ec2-boot-init"))
        os.makedirs(os.path.join(root, "seed"))
        with open(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), "w") as f:
            f.write("syslog: false\nlock_timeout: 5\n")
        with open(os.path.join(root, "seed", "meta-data.json"), "w") as f:
            json.dump({"ami-id": "ami-storm", "instance-id": "i-%017x" % n}, f)
        with open(os.path.join(root, "seed", "user-data"), "w") as f:
            f.write("actions:\n  - type: getactions\n    url: %s/files/\n    list: list.txt\n    deadline: 600\n" % url)
        roots.append(root)

    def boot(root, extra):
        start = time.perf_counter()
        proc = subprocess.run([args.binary, "run"] + extra + ["--root", root, "--seed", os.path.join(root, "seed")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        installed = sum(os.path.exists(os.path.join(root, "etc", "ec2-boot-init", "actions", name)) for name in names)
        return proc.returncode, time.perf_counter() - start, installed, proc.stderr.decode()[-400:]

    def storm(label, extra):
        before = stats(url)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            results = list(pool.map(lambda r: boot(r, extra), roots))
        wall = time.perf_counter() - start
        after = stats(url)
        file_requests = sum(v - before["by_path"].get(p, 0) for p, v in after["by_path"].items() if p.startswith("/files/"))
        busy = after["files_503"] - before["files_503"]
        failed = [r for r in results if r[0] != 0 or r[2] != args.files]
        per_node = file_requests / args.nodes
        goal = 1.1 * (args.files + 1) + busy / args.nodes
        durations = sorted(r[1] for r in results)
        print("%s: %d nodes, %d at a time, %d files each (+ the list), server limit %d, Retry-After %s"
              % (label, args.nodes, args.parallel, args.files, args.limit, args.retry_after))
        print("  failed nodes: %d%s" % (len(failed), (" e.g. " + repr(failed[0])) if failed else ""))
        print("  requests per node: %.2f (200: %d, 304: %d, 503: %d in all); goal at most %.2f (1.1 x %d + %.2f retries asked for): %s"
              % (per_node, after["files_200"] - before["files_200"], after["files_304"] - before["files_304"], busy,
                 goal, args.files + 1, busy / args.nodes, "met" if per_node <= goal else "MISSED"))
        print("  server peak concurrency (requests being served): %d" % after["files_max_in_flight"])
        print("  body bytes per node: %.0f" % ((after["file_bytes"] - before["file_bytes"]) / args.nodes))
        print("  until the last node finished: %.2f s; a node's run: median %.3f s, max %.3f s"
              % (wall, durations[len(durations) // 2], durations[-1]))
        print("  simulator: %.3f ms of its own per request" % (1000 * (after["service_s"] - before["service_s"])
                                                              / max(1, after["served"] - before["served"])))

    try:
        storm("first boot storm", [])
        storm("re-run storm (run --force: conditional GETs)", ["--force"])
    finally:
        sim.kill()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
