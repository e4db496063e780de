#!/usr/bin/env python3
"""Actions benchmark: getactions against the Ruby tool's shape, and the cost of one action.

In one run, against the IMDS simulator's file server on 127.0.0.1 with 1 ms latency per request:
  (a) ec2-boot-init's getactions fetching a 20-file list (concurrent, kept-alive, sha256-pinned),
      timed by the action's own duration in status.json;
  (b) the Ruby tool's getactions shape in real `ruby`: the list, then each file one at a time,
      a new Net::HTTP connection per request (as EC2Boot::Util.get_url did), timed inside Ruby;
  (c) the overhead of one action: 20 hosted no-op scripts, spawn to exit, from status.json.

Usage: python3 benchmarks/actions_bench.py [--binary .build/release/ec2-boot-init] [--runs 10]
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SIMULATOR = os.path.join(REPO, "tools", "imds-simulator", "imds_sim.py")

RUBY_SHAPE = r'''
require "net/http"
require "uri"
base, dir = ARGV
def get_url(url)
  uri = URI.parse(url)
  Net::HTTP.new(uri.host, uri.port).start { |http| http.request(Net::HTTP::Get.new(uri.path)).body }
end
start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
get_url("#{base}/list.txt").split("\n").each do |line|
  name = line.split.first
  File.open(File.join(dir, name), "w") { |f| f.print get_url("#{base}/#{name}") }
end
puts Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
'''


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "ec2-boot-init"))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--files", type=int, default=20)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="ec2boot-actions-bench-")
    served = os.path.join(work, "served")
    os.makedirs(served)
    lines = []
    for i in range(args.files):
        body = ("#!/bin/sh\n# action %d\n" % i + "echo padding\n" * 40).encode()
        name = "action%02d.sh" % i
        with open(os.path.join(served, name), "wb") as f:
            f.write(body)
        lines.append("%s %s" % (name, hashlib.sha256(body).hexdigest()))
    with open(os.path.join(served, "list.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    sim = subprocess.Popen([sys.executable, SIMULATOR, "--port", "0", "--latency-ms", "1", "--serve", served],
                           stdout=subprocess.PIPE, text=True)
    url = "http://127.0.0.1:%d/files" % int(sim.stdout.readline().split()[1])
    ours, theirs, per_action = [], [], []
    try:
        for run in range(args.runs):
            root = os.path.join(work, "root-%d" % run)
            os.makedirs(os.path.join(root, "seed"))
            os.makedirs(os.path.join(root, "etc", "ec2-boot-init", "actions"))
            with open(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), "w") as f:
                f.write("syslog: false\nlog_level: warning\n")
            with open(os.path.join(root, "seed", "meta-data.json"), "w") as f:
                json.dump({"instance-id": "i-bench"}, f)
            noop = os.path.join(root, "etc", "ec2-boot-init", "actions", "noop")
            with open(noop, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(noop, 0o755)
            actions = ["- {type: getactions, url: \"%s/\", list: list.txt}" % url] + ["- {type: noop}"] * 20
            with open(os.path.join(root, "seed", "user-data"), "w") as f:
                f.write("actions:\n" + "\n".join(actions) + "\n")
            subprocess.run([args.binary, "run", "--root", root, "--seed", os.path.join(root, "seed")], check=True)
            with open(os.path.join(root, "var", "lib", "ec2-boot-init", "status.json")) as f:
                status = json.load(f)
            assert all(a["result"] == "ok" for a in status["actions"]), status
            ours.append(status["actions"][0]["duration_ms"])
            per_action.extend(a["duration_ms"] for a in status["actions"][1:])

            target = os.path.join(work, "ruby-%d" % run)
            os.makedirs(target)
            out = subprocess.run(["ruby", "-e", RUBY_SHAPE, url, target], check=True, capture_output=True, text=True)
            theirs.append(float(out.stdout) * 1000)
    finally:
        sim.kill()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)
    print("%d-file action list, 1 ms latency per request, %d runs (medians)" % (args.files, args.runs))
    print("(a) ec2-boot-init getactions (concurrent, pinned)   %7.1f ms" % statistics.median(ours))
    print("(b) Ruby tool's shape (one at a time, a connection each) %5.1f ms" % statistics.median(theirs))
    print("    ratio                                           %7.1fx" % (statistics.median(theirs) / statistics.median(ours)))
    print("(c) one hosted no-op action, spawn to exit          %7.1f ms (median of %d)" % (statistics.median(per_action), len(per_action)))


if __name__ == "__main__":
    main()
