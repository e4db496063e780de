#!/usr/bin/env python3
"""`ec2-boot-init watch` on a real ZooKeeper (Debian's, one server on 127.0.0.1, from a temp dir):

1. idle watcher: peak RSS (VmHWM) and CPU seconds over --idle seconds (goal: at most 15 MB, and no
   polling: it sleeps on its socket);
2. command written -> action started: --pushes commands written by kazoo, one after another, each
   timed from just before the write to the moment the recording chef-client stand-in starts (its
   own clock reading, `date +%s.%N`); median and p99 (goal: median under 100 ms), side by side
   with the documented pattern's kazoo watcher (benchmarks/kazoo_watcher_peer.py), the same
   stand-in, the same server;
3. group push: --group watcher processes in one group, `ec2-boot-init push --group` timed until
   it has every result.

Commands to our watcher are signed as the shipped default requires (a signify key made for the run;
each command signed before its clock starts, so the figure includes the node's verification); the
peer, which checks nothing, gets the same signed bytes.

Usage: python3 benchmarks/watch_bench.py [--binary .build-static/release/ec2-boot-init] [--pushes 50] [--idle 60] [--group 20]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tools", "zookeeper"))
from kazoo.client import KazooClient  # noqa: E402

PUBLIC = [""]  # the operator's public key line, set in main

STUB = """#!/bin/sh
echo "$(date +%s.%N) $( (cat "$4" 2>/dev/null || cat "$2") | tr '\n' ' ')" >> {root}/starts
"""

def proc_stats(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return cpu, hwm, rss

def make_key(work):
    """An operator key pair from signify-openbsd; returns (secret file, public key line)."""
    pub, sec = os.path.join(work, "op.pub"), os.path.join(work, "op.sec")
    subprocess.run(["signify-openbsd", "-G", "-n", "-p", pub, "-s", sec], check=True)
    with open(pub) as f:
        return sec, f.read().splitlines()[1]

def sign(secret, target, command):
    """The command in signify's embedded form, signed for target, as docs/watch.md's shell example makes it."""
    issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    with tempfile.TemporaryDirectory() as d:
        message = os.path.join(d, "cmd")
        with open(message, "w") as f:
            f.write("target: %s\nissued: %s\nexpires: %s\nid: bench-%s\n\n%s" % (target, issued, expires, os.urandom(8).hex(), command))
        subprocess.run(["signify-openbsd", "-S", "-e", "-s", secret, "-m", message, "-x", message + ".signed"], check=True)
        with open(message + ".signed", "rb") as f:
            return f.read()

def node_root(work, binary, name, hosts, watch_extra=""):
    root = os.path.join(work, name)
    os.makedirs(os.path.join(root, "seed"))
    os.makedirs(os.path.join(root, "etc", "ec2-boot-init"))
    os.makedirs(os.path.join(root, "etc", "chef"))
    os.makedirs(os.path.join(root, "bin"))
    with open(os.path.join(root, "seed", "meta-data.json"), "w") as f:
        json.dump({"instance-id": name, "ami-id": "ami-1"}, f)
    with open(os.path.join(root, "seed", "user-data"), "w") as f:
        f.write("facts:\n  role: bench\n")
    with open(os.path.join(root, "etc", "ec2-boot-init", "config.yaml"), "w") as f:
        f.write("syslog: false\nwatch:\n  zookeeper: \"%s\"\n  public_keys: [\"%s\"]\n%s" % (hosts, PUBLIC[0], watch_extra))
    with open(os.path.join(root, "etc", "chef", "client.rb"), "w") as f:
        f.write('chef_server_url "https://chef.example.com"\n')
    stub = os.path.join(root, "bin", "chef-client")
    with open(stub, "w") as f:
        f.write(STUB.format(root=root))
    os.chmod(stub, 0o755)
    subprocess.run([binary, "run", "--root", root, "--seed", os.path.join(root, "seed")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return root

def env_with(root):
    env = dict(os.environ)
    env["PATH"] = os.path.join(root, "bin") + ":" + env["PATH"]
    return env

def wait_for(check, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        if check():
            return True
        time.sleep(0.001)
    return False

def starts(root):
    try:
        with open(os.path.join(root, "starts")) as f:
            return [line.split(" ", 1) for line in f.read().splitlines()]
    except FileNotFoundError:
        return []

def latencies(zk, path, root, pushes, label, secret):
    out = []
    for i in range(pushes):
        data = sign(secret, path.rsplit("/", 1)[0], json.dumps({"run_list": ["recipe[bench_%d]" % i]}))
        t0 = time.time()
        zk.set(path, data)
        if not wait_for(lambda: len(starts(root)) > i, 30):
            raise SystemExit("%s: push %d never started" % (label, i))
        out.append((float(starts(root)[i][0]) - t0) * 1000)
        if not wait_for(lambda: zk.get(path)[0] in (b"", None), 30):
            raise SystemExit("%s: push %d never cleared" % (label, i))
    runs = starts(root)
    assert len(runs) == pushes, "%s ran %d commands for %d pushes" % (label, len(runs), pushes)
    return out

def summary(values):
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
    return "median %.1f ms, p99 %.1f ms, min %.1f ms, max %.1f ms" % (statistics.median(values), p99, values[0], values[-1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, ".build-static", "release", "ec2-boot-init"))
    ap.add_argument("--pushes", type=int, default=50)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--group", type=int, nargs="+", default=[20])
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="ec2boot-watch-bench-")
    secret, PUBLIC[0] = make_key(work)
    zkp = subprocess.Popen([sys.executable, os.path.join(REPO, "tools", "zookeeper", "zk_ensemble.py"), "--dir",
                            os.path.join(work, "zk"), "--parent", str(os.getpid())], stdout=subprocess.PIPE, text=True)
    port = int(zkp.stdout.readline().split()[1])
    hosts = "127.0.0.1:%d" % port
    zk = KazooClient(hosts=hosts)
    zk.start()
    procs = [zkp]
    try:
        print("binary: %s; ZooKeeper: %s" % (binary, hosts))
        # 1. idle
        root = node_root(work, binary, "i-bench", hosts)
        log = open(os.path.join(root, "watch.log"), "w")
        watcher = subprocess.Popen([binary, "watch", "--root", root], env=env_with(root), stdout=log, stderr=log)
        procs.append(watcher)
        wait_for(lambda: zk.exists("/ec2boot/nodes/i-bench/alive") is not None, 30)
        time.sleep(1)
        cpu0, _, _ = proc_stats(watcher.pid)
        time.sleep(args.idle)
        cpu1, hwm, rss = proc_stats(watcher.pid)
        print("idle watcher over %d s: CPU %.3f s, VmRSS %.1f MB, peak RSS (VmHWM) %.1f MB"
              % (args.idle, cpu1 - cpu0, rss / 1024, hwm / 1024))
        # 2. latency, ours then the peer's, the same stand-in
        ours = latencies(zk, "/ec2boot/nodes/i-bench/command", root, args.pushes, "watch", secret)
        _, hwm_after, _ = proc_stats(watcher.pid)
        print("ec2-boot-init watch, write -> chef-client start, %d pushes: %s (peak RSS after them %.1f MB)"
              % (args.pushes, summary(ours), hwm_after / 1024))
        watcher.terminate()
        watcher.wait()
        peer_root = os.path.join(work, "peer")
        os.makedirs(os.path.join(peer_root, "bin"))
        stub = os.path.join(peer_root, "bin", "chef-client")
        with open(stub, "w") as f:
            f.write(STUB.format(root=peer_root))
        os.chmod(stub, 0o755)
        peer = subprocess.Popen([sys.executable, os.path.join(HERE, "kazoo_watcher_peer.py"), "--hosts", hosts, "--path",
                                 "/ec2boot/peer/command"], env=env_with(peer_root), stdout=subprocess.PIPE, text=True)
        procs.append(peer)
        peer.stdout.readline()
        theirs = latencies(zk, "/ec2boot/peer/command", peer_root, args.pushes, "peer", secret)
        _, peer_hwm, _ = proc_stats(peer.pid)
        print("kazoo DataWatch peer (the documented pattern), same stand-in: %s (peak RSS %.1f MB)" % (summary(theirs), peer_hwm / 1024))
        peer.terminate()
        # 3. group pushes
        for size in args.group:
            group = "/ec2boot/groups/bench%d" % size
            members = []
            for n in range(size):
                r = node_root(work, binary, "i-g%d-%03d" % (size, n), hosts, "  groups: [%s]\n" % group)
                lf = open(os.path.join(r, "watch.log"), "w")
                p = subprocess.Popen([binary, "watch", "--root", r], env=env_with(r), stdout=lf, stderr=lf)
                procs.append(p)
                members.append((r, p))
            wait_for(lambda: zk.exists(group + "/members") and len(zk.get_children(group + "/members")) == size, 120)
            t0 = time.time()
            push = subprocess.run([binary, "push", "--zookeeper", hosts, "--group", group, "--run-list", "recipe[fleet]",
                                   "--wait", "300", "--sign-key", secret], capture_output=True, text=True)
            elapsed = time.time() - t0
            ran = sum(len(starts(r)) for r, _ in members)
            print("group push to %d watchers: %.2f s until push had every result (exit %d, %s; chef-client runs: %d)"
                  % (size, elapsed, push.returncode, push.stdout.strip().splitlines()[-1] if push.stdout else push.stderr.strip(), ran))
            for _, p in members:
                p.terminate()
                p.wait()
    finally:
        zk.stop()
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
