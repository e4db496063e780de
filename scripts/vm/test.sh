#!/usr/bin/env bash
# The boot scenarios on a real booting VM (root needed): installs QEMU, socat and debootstrap
# when missing, builds the images from dist/'s .deb (packaging/build.sh first), boots each
# scenario and asserts on the guest's report. Used by CI (.ci/run).
#   scripts/vm/test.sh [SCENARIO ...]     (see scripts/vm/scenarios.py for the names)
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
for p in qemu-system-x86 qemu-utils socat debootstrap e2fsprogs fdisk curl; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
images=$(mktemp -d /tmp/ec2boot-vm-images.XXXXXX)
trap 'rm -rf "$images"' EXIT
start=$(date +%s)
# --cloud-init: cloud-init's image too, booted beside ours on the same disks (the essentials scenarios).
# EC2BOOT_PREVIOUS_DEB: an earlier version's .deb (scripts/vm/previous-deb.sh builds one), for the
# upgrade scenario, which is skipped, and says so, without it.
previous=()
if [ -n "${EC2BOOT_PREVIOUS_DEB:-}" ]; then previous=(--previous "$EC2BOOT_PREVIOUS_DEB"); fi
bash scripts/vm/build-image.sh "$images" --cloud-init "${previous[@]}"
python3 scripts/vm/scenarios.py "$images" "$@"
echo "vm: $(( $(date +%s) - start )) s in all"
