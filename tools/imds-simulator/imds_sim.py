#!/usr/bin/env python3
"""An EC2 instance metadata service (IMDS) simulator, for ec2-boot-init's tests and benchmark.

Listens on 127.0.0.1 only. Serves a realistic metadata tree (shaped after AWS's documentation),
IMDSv2 tokens, user-data and the identity document, and injects faults on request: latency,
5xx, dropped connections, truncated bodies, hangs, a token endpoint that is missing or silent,
a v2-only mode, hostile names in listings. /_sim/stats reports what clients did.
Files under --serve DIR are served at /files/<name> (for `ec2-boot-init fetch`).

Hostile modes, for the tests of the client's bounds: redirects (to a second listener on
127.0.0.2, "another host", that records what it is sent), endless chunked bodies, a
one-byte-a-second trickle, a folder that nests forever, a folder with N leaves, a token
with any value (CR/LF included).
"""
import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from email.utils import formatdate
from urllib.parse import unquote

AMI = "ami-0abcdef1234567890"
INSTANCE = "i-0123456789abcdef0"


def realistic_tree(interfaces=3, hostile=False):
    """The meta-data tree as nested dicts; a leaf is a str."""
    macs = {}
    for n in range(interfaces):
        mac = "0e:49:61:0f:c3:%02x" % (0x11 + n)
        ip = "172.31.%d.%d" % (16 + n, 20 + n)
        public = "54.154.%d.%d" % (1 + n, 20 + n)
        macs[mac] = {
            "device-number": str(n),
            "interface-id": "eni-0%015x" % (0xabc + n),
            "ipv4-associations": {public: ip},
            "local-hostname": "ip-%s.eu-west-1.compute.internal" % ip.replace(".", "-"),
            "local-ipv4s": ip + ("\n172.31.%d.%d" % (16 + n, 200 + n) if n == 0 else ""),
            "mac": mac,
            "network-card-index": "0",
            "owner-id": "123456789012",
            "public-hostname": "ec2-%s.eu-west-1.compute.amazonaws.com" % public.replace(".", "-"),
            "public-ipv4s": public,
            "security-group-ids": "sg-0123456789abcdef0\nsg-0fedcba9876543210",
            "security-groups": "web\nssh",
            "subnet-id": "subnet-0%016x" % (0x5 + n),
            "subnet-ipv4-cidr-block": "172.31.%d.0/20" % (16 * (n + 1)),
            "vpc-id": "vpc-0123456789abcdef0",
            "vpc-ipv4-cidr-block": "172.31.0.0/16",
            "vpc-ipv4-cidr-blocks": "172.31.0.0/16",
        }
    first = next(iter(macs))
    tree = {
        "ami-id": AMI,
        "ami-launch-index": "0",
        "ami-manifest-path": "(unknown)",
        "block-device-mapping": {"ami": "/dev/xvda", "ebs0": "sdb", "ephemeral0": "sdc", "root": "/dev/xvda"},
        "events": {
            "maintenance": {
                "history": "[]",
                "scheduled": json.dumps([{
                    "NotBefore": "21 Jan 2027 09:00:43 GMT", "Code": "system-reboot",
                    "Description": "scheduled reboot", "EventId": "instance-event-0d59937288b749b32",
                    "NotAfter": "21 Jan 2027 09:17:23 GMT", "State": "active"}]),
            },
        },
        "hostname": "ip-172-31-16-20.eu-west-1.compute.internal",
        "iam": {
            "info": json.dumps({"Code": "Success", "LastUpdated": "2026-11-22T08:00:00Z",
                                "InstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/web",
                                "InstanceProfileId": "AIPAEXAMPLEPROFILEID"}),
            "security-credentials": {"web-role": json.dumps({
                "Code": "Success", "LastUpdated": "2026-11-22T08:00:00Z", "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAEXAMPLEKEYID", "SecretAccessKey": "SIMULATED-SECRET-ACCESS-KEY",
                "Token": "SIMULATED-SESSION-TOKEN",
                "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600))})},
        },
        "identity-credentials": {"ec2": {
            "info": json.dumps({"Code": "Success", "LastUpdated": "2026-11-22T08:00:00Z", "AccountId": "123456789012"}),
            "security-credentials": {"ec2-instance": json.dumps({"AccessKeyId": "ASIAEXAMPLE2", "SecretAccessKey": "SIMULATED-SECRET-2"})},
        }},
        "instance-action": "none",
        "instance-id": INSTANCE,
        "instance-life-cycle": "on-demand",
        "instance-type": "t3.small",
        "local-hostname": "ip-172-31-16-20.eu-west-1.compute.internal",
        "local-ipv4": "172.31.16.20",
        "mac": first,
        "metrics": {"vhostmd": '<?xml version="1.0" encoding="UTF-8"?>'},
        "network": {"interfaces": {"macs": macs}},
        "placement": {"availability-zone": "eu-west-1b", "availability-zone-id": "euw1-az1",
                      "group-name": "web-spread", "partition-number": "1", "region": "eu-west-1"},
        "profile": "default-hvm",
        "public-hostname": "ec2-54-154-1-20.eu-west-1.compute.amazonaws.com",
        "public-ipv4": "54.154.1.20",
        "public-keys": {"0=ops-key": {"openssh-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedKey ops@example"},
                        "1=deploy-key": {"openssh-key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABSimulated deploy@example"}},
        "reservation-id": "r-0123456789abcdef0",
        "security-groups": "web\nssh",
        "services": {"domain": "amazonaws.com", "partition": "aws"},
        "tags": {"instance": {"Name": "web-01", "Environment": "production", "Cost Center": "42"}},
    }
    if hostile:
        tree["../escape"] = "owned"
        tree["tags"]["instance"]["a\x01b"] = "control"
        tree["tags"]["instance"][".."] = "dotdot"
    return tree


def identity_document():
    return json.dumps({
        "accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "eu-west-1b",
        "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
        "imageId": AMI, "instanceId": INSTANCE, "instanceType": "t3.small", "kernelId": None,
        "pendingTime": "2026-11-22T08:00:00Z", "privateIp": "172.31.16.20", "ramdiskId": None,
        "region": "eu-west-1", "version": "2017-09-30"}, indent=2)


DYNAMIC = {"instance-identity": {
    "document": identity_document,
    "pkcs7": "MIAGCSqGSIb3DQEHAqCAMIACAQExCzAJBgUrDgMCGgUAMIAGCSqGSIb3DQEHAaCAJIAEggHbewog",
    "signature": "SimulatedSignatureOfTheIdentityDocumentBase64==",
    "rsa2048": "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSABIIB",
}}


def lookup(tree, parts):
    """(node, real key path) for URL parts; `0` finds the `0=name` public key folder."""
    node = tree
    for part in parts:
        if not isinstance(node, dict):
            return None
        if part in node:
            node = node[part]
            continue
        match = [k for k in node if "=" in k and k.split("=", 1)[0] == part]
        if not match:
            return None
        node = node[match[0]]
    return node


def listing(node, top_level_public_keys=False):
    lines = []
    for key, value in node.items():
        if isinstance(value, dict) and not ("=" in key):
            lines.append(key + "/")
        else:
            lines.append(key)
    return "\n".join(lines)


class Faults:
    """`REGEX=N` rules: the first N requests whose path matches get the fault."""

    def __init__(self, specs):
        self.rules = []
        self.injected = 0  # how many times this fault was applied: tests assert it happened
        for spec in specs or []:
            pattern, _, count = spec.rpartition("=")
            code = None
            if ":" in count:
                count, code = count.split(":", 1)
            self.rules.append([re.compile(pattern), int(count), int(code) if code else None])
        self.lock = threading.Lock()

    def take(self, path):
        with self.lock:
            for rule in self.rules:
                if rule[1] > 0 and rule[0].search(path):
                    rule[1] -= 1
                    self.injected += 1
                    return rule[2] or True
        return None


class State:
    def __init__(self, args):
        self.args = args
        self.tree = realistic_tree(args.interfaces, args.hostile)
        self.user_data = open(args.user_data, "rb").read() if args.user_data else None
        self.lock = threading.Lock()
        self.tokens = {}  # token -> [expiry, uses]
        self.counter = 0
        self.stats = {"requests": 0, "connections": 0, "token_puts": 0, "v1_requests": 0,
                      "in_flight": 0, "max_in_flight": 0, "by_path": {}, "service_s": 0.0, "served": 0,
                      "files_in_flight": 0, "files_max_in_flight": 0, "files_200": 0, "files_304": 0, "files_503": 0,
                      "file_bytes": 0}
        self.fail = Faults(args.fail)
        self.drop = Faults(args.drop)
        self.truncate = Faults(args.truncate)
        self.hang = Faults(args.hang)
        self.redirects = [(re.compile(pattern), url) for pattern, url in (args.redirect or [])]
        self.endless = [re.compile(p) for p in (args.endless or [])]
        self.trickle = [re.compile(p) for p in (args.trickle or [])]
        self.other_port = None
        self.stats["other_host"] = []  # what the listener on 127.0.0.2 was sent
        # --down-seconds: a service that is not up yet, from the first request on.
        self.first_request = None
        self.stats["down_refused"] = 0

    def count(self, key, path=None):
        with self.lock:
            self.stats[key] += 1
            if path is not None:
                self.stats["by_path"][path] = self.stats["by_path"].get(path, 0) + 1


class Headers(dict):
    """Request headers, looked up without regard to case."""

    def get(self, name, default=None):
        return super().get(name.lower(), default)


class Server(ThreadingHTTPServer):
    # listen(2) backlog: the default 5 drops the SYNs of a client opening a dozen
    # connections at once, and it then waits a second to retry.
    request_queue_size = 1024
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = -1  # headers and body leave in one write (flushed by the handler loop)
    server_version = "EC2ws"
    sys_version = ""

    def log_message(self, *args):
        pass

    def parse_request(self):
        """A lean stand-in for the standard one, whose email-based header parser costs more
        than everything else a request does here; the simulator must not be the bottleneck
        of a client it measures."""
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(400, "bad request line")
            return False
        self.command, self.path, self.request_version = words
        self.headers = Headers()
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = str(line, "iso-8859-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        connection = self.headers.get("Connection", "").lower()
        self.close_connection = connection == "close" or (self.request_version == "HTTP/1.0" and connection != "keep-alive")
        return True

    _date = (0, "")

    def date_time_string(self, timestamp=None):
        now = int(time.time())
        if Handler._date[0] != now:
            Handler._date = (now, super().date_time_string(now))
        return Handler._date[1]

    def setup(self):
        super().setup()
        self.counted = False  # a connection counts once it asks for something other than /_sim/

    @property
    def state(self):
        return self.server.state

    def reply(self, code, body=b"", content_type="text/plain", extra=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        if code != 304:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and code != 304:
            self.wfile.write(body)

    def begin(self, path):
        state = self.state
        if path.startswith("/_sim/"):
            return False
        if not self.counted:
            self.counted = True
            state.count("connections")
        state.count("requests", path)
        with state.lock:
            state.stats["in_flight"] += 1
            state.stats["max_in_flight"] = max(state.stats["max_in_flight"], state.stats["in_flight"])
        if state.args.latency_ms:
            time.sleep(state.args.latency_ms / 1000.0)
        self.started = time.perf_counter()  # the simulator's own service time starts after the latency
        if state.args.down_seconds:
            with state.lock:
                state.first_request = state.first_request or time.monotonic()
                down = time.monotonic() - state.first_request < state.args.down_seconds
                state.stats["down_refused"] += 1 if down else 0
            if down:
                self.close_connection = True
                self.connection.shutdown(2)
                return True
        if state.hang.take(path):
            time.sleep(state.args.hang_seconds)
        if state.drop.take(path):
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        code = state.fail.take(path)
        if code:
            code = code if code is not True else 500
            after = {"Retry-After": str(state.args.retry_after)} if code in (429, 503) and state.args.retry_after else None
            self.reply(code, "simulated failure\n", extra=after)
            return True
        for pattern, url in state.redirects:
            if pattern.search(path):
                target = url.replace("{other}", "http://127.0.0.2:%d" % (state.other_port or 9)).replace("{path}", path)
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True
        if any(p.search(path) for p in state.endless):
            self.endless_body()
            return True
        if any(p.search(path) for p in state.trickle):
            self.trickle_body()
            return True
        if state.truncate.take(path):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"partial")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        return False

    def endless_body(self, seconds=120):
        """A chunked body that never ends (until the client hangs up, or `seconds`)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (65536, b"A" * 65536)
        stop = time.time() + seconds
        self.close_connection = True
        try:
            while time.time() < stop:
                self.wfile.write(chunk)
        except OSError:
            pass

    def trickle_body(self, seconds=120):
        """One byte a second of a body that says it is 100 kB."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(seconds):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass

    def end(self):
        with self.state.lock:
            self.state.stats["in_flight"] -= 1
            if hasattr(self, "started"):
                self.state.stats["service_s"] += time.perf_counter() - self.started
                self.state.stats["served"] += 1

    def do_PUT(self):
        path = unquote(self.path)
        if self.begin(path):
            return self.end()
        try:
            args = self.state.args
            if path != "/latest/api/token":
                return self.reply(403, "forbidden\n")
            if args.token_mode == "hang":
                time.sleep(args.hang_seconds)
                return self.reply(200, "too-late")
            if args.token_mode in ("403", "404", "405"):
                return self.reply(int(args.token_mode), "no tokens here\n")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not ttl.isdigit() or not (1 <= int(ttl) <= 21600):
                return self.reply(400, "bad ttl\n")
            with self.state.lock:
                self.state.counter += 1
                token = "simtoken-%d-%s" % (self.state.counter, os.urandom(8).hex())
                if args.token_value is not None:
                    token = args.token_value.encode().decode("unicode_escape")
                self.state.tokens[token] = [time.time() + int(ttl), 0]
                self.state.stats["token_puts"] += 1
            self.reply(200, token)
        finally:
            self.end()

    def token_ok(self):
        """None when the request may go on, else the status to answer."""
        token = self.headers.get("X-aws-ec2-metadata-token")
        state = self.state
        if token is None:
            if state.args.v2_only:
                return 401
            state.count("v1_requests")
            return None
        with state.lock:
            entry = state.tokens.get(token)
            if entry is None or entry[0] < time.time():
                return 401
            entry[1] += 1
            if state.args.token_max_uses and entry[1] > state.args.token_max_uses:
                return 401
        return None

    def do_GET(self):
        path = unquote(self.path.split("?", 1)[0])
        if path == "/_sim/stats":
            state = self.state
            with state.lock:
                state.stats["faults"] = {"fail": state.fail.injected, "drop": state.drop.injected,
                                         "truncate": state.truncate.injected, "hang": state.hang.injected}
                return self.reply(200, json.dumps(self.state.stats), "application/json")
        if self.begin(path):
            return self.end()
        try:
            self.serve(path)
        finally:
            self.end()

    do_HEAD = do_GET

    def serve(self, path):
        state = self.state
        # A dated API version (/2021-03-23/meta-data/…, what cloud-init asks) is the same tree as /latest/.
        path = re.sub(r"^/\d{4}-\d{2}-\d{2}(?=/|$)", "/latest", path)
        if path.startswith("/files/") and state.args.serve:
            return self.serve_file(path[len("/files/"):])
        status = self.token_ok()
        if status:
            return self.reply(status, "unauthorized\n")
        if path == "/latest/user-data":
            if state.user_data is None:
                return self.reply(404, "not found\n")
            return self.reply(200, state.user_data, "application/octet-stream")
        if path.startswith("/latest/dynamic/") or path in ("/latest", "/latest/"):
            # The identity folder as real IMDS serves it (listing included): cloud-init crawls it.
            parts = [p for p in path[len("/latest"):].split("/") if p]
            node = lookup({"dynamic": DYNAMIC, "meta-data": {}, "user-data": ""}, parts)
            if node is None:
                return self.reply(404, "not found\n")
            if isinstance(node, dict):
                return self.reply(200, listing(node))
            return self.reply(200, node() if callable(node) else node, "application/json" if parts[-1] == "document" else "text/plain")
        if not path.startswith("/latest/meta-data/"):
            return self.reply(404, "not found\n")
        rest = path[len("/latest/meta-data/"):]
        parts = [p for p in rest.split("/") if p]
        if parts and parts[0] == "deep" and state.args.deep:
            # deep/d/d/d/...: every folder holds another folder and a leaf, forever.
            return self.reply(200, "v" if parts[-1] == "x" else "d/\nx")
        if parts and parts[0] == "wide" and state.args.wide:
            if len(parts) == 1:
                return self.reply(200, "\n".join("%x" % n for n in range(state.args.wide)))
            return self.reply(200, "v")
        node = lookup(state.tree, parts)
        if node is None:
            return self.reply(404, "not found\n")
        if isinstance(node, dict):
            return self.reply(200, listing(node))
        if path.endswith("/"):
            return self.reply(404, "not found\n")
        return self.reply(200, node)


    def serve_file(self, name):
        """A file of --serve DIR, with an ETag and Last-Modified, and 304 for a conditional GET
        that still matches; --busy-above N answers 503 with Retry-After past N at once."""
        state = self.state
        args = state.args
        with state.lock:
            state.stats["files_in_flight"] += 1
            busy = args.busy_above and state.stats["files_in_flight"] > args.busy_above
            if not busy:
                state.stats["files_max_in_flight"] = max(state.stats["files_max_in_flight"], state.stats["files_in_flight"])
        try:
            if busy:
                state.count("files_503")
                return self.reply(503, "busy\n", extra={"Retry-After": args.retry_after or "1"})
            full = os.path.join(args.serve, name)
            if "/" in name or name in ("", ".", "..") or not os.path.isfile(full):
                return self.reply(404, "not found\n")
            body = open(full, "rb").read()
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
            modified = formatdate(int(os.stat(full).st_mtime), usegmt=True)
            validators = {"ETag": etag, "Last-Modified": modified}
            match = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            if (match is not None and match == etag) or (match is None and since == modified):
                state.count("files_304")
                return self.reply(304, b"", extra=validators)
            if args.file_delay_ms:
                time.sleep(args.file_delay_ms / 1000.0)
            with state.lock:
                state.stats["files_200"] += 1
                state.stats["file_bytes"] += len(body)
            return self.reply(200, body, "application/octet-stream", extra=validators)
        finally:
            with state.lock:
                state.stats["files_in_flight"] -= 1


def start_other_host(state, body):
    """A listener on 127.0.0.2 standing for another host: it records what it is sent
    (path and headers, into /_sim/stats as other_host) and answers `body` to everything."""

    class Other(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            with state.lock:
                state.stats["other_host"].append({"path": self.path, "headers": dict(self.headers.items())})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_PUT = do_HEAD = do_GET

    other = Server(("127.0.0.2", 0), Other)
    state.other_port = other.server_address[1]
    threading.Thread(target=other.serve_forever, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port; printed as 'PORT n'")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--interfaces", type=int, default=3)
    parser.add_argument("--user-data", help="file served as /latest/user-data (404 without)")
    parser.add_argument("--v2-only", action="store_true", help="requests without a token get 401")
    parser.add_argument("--token-mode", default="ok", choices=["ok", "403", "404", "405", "hang"])
    parser.add_argument("--token-max-uses", type=int, default=0, help="a token is refused after N uses")
    parser.add_argument("--fail", action="append", metavar="REGEX=N[:CODE]", help="first N matching requests get CODE (500)")
    parser.add_argument("--drop", action="append", metavar="REGEX=N", help="first N matching connections are closed unanswered")
    parser.add_argument("--truncate", action="append", metavar="REGEX=N", help="first N matching bodies are cut short")
    parser.add_argument("--hang", action="append", metavar="REGEX=N", help="first N matching requests wait --hang-seconds")
    parser.add_argument("--hang-seconds", type=float, default=30)
    parser.add_argument("--down-seconds", type=float, default=0,
                        help="close every connection unanswered for this long after the first request (a late service)")
    parser.add_argument("--hostile", action="store_true", help="add names like ../escape to listings")
    parser.add_argument("--serve", metavar="DIR", help="serve DIR's files at /files/NAME")
    parser.add_argument("--redirect", nargs=2, action="append", metavar=("REGEX", "URL"),
                        help="matching requests get 302 to URL ({other}: the 127.0.0.2 listener, {path}: the path)")
    parser.add_argument("--endless", action="append", metavar="REGEX", help="matching requests get an endless chunked body")
    parser.add_argument("--trickle", action="append", metavar="REGEX", help="matching requests get one byte a second")
    parser.add_argument("--deep", action="store_true", help="meta-data/deep/ nests forever")
    parser.add_argument("--wide", type=int, default=0, metavar="N", help="meta-data/wide/ lists N leaves")
    parser.add_argument("--token-value", help="the token PUT answers this (backslash escapes allowed)")
    parser.add_argument("--other-host", metavar="FILE",
                        help="listen on 127.0.0.2 too, recording each request; every answer is FILE's content")
    parser.add_argument("--instance-id", help="meta-data/instance-id (default %s)" % INSTANCE)
    parser.add_argument("--block-device", action="append", metavar="NAME=DEVICE",
                        help="block-device-mapping/NAME is DEVICE (e.g. ephemeral0=sdb); an empty DEVICE removes NAME")
    parser.add_argument("--busy-above", type=int, default=0, metavar="N",
                        help="a /files/ request while N are already being served gets 503 with Retry-After")
    parser.add_argument("--retry-after", metavar="VALUE",
                        help="Retry-After of --fail's 429/503 answers and of --busy-above (default 1 there): seconds or an HTTP date")
    parser.add_argument("--file-delay-ms", type=float, default=0, help="time a /files/ body takes to serve, after the latency")
    parser.add_argument("--no-role", action="store_true", help="an instance without an IAM role: no iam/security-credentials/")
    parser.add_argument("--role-credentials", metavar="FILE", help="iam/security-credentials/web-role answers FILE's content")
    parser.add_argument("--region", help="meta-data/placement/region (default eu-west-1)")
    parser.add_argument("--dump-tree", action="store_true", help="print the tree as JSON and exit")
    args = parser.parse_args()
    if args.dump_tree:
        print(json.dumps(realistic_tree(args.interfaces), indent=2, sort_keys=True))
        return
    server = Server(("127.0.0.1", args.port), Handler)
    server.handle_error = lambda request, address: None  # dropped connections are the point
    server.state = State(args)
    if args.other_host:
        start_other_host(server.state, open(args.other_host, "rb").read())
    if args.instance_id:
        server.state.tree["instance-id"] = args.instance_id
    for entry in args.block_device or []:
        name, _, device = entry.partition("=")
        mapping = server.state.tree["block-device-mapping"]
        if device:
            mapping[name] = device
        else:
            mapping.pop(name, None)
    if args.no_role:
        del server.state.tree["iam"]["security-credentials"]
    if args.role_credentials:
        # A real S3's credentials (tools/s3/moto_s3.py) in place of the made-up ones.
        creds = server.state.tree["iam"]["security-credentials"]
        creds[next(iter(creds))] = open(args.role_credentials).read()
    if args.region:
        server.state.tree["placement"]["region"] = args.region
    if args.deep:
        server.state.tree["deep"] = {}
    if args.wide:
        server.state.tree["wide"] = {}
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
