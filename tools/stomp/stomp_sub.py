#!/usr/bin/env python3
"""A minimal STOMP 1.2 subscriber, independent of the Swift client, for the tests: connects,
subscribes, prints "READY" once the broker confirmed the subscription, then one JSON line
({"headers": {...}, "body": "..."}) per MESSAGE until --count messages or --seconds passed.
An ERROR frame prints "ERROR <message>" and exits 3."""
import argparse, json, socket, ssl, sys, time

def frame(command, headers, body=b""):
    def esc(v):
        return v.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace(":", "\\c")
    lines = [command] + ["%s:%s" % (k, v if command == "CONNECT" else esc(v)) for k, v in headers]
    return ("\n".join(lines) + "\n\n").encode() + body + b"\0"

def unesc(v):
    out, i = "", 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out += {"\\": "\\", "r": "\r", "n": "\n", "c": ":"}[v[i + 1]]; i += 2
        else:
            out += v[i]; i += 1
    return out

def frames(sock):
    buf = b""
    while True:
        while buf[:1] in (b"\n", b"\r"):
            buf = buf[1:]
        head_end = buf.find(b"\n\n")
        if head_end >= 0:
            head = buf[:head_end].decode().split("\n")
            command, headers = head[0], {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers.setdefault(unesc(k) if command != "CONNECTED" else k, unesc(v) if command != "CONNECTED" else v)
            start = head_end + 2
            if "content-length" in headers:
                end = start + int(headers["content-length"])
                if len(buf) > end:
                    yield command, headers, buf[start:end]; buf = buf[end + 1:]; continue
            else:
                end = buf.find(b"\0", start)
                if end >= 0:
                    yield command, headers, buf[start:end]; buf = buf[end + 1:]; continue
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return
        if not chunk:
            return
        buf += chunk

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--vhost", default="/")
    p.add_argument("--login"); p.add_argument("--passcode")
    p.add_argument("--destination", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--seconds", type=float, default=60)
    a = p.parse_args()
    sock = socket.create_connection((a.host, a.port), timeout=a.seconds)
    headers = [("accept-version", "1.2"), ("host", a.vhost)]
    if a.login: headers += [("login", a.login), ("passcode", a.passcode or "")]
    sock.sendall(frame("CONNECT", headers))
    got = frames(sock)
    deadline = time.time() + a.seconds
    subscribed = False
    received = 0
    for command, h, body in got:
        if command == "ERROR":
            print("ERROR " + h.get("message", ""), flush=True); sys.exit(3)
        if command == "CONNECTED" and not subscribed:
            sock.sendall(frame("SUBSCRIBE", [("destination", a.destination), ("id", "0"), ("ack", "auto"), ("receipt", "sub")]))
            subscribed = True
        elif command == "RECEIPT":
            print("READY", flush=True)
        elif command == "MESSAGE":
            print(json.dumps({"headers": h, "body": body.decode()}), flush=True)
            received += 1
            if received >= a.count:
                return
        if time.time() > deadline:
            return

if __name__ == "__main__":
    main()
