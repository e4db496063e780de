"""The Ruby ec2-boot-init's request pattern, modelled in Python (the Ruby tool itself is not
packaged): user-data, then the meta-data tree depth first, one request at a time, each on a new
connection (its get_url made a Net::HTTP per call). Timed from inside the process.

Usage: python3 ruby_pattern_crawl.py BASE_URL
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")


def get(path):
    # Percent-encoded: the realistic tree has a tag key with a space ("Cost Center"), which the
    # Ruby tool's URI.parse would refuse outright; the model fetches it instead.
    request = urllib.request.Request(base + urllib.parse.quote(path), headers={"Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def tree(root):
    keys = {}
    for branch in (get("/latest/meta-data/" + root) or "").split("\n"):
        if not branch:
            continue
        if branch.endswith("/"):
            keys[branch[:-1]] = tree(root + branch)
        elif "=" in branch:
            name = branch.split("=", 1)[0]
            keys[name] = tree(root + name + "/")
        else:
            keys[branch] = get("/latest/meta-data/" + root + branch)
    return keys


start = time.perf_counter()
user_data = get("/latest/user-data")
metadata = tree("")
elapsed = time.perf_counter() - start


def leaves(node):
    return sum(leaves(v) for v in node.values()) if isinstance(node, dict) else 1


print(json.dumps({"crawl_s": elapsed, "leaves": leaves(metadata)}))
