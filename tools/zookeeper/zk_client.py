#!/usr/bin/env python3
"""A second, independent ZooKeeper client for the tests (kazoo, the client the watch pattern
was first written with): writes or reads a znode the way an operator's script would.

  zk_client.py --hosts H set PATH DATA      (DATA "-": read from stdin)
  zk_client.py --hosts H get PATH           (prints the data; exit 4 when there is no node)
  zk_client.py --hosts H acl PATH           (prints the ACL)
  zk_client.py --hosts H children PATH      (one child a line)
  zk_client.py --hosts H create PATH DATA   (and the folders above it; open to all: world:anyone:cdrwa)
  zk_client.py --hosts H --auth U:P create --private PATH DATA
                                          (PATH held by the --auth identity alone, readable by all: a squatter)
  zk_client.py --hosts H --auth U:P create --private --others-create PATH DATA
                                          (the same, and everyone may add znodes in it)
  zk_client.py --hosts H stat PATH          (prints "mzxid HEX version N")
  [--auth user:password]
Exit 3 with "NoAuth" when ZooKeeper refuses the identity.
"""
import argparse, sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError, NoNodeError
from kazoo.security import ACL, Id, Permissions, READ_ACL_UNSAFE

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--auth")
    ap.add_argument("--private", action="store_true")
    ap.add_argument("--others-create", action="store_true")
    ap.add_argument("op", choices=["set", "get", "acl", "children", "create", "stat"])
    ap.add_argument("path")
    ap.add_argument("data", nargs="?")
    args = ap.parse_args()
    auth = [("digest", args.auth)] if args.auth else None
    zk = KazooClient(hosts=args.hosts, auth_data=auth, timeout=10)
    zk.start(timeout=15)
    try:
        if args.op == "set":
            data = sys.stdin.buffer.read() if args.data == "-" else args.data.encode()
            stat = zk.set(args.path, data)
            print("mzxid %x version %d" % (stat.mzxid, stat.version))
        elif args.op == "create":
            others = [ACL(Permissions.READ | Permissions.CREATE, Id("world", "anyone"))] if args.others_create else READ_ACL_UNSAFE
            acl = [ACL(Permissions.ALL, Id("auth", ""))] + others if args.private else None
            zk.create(args.path, (args.data or "").encode(), acl=acl, makepath=True)
            print("created")
        elif args.op == "stat":
            stat = zk.exists(args.path)
            if stat is None:
                raise NoNodeError()
            print("mzxid %x version %d" % (stat.mzxid, stat.version))
        elif args.op == "get":
            data, _ = zk.get(args.path)
            sys.stdout.write((data or b"").decode())
        elif args.op == "children":
            for child in sorted(zk.get_children(args.path)):
                print(child)
        else:
            acls, _ = zk.get_acls(args.path)
            for acl in acls:
                print(acl.id.scheme, acl.id.id, acl.perms)
    except NoAuthError:
        print("NoAuth")
        sys.exit(3)
    except NoNodeError:
        print("NoNode")
        sys.exit(4)
    finally:
        zk.stop()

if __name__ == "__main__":
    main()
