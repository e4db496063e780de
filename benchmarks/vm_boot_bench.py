#!/usr/bin/env python3
"""Seconds each agent adds to a real first boot: ec2-boot-init against cloud-init, in one run.

Boots the three images of `scripts/vm/build-image.sh DIR --cloud-init` (bare: neither agent;
agent: the .deb; cloud-init: Debian's cloud-init, Ec2 datasource only) in turn, round by round,
each boot a fresh first boot (a new overlay, a new simulator, EC2's DMI, the metadata service
forwarded to the IMDS simulator with the same tree, no user-data). From each guest's report:
the time until the boot is finished (`systemctl is-system-running` leaves `starting`: every job
of both agents done; cloud-init's config and final stages run after multi-user.target, our
actions unit before it, so this is the like-for-like figure), the time to multi-user.target and
to logins (systemd-user-sessions), and the agent's own units from `systemd-analyze blame`.
Every boot's requests are counted per path by the simulator: a path asked twice is reported
(a retry would measure the harness); so are boots that did not end in state "running".

Usage (root; QEMU): python3 benchmarks/vm_boot_bench.py DIR [--boots 5]
"""
import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "vm"))
import scenarios  # noqa: E402  (the VM harness: Simulator, Report, Run)

IMAGES = ["bare", "agent", "cloud-init"]
AGENT_UNITS = {"agent": re.compile(r"ec2-boot-init"), "cloud-init": re.compile(r"cloud-(init|config|final)")}


def blame(report, image):
    pattern = AGENT_UNITS.get(image)
    total, units = 0.0, []
    for line in report.sections.get("blame", []):
        m = re.match(r"\s*(?:(\d+)min )?([\d.]+)(ms|s) (\S+)", line)
        if not m or not pattern or not pattern.search(m.group(4)):
            continue
        seconds = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1) + 60 * int(m.group(1) or 0)
        total += seconds
        units.append("%s %.2fs" % (m.group(4), seconds))
    return total, units


def one_boot(run, image, label):
    report, stats = run.boot_served(run.disk(label, image=image), label, "i-0eeeeeeeeeeeeeee5", None)
    repeated = {p: n for p, n in stats["by_path"].items() if n > 1 and not p.endswith("/api/token")}
    agent_s, units = blame(report, image)
    return {
        "state": report.values.get("state"),
        "finished": int(report.values.get("finished_us", "0")) / 1e6,
        "multi_user": report.unit_us("multi-user.target", "active_us") / 1e6,
        "logins": report.unit_us("systemd-user-sessions.service", "active_us") / 1e6,
        "agent_units": agent_s, "units": units, "requests": stats["requests"], "repeated": repeated,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images")
    parser.add_argument("--boots", type=int, default=5)
    args = parser.parse_args()
    for image in IMAGES:
        if not os.path.exists(os.path.join(args.images, image + ".img")):
            sys.exit("no %s.img in %s: scripts/vm/build-image.sh %s --cloud-init" % (image, args.images, args.images))
    run = scenarios.Run(os.path.abspath(args.images))
    results = {image: [] for image in IMAGES}
    for round_ in range(1, args.boots + 1):
        for image in IMAGES:
            r = one_boot(run, image, "%s-%d" % (image, round_))
            results[image].append(r)
            print("  %-10s boot %d: finished %.1f s, multi-user %.1f s, logins %.1f s, agent units %.1f s, %d requests%s%s"
                  % (image, round_, r["finished"], r["multi_user"], r["logins"], r["agent_units"], r["requests"],
                     "" if r["state"] == "running" else ", state " + str(r["state"]),
                     ", REPEATED %s" % r["repeated"] if r["repeated"] else ""), flush=True)
    median = {image: {k: statistics.median(r[k] for r in rs) for k in ("finished", "multi_user", "logins", "agent_units")}
              for image, rs in results.items()}
    print("\nmedians of %d boots each (guest seconds since the kernel started, TCG):" % args.boots)
    print("  %-10s %9s %11s %7s %12s" % ("image", "finished", "multi-user", "logins", "agent units"))
    for image in IMAGES:
        m = median[image]
        print("  %-10s %9.1f %11.1f %7.1f %12.1f" % (image, m["finished"], m["multi_user"], m["logins"], m["agent_units"]))
    ours = median["agent"]["finished"] - median["bare"]["finished"]
    theirs = median["cloud-init"]["finished"] - median["bare"]["finished"]
    print("\nadded until the boot is finished: ec2-boot-init %.1f s, cloud-init %.1f s (ours is %.0f%% of theirs; goal under 5%%)"
          % (ours, theirs, 100 * ours / theirs if theirs > 0 else float("nan")))
    print("example units: agent %s; cloud-init %s" % (results["agent"][0]["units"], results["cloud-init"][0]["units"]))
    bad = [(i, n) for i, rs in results.items() for n, r in enumerate(rs, 1) if r["repeated"] or r["state"] != "running"]
    print("boots with a repeated path or not 'running': %s (reports in %s)" % (bad or "none", run.work))


if __name__ == "__main__":
    main()
