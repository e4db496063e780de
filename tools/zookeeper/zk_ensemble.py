#!/usr/bin/env python3
"""Real ZooKeeper servers (Debian's `zookeeper` package) for the tests, from a temp dir on
127.0.0.1: one server, or an ensemble of --servers N. Prints `PORT <first client port>` once
every server answers, and writes DIR/ensemble.json (connect string, each server's client
port and pid) so a test can find the leader (`srvr`) and kill it. Exits, killing the
servers, when --parent dies or on SIGTERM.

  zk_ensemble.py --dir DIR [--servers 3] [--port P] [--parent PID]
"""
import argparse, glob, json, os, signal, socket, subprocess, sys, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def four_letter(port, word, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return out.decode(errors="replace")
                out += chunk
    except OSError:
        return ""

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--servers", type=int, default=1)
    ap.add_argument("--port", type=int, default=0, help="client port of a single server")
    ap.add_argument("--parent", type=int, default=0)
    ap.add_argument("--heap", default="96m")
    args = ap.parse_args()
    n = args.servers
    classpath = ":".join(["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar"] +
                         sorted(glob.glob("/usr/share/java/*.jar")))
    servers = []
    for i in range(1, n + 1):
        servers.append({"id": i, "client_port": args.port if (n == 1 and args.port) else free_port(),
                        "peer_port": free_port(), "election_port": free_port()})
    procs = []
    for s in servers:
        d = os.path.join(args.dir, "zk%d" % s["id"])
        os.makedirs(os.path.join(d, "data"), exist_ok=True)
        lines = ["tickTime=500", "initLimit=20", "syncLimit=10", "dataDir=" + os.path.join(d, "data"),
                 "clientPort=%d" % s["client_port"], "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                 "4lw.commands.whitelist=srvr,ruok", "maxSessionTimeout=60000", "minSessionTimeout=1000",
                 # Every client here comes from 127.0.0.1; the default of 60 per address would cap a
                 # benchmark's fleet of watchers, whose nodes would each have an address of their own.
                 "maxClientCnxns=1000"]
        if n > 1:
            lines += ["server.%d=127.0.0.1:%d:%d" % (o["id"], o["peer_port"], o["election_port"]) for o in servers]
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write("%d\n" % s["id"])
        with open(os.path.join(d, "zoo.cfg"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(d, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=WARN, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n"
                    "log4j.appender.F.File=%s\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\n"
                    "log4j.appender.F.layout.ConversionPattern=%%d %%p %%m%%n\n" % os.path.join(d, "zk.log"))
        log = open(os.path.join(d, "stdout.log"), "w")
        p = subprocess.Popen(["java", "-Xmx" + args.heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                              "-Dzookeeper.log.dir=" + d, "-Dzookeeper.jmx.log4j.disable=true", "-Dlog4j.configuration=file:" + os.path.join(d, "log4j.properties"),
                              "-cp", d + ":" + classpath, "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                              os.path.join(d, "zoo.cfg")], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        s["pid"] = p.pid
        procs.append(p)

    def stop(*_):
        for p in procs:
            try:
                p.kill()
            except OSError:
                pass
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    deadline = time.time() + 90
    while time.time() < deadline:
        modes = [four_letter(s["client_port"], "srvr") for s in servers]
        if all("Mode:" in m for m in modes):
            break
        if any(p.poll() is not None for p in procs):
            print("ERROR a server exited; see %s" % args.dir, flush=True)
            stop()
        time.sleep(0.2)
    else:
        print("ERROR servers did not answer within 90 s", flush=True)
        stop()
    info = {"connect": ",".join("127.0.0.1:%d" % s["client_port"] for s in servers), "servers": servers}
    with open(os.path.join(args.dir, "ensemble.json.tmp"), "w") as f:
        json.dump(info, f)
    os.rename(os.path.join(args.dir, "ensemble.json.tmp"), os.path.join(args.dir, "ensemble.json"))
    print("PORT %d" % servers[0]["client_port"], flush=True)
    while True:
        if args.parent and os.getppid() != args.parent:
            stop()
        time.sleep(0.5)

if __name__ == "__main__":
    main()
