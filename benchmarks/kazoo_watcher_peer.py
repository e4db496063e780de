#!/usr/bin/env python3
"""The peer for benchmarks/watch_bench.py: the documented ZooKeeper pattern this tool's `watch`
replaces, as its users wrote it: a kazoo DataWatch on the node's znode that writes the command
to a file, runs `chef-client -j FILE` through a shell, and writes the znode back to empty (its own
write fires the watch again; an empty value is ignored). No authentication, results or
exactly-once: only the path from a write to chef-client's start, for a side-by-side latency.

  kazoo_watcher_peer.py --hosts H --path /ec2boot/nodes/ID/command
"""
import argparse, os, subprocess, tempfile, threading
from kazoo.client import KazooClient

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--path", required=True)
    args = ap.parse_args()
    zk = KazooClient(hosts=args.hosts)
    zk.start()
    zk.ensure_path(args.path)
    lock = threading.Lock()

    @zk.DataWatch(args.path)
    def changed(data, stat):
        if not data or not data.strip():
            return
        with lock:
            with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
                f.write(data)
            subprocess.call("chef-client -j %s" % f.name, shell=True)
            os.unlink(f.name)
            zk.set(args.path, b"")

    print("READY", flush=True)
    threading.Event().wait()

if __name__ == "__main__":
    main()
