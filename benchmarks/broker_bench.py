#!/usr/bin/env python3
"""Broker benchmark: one node's registration, and 200 nodes registering at once.

Against Debian's RabbitMQ on 127.0.0.1 (scripts/peers/rabbitmq.sh, started here from a temp
folder), with a vhost and user made by the tool's own rabbitmq action:
  (a) one registration: process start to exit (the last RECEIPT comes just before the DISCONNECT),
      `--runs` times one after another, each from a fresh root;
  (b) a burst: `--burst` processes started together, each its own node; a STOMP subscriber
      (tools/stomp/stomp_sub.py) counts what reached the broker, and the management API's count of
      connections created before and after proves one connection per node (no retries).
For scale, (a) also runs a minimal Python STOMP publisher doing the same CONNECT/SEND/RECEIPT/
DISCONNECT: it has no IMDS, facts or config to read, so it is a floor, not a peer.

Usage: python3 benchmarks/broker_bench.py [--binary .build/release/ec2-boot-init] [--runs 20] [--burst 200]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ADMIN = ("fixture-admin", "fixture-Pass-0")

PUBLISHER = r'''
import socket, sys, time
port, vhost = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
def send(f): s.sendall(f.encode() + b"\0")
def read_frame(buf=[b""]):
    while b"\0" not in buf[0]:
        buf[0] += s.recv(65536)
    f, _, buf[0] = buf[0].partition(b"\0")
    return f.lstrip(b"\r\n").split(b"\n", 1)[0]
send("CONNECT\naccept-version:1.2\nhost:%s\nlogin:bench\npasscode:bench-Pass-1\n\n" % vhost)
assert read_frame() == b"CONNECTED"
body = '{"identity":"python"}'
send("SEND\ndestination:/exchange/mcollective_broadcast/registration\nreceipt:1\ncontent-type:application/json\ncontent-length:%d\n\n%s" % (len(body), body))
assert read_frame() == b"RECEIPT"
send("DISCONNECT\nreceipt:2\n\n")
assert read_frame() == b"RECEIPT"
'''


def accepted(work):
    """STOMP connections the broker has accepted so far, from its own log."""
    logs = os.path.join(work, "rabbit", "log")
    return sum(open(os.path.join(logs, f), errors="replace").read().count("accepting STOMP connection")
               for f in os.listdir(logs) if f.endswith(".log") and "@" in f)


def node_root(base, name, stomp, identity):
    root = os.path.join(base, name)
    os.makedirs(root + "/seed")
    os.makedirs(root + "/etc/ec2-boot-init")
    open(root + "/etc/ec2-boot-init/config.yaml", "w").write("syslog: false\n")
    open(root + "/seed/meta-data.json", "w").write(json.dumps({"instance-id": "i-" + name, "ami-id": "ami-1"}))
    open(root + "/seed/user-data", "w").write(
        "actions:\n  - type: mcollective_register\n    connector: rabbitmq\n    host: 127.0.0.1\n    port: %d\n"
        "    user: bench\n    password: bench-Pass-1\n    vhost: /bench\n    identity: %s\n    psk: bench-psk\n" % (stomp, identity))
    return root


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(REPO, ".build/release/ec2-boot-init"))
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--burst", type=int, default=200)
    a = p.parse_args()
    binary = os.path.abspath(a.binary)
    work = tempfile.mkdtemp(prefix="broker-bench-")
    try:
        out = subprocess.run(["bash", os.path.join(REPO, "scripts/peers/rabbitmq.sh"), work + "/rabbit", str(os.getpid())],
                             capture_output=True, text=True, check=True)
        stomp, _, mgmt = map(int, out.stdout.split())
        print(out.stderr.strip())
        host = os.path.join(work, "host")
        os.makedirs(host + "/seed"); os.makedirs(host + "/etc/ec2-boot-init")
        open(host + "/etc/ec2-boot-init/config.yaml", "w").write("syslog: false\n")
        open(host + "/seed/meta-data.json", "w").write('{"instance-id": "i-host"}')
        open(host + "/seed/user-data", "w").write(
            "actions:\n  - type: rabbitmq\n    install: false\n    service: false\n    management_url: http://127.0.0.1:%d\n"
            "    admin: {user: %s, password: %s}\n    vhost: /bench\n    users: [{name: bench, password: bench-Pass-1}]\n"
            "    delete_guest: false\n" % (mgmt, ADMIN[0], ADMIN[1]))
        subprocess.run([binary, "run", "--root", host, "--seed", host + "/seed"], check=True, capture_output=True)

        # (a) one registration at a time
        times, floor = [], []
        for i in range(a.runs):
            root = node_root(work, "one%d" % i, stomp, "one%d" % i)
            start = time.perf_counter()
            r = subprocess.run([binary, "run", "--root", root, "--seed", root + "/seed"], capture_output=True, text=True)
            times.append((time.perf_counter() - start) * 1000)
            if r.returncode != 0:
                sys.exit("registration failed: " + r.stderr)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", PUBLISHER, str(stomp), "/bench"], check=True)
            floor.append((time.perf_counter() - start) * 1000)
        times.sort(); floor.sort()
        print("one registration, %d runs: median %.1f ms, p90 %.1f ms, min %.1f ms (process start to exit)"
              % (a.runs, statistics.median(times), times[int(len(times) * 0.9) - 1], times[0]))
        print("  floor, a bare Python STOMP publisher: median %.1f ms" % statistics.median(floor))

        # (b) the burst
        roots = [node_root(work, "n%d" % i, stomp, "node%d" % i) for i in range(a.burst)]
        sub = subprocess.Popen([sys.executable, os.path.join(REPO, "tools/stomp/stomp_sub.py"), "--port", str(stomp), "--vhost", "/bench",
                                "--login", "bench", "--passcode", "bench-Pass-1", "--destination",
                                "/exchange/mcollective_broadcast/registration", "--count", str(a.burst), "--seconds", "120"],
                               stdout=subprocess.PIPE, text=True)
        assert sub.stdout.readline().strip() == "READY"
        time.sleep(1)  # the broker's log is written asynchronously
        before = accepted(work)
        start = time.perf_counter()
        procs = [(subprocess.Popen([binary, "run", "--root", r, "--seed", r + "/seed"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True), time.perf_counter()) for r in roots]
        spawned = time.perf_counter() - start
        ends, failed = [], 0
        for proc, began in procs:
            proc.wait()
            ends.append(time.perf_counter() - began)
            failed += proc.returncode != 0
        total = time.perf_counter() - start
        received = [json.loads(line) for line in sub.stdout if line.startswith("{")]
        sub.wait()
        time.sleep(1)  # the broker's log is written asynchronously
        after = accepted(work)
        identities = {json.loads(m["body"])["identity"] for m in received}
        print("burst of %d: %d failed, %d registrations received (%d distinct nodes), %d STOMP connections accepted by the broker"
              % (a.burst, failed, len(received), len(identities), after - before))
        print("  all %d started in %.2f s; all done in %.2f s; slowest node %.2f s start to exit, median %.2f s"
              % (a.burst, spawned, total, max(ends), statistics.median(ends)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
