#!/usr/bin/env bash
# The quick start on a fresh Debian/Ubuntu machine with the Swift toolchain: installs the build
# packages that are missing, builds, boots a pretend instance from examples/seed into a temp
# root (nothing on the machine changes), and prints its facts and MOTD. CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --build
swift build --product ec2-boot-init 2>&1 | grep -E "error|warning: |Compiling ec2|Build complete" || true
root=$(mktemp -d /tmp/ec2boot-demo.XXXXXX)
mkdir -p "$root/etc/ec2-boot-init"
echo "syslog: false" > "$root/etc/ec2-boot-init/config.yaml"
"$(swift build --show-bin-path)/ec2-boot-init" run --root "$root" --seed examples/seed
echo "== $root/etc/facts.txt"
cat "$root/etc/facts.txt"
echo "== $root/etc/motd"
cat "$root/etc/motd"
grep -q "provisioned instance" "$root/etc/motd"
echo "demo ok: everything it wrote is under $root"
