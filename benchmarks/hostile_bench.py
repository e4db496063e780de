#!/usr/bin/env python3
"""What hostile input costs: time to refuse and peak memory for each hostile case, and memory for
large valid user-data.

Runs the release binary (GNU time measures each process's peak RSS) against the IMDS simulator's
hostile modes, with no cache (so a refusal ends the run), and against seed folders holding
user-data of several sizes and shapes. Prints one line per case: exit code, seconds, peak MiB.

Usage: python3 benchmarks/hostile_bench.py [--binary .build/release/ec2-boot-init]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIMULATOR = os.path.join(REPO, "tools", "imds-simulator", "imds_sim.py")


def simulator(args):
    proc = subprocess.Popen([sys.executable, SIMULATOR, "--port", "0"] + args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, "http://127.0.0.1:%d" % int(line.split()[1])


def measure(binary, args, config=""):
    root = tempfile.mkdtemp(prefix="hostile-bench-")
    os.makedirs(root + "/etc/ec2-boot-init")
    with open(root + "/etc/ec2-boot-init/config.yaml", "w") as f:
        f.write("syslog: false\n" + config)
    rss = root + "/rss"
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss, binary] + args + ["--root", root],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    peak = int(open(rss).read().split()[-1]) / 1024
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return done.returncode, seconds, peak, last, root


def user_data(shape, size):
    if shape == "facts":
        lines, total, n = ["facts:"], 7, 0
        while total < size:
            line = "  k%d: value-%d" % (n, n)
            lines.append(line)
            total += len(line) + 1
            n += 1
        return "\n".join(lines) + "\n"
    body = "    echo " + "x" * 70
    count = max(1, (size - 40) // (len(body) + 1))
    return "actions:\n- type: shell\n  command: |\n" + "\n".join([body] * count) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, ".build/release/ec2-boot-init"))
    args = parser.parse_args()
    evil = tempfile.NamedTemporaryFile("w", delete=False, suffix=".sh")
    evil.write("#!/bin/sh\ntouch /tmp/evil-ran\n")
    evil.close()

    print("== hostile servers (no cache: a refusal ends the run with exit 3) ==")
    cases = [
        ("metadata leaf redirects to another host", ["--other-host", evil.name, "--redirect", "meta-data/ami-id$", "{other}{path}"], ""),
        ("IMDSv2 token with CR/LF (falls back to v1)", ["--token-value", r"tok\r\nX-Injected: yes"], ""),
        ("endless metadata leaf (cap 1 MiB)", ["--endless", "meta-data/ami-id$"], ""),
        ("endless user-data (cap 32 MiB)", ["--endless", "user-data$"], ""),
        ("listing that nests forever (depth 16)", ["--deep"], ""),
        ("listing of 200,000 leaves (listing cap 1 MiB)", ["--wide", "200000"], ""),
        ("listing of 12,000 leaves (leaf bound 10,000)", ["--wide", "12000"], ""),
        ("leaf trickling 1 byte/s (imds.deadline 5 s)", ["--trickle", "meta-data/ami-id$"], "imds:\n  deadline: 5\n  request_timeout: 30\n"),
    ]
    for name, sim_args, config in cases:
        proc, url = simulator(sim_args)
        try:
            code, seconds, peak, last, _ = measure(args.binary, ["run", "--metadata-url", url], config)
        finally:
            proc.kill()
        print("%-50s exit %d  %6.2f s  %5.1f MiB  | %s" % (name, code, seconds, peak, last[-110:]))

    print("== user-data through a seed folder ==")
    seed = tempfile.mkdtemp(prefix="hostile-bench-seed-")
    open(seed + "/meta-data.json", "w").write('{"ami-id": "ami-1", "instance-id": "i-1"}')
    lines = ["a0: &a0 [lol]"] + ["a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)) for i in range(1, 10)]
    inputs = [("billion laughs, 330 bytes, 10^9 nodes", "\n".join(lines) + "\n", "")]
    for shape in ("block", "facts"):
        for size, label in ((16 << 10, "16 KiB"), (10 << 20, "10 MiB")):
            config = "user_data:\n  max_nodes: 10000000\n" if shape == "facts" else ""
            what = "a %s shell script" % label if shape == "block" else "%s of facts (%s)" % (label, "max_nodes raised" if config else "")
            inputs.append((what, user_data(shape, size), config))
    inputs.append(("40 MiB plain (cap 32 MiB)", user_data("block", 40 << 20), ""))
    for name, text, config in inputs:
        open(seed + "/user-data", "w").write(text)
        code, seconds, peak, last, _ = measure(args.binary, ["run", "--no-actions", "--seed", seed], config)
        print("%-50s exit %d  %6.2f s  %5.1f MiB  | %s" % (name, code, seconds, peak, last[-110:]))


if __name__ == "__main__":
    main()
