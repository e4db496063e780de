"""cloud-init's own EC2 crawler (Debian's cloud-init package), timed from inside.

Run with Debian's /usr/bin/python3: `python3 cloudinit_crawl.py BASE_URL`. Prints JSON with
the crawl time (token, user-data, meta-data tree, identity) excluding interpreter start-up.
"""
import json
import sys
import time

from cloudinit import url_helper
from cloudinit.sources.helpers import ec2

base = sys.argv[1]
TOKEN = "X-aws-ec2-metadata-token"
TTL = TOKEN + "-ttl-seconds"

start = time.perf_counter()
token = url_helper.readurl(base + "/latest/api/token", request_method="PUT", headers={TTL: "21600"},
                           timeout=5, retries=0).contents.decode().strip()
headers = lambda url: {TOKEN: token}  # noqa: E731
userdata = ec2.get_instance_userdata("latest", base, timeout=5, retries=3, headers_cb=headers, headers_redact=[TOKEN])
metadata = ec2.get_instance_metadata("latest", base, timeout=5, retries=3, headers_cb=headers, headers_redact=[TOKEN])
identity = ec2.get_instance_identity("latest", base, timeout=5, retries=3, headers_cb=headers, headers_redact=[TOKEN])
elapsed = time.perf_counter() - start


def leaves(node):
    if isinstance(node, dict):
        return sum(leaves(v) for v in node.values())
    return 1


print(json.dumps({"crawl_s": elapsed, "leaves": leaves(metadata), "user_data_bytes": len(userdata or b"")}))
