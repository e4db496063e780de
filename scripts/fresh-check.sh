#!/usr/bin/env bash
# The README's two commands as a newcomer meets them: a stock Debian 12 root (debootstrap
# minbase), with only what the README's prerequisites name installed (the Swift toolchain's own
# packages, as swift.org lists them for Debian 12, and git), this repository cloned into it, then
# `scripts/demo.sh` and `scripts/test.sh` run there, as root, with nothing else done by hand.
# CI runs it (.ci/run); it is the one run of the test suite there. Takes about 40-60 min on 2 cores.
#
# What comes from this machine, because a fresh root cannot download it: the toolchain (this
# machine's, bind-mounted read-only at the same path, as a newcomer unpacks swift.org's tarball),
# where this machine keeps the Swift packages (its git URL rewrites and their folder), which on a
# machine with open network are GitHub itself, and the local certificate authorities and pip.conf
# its network needs to reach PyPI (on an open network, pip's own trust does). Logs: $FRESH_LOGS
# (default: a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
. scripts/lib/debian-root.sh
[ "$(id -u)" -eq 0 ] || { echo "fresh-check.sh: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
toolchain=$(dirname "$(dirname "$swift_bin")")   # …/usr/bin/swift → the toolchain's top folder
logs=${FRESH_LOGS:-$(mktemp -d /tmp/ec2boot-fresh-logs.XXXXXX)}
root=$(mktemp -d /tmp/ec2boot-fresh.XXXXXX)
binds=()
cleanup() {
  # What the tests started inside must not keep the mounts busy.
  pids=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"; done || true)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  for ((i=${#binds[@]}-1; i>=0; i--)); do umount "${binds[i]}" 2>/dev/null || umount -l "${binds[i]}" || true; done
  # rm only when nothing is mounted below: a bind mount is the same file system to rm's eyes.
  if root_unmount "$root" && ! grep -q " $root/" /proc/mounts; then
    rm -rf --one-file-system "$root" "$root.debootstrap.log"
  else
    echo "left $root (a mount is still there)" >&2
  fi
}
trap cleanup EXIT
phase() { printf '== fresh-check: %s (%s)\n' "$*" "$(date -u +%T)"; }

phase "a stock Debian 12 root in $root"
start=$(date +%s)
# No /etc/hosts line naming this machine: a test that needs the host's name to resolve fails here.
DEBIAN_ROOT_NO_HOST_NAME=1 debian_root "$root"
root_mount "$root"
# The packages swift.org lists for the Debian 12 toolchain, and git: the README's prerequisites, nothing more.
prereqs=(binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libpython3-dev libsqlite3-0
         libstdc++-12-dev libxml2-dev libz3-dev pkg-config python3-lldb-13 tzdata zlib1g-dev ca-certificates)
in_root "$root" apt-get update -qq > "$logs/apt.log" 2>&1
in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${prereqs[@]}" >> "$logs/apt.log" 2>&1 \
  || { tail -20 "$logs/apt.log" >&2; exit 1; }
echo "root ready in $(( $(date +%s) - start )) s"

phase "the toolchain ($toolchain) and this machine's Swift package mirror"
mkdir -p "$root$toolchain"
mount --bind "$toolchain" "$root$toolchain" && mount -o remount,bind,ro "$root$toolchain"; binds+=("$root$toolchain")
while read -r key value; do
  # url.<folder>.insteadof <github URL>: the folder is bound in at the same path, the rewrite copied.
  folder=${key#url.}; folder=${folder%.insteadof}
  if [ -d "$folder" ] && ! mountpoint -q "$root$folder"; then
    mkdir -p "$root$folder"; mount --bind "$folder" "$root$folder"; mount -o remount,bind,ro "$root$folder"; binds+=("$root$folder")
  fi
  in_root "$root" git config --system --add "$key" "$value"
done < <(git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null || true)
# This network's certificate authorities (for PyPI through its proxy) and pip's setting to trust them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  in_root "$root" update-ca-certificates >> "$logs/apt.log" 2>&1
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
# The checkout's .git is bound in for the clone (read-only): the root clones it as a newcomer clones GitHub.
mkdir -p "$root/srv/origin.git"
mount --bind "$repo/.git" "$root/srv/origin.git" && mount -o remount,bind,ro "$root/srv/origin.git"; binds+=("$root/srv/origin.git")
in_root "$root" git config --system --add safe.directory '*'
in_root "$root" git clone -q /srv/origin.git /root/ec2-boot-init

run_in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
    PATH="$swift_bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    bash -c "cd /root/ec2-boot-init && $1"
}
phase "scripts/demo.sh"
start=$(date +%s)
run_in_root "scripts/demo.sh" 2>&1 | tee "$logs/demo.log"
echo "demo.sh: $(( $(date +%s) - start )) s"
phase "scripts/test.sh (its timing goes to $logs/times, so the test runner's summary closes the output)"
start=$(date +%s)
run_in_root "scripts/test.sh" 2>&1 | tee "$logs/test.log"
echo "test.sh: $(( $(date +%s) - start )) s" > "$logs/times"
