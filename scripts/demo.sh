#!/usr/bin/env bash
# The quick start on a fresh Debian/Ubuntu machine with the Swift toolchain: checks the toolchain
# starts, installs the build packages that are missing, builds (with SwiftPM's progress), boots a
# pretend instance from examples/seed into a temp root (nothing on the machine changes), and
# prints its facts and MOTD. Stops at the first failure, saying why. CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '==> %s\n' "$*"; }
fail() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

step "checking the Swift toolchain"
command -v swift >/dev/null || fail "no swift on PATH: install the toolchain (Debian 12 build from swift.org) and put its usr/bin on PATH"
if ! version=$(swift --version 2>&1); then
  printf '%s\n' "$version" | head -5 >&2
  frontend=$(dirname "$(readlink -f "$(command -v swift)")")/swift-frontend
  missing=$(ldd "$frontend" 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
  fail "the Swift toolchain cannot start${missing:+: missing libraries: $missing}(the README's prerequisites list the toolchain's own packages)"
fi
printf '%s\n' "$version" | head -1

step "installing the build packages that are missing (scripts/deps.sh --build)"
bash scripts/deps.sh --build

step "building ec2-boot-init (a first build compiles about 1,500 files: several minutes on 2 cores; every 100th step is shown)"
# SwiftPM prints one [N/M] line per step when its output is not a terminal; errors and warnings all pass.
swift build --product ec2-boot-init 2>&1 | awk '
  /error|warning: |Fetching|Computing|Build of product|Build complete/ { print; fflush(); next }
  match($0, /^\[[0-9]+\/[0-9]+\]/) { split(substr($0, 2, RLENGTH - 2), n, "/"); if (n[1] % 100 == 0) { print; fflush() } }'
binary="$(swift build --show-bin-path)/ec2-boot-init"
[ -x "$binary" ] || fail "the build made no $binary"

step "booting a pretend instance from examples/seed"
root=$(mktemp -d /tmp/ec2boot-demo.XXXXXX)
mkdir -p "$root/etc/ec2-boot-init"
echo "syslog: false" > "$root/etc/ec2-boot-init/config.yaml"
"$binary" run --root "$root" --seed examples/seed
echo "== $root/etc/facts.txt"
cat "$root/etc/facts.txt"
echo "== $root/etc/motd"
cat "$root/etc/motd"
grep -q "provisioned instance" "$root/etc/motd" || fail "the MOTD does not say 'provisioned instance'"
echo "demo ok: everything it wrote is under $root"
