#!/usr/bin/env bash
# Builds an earlier version's .deb, for the VM's upgrade scenario (an instance first booted by it,
# upgraded in place to dist/'s .deb): REV's tree checked out in a git worktree under /tmp,
# packaging/build.sh run there, its .deb copied to OUT. About as long as packaging/build.sh.
#   scripts/vm/previous-deb.sh [REV] [OUT]
# REV: default bde3f64, the last commit before the essentials (version 0.2.0's behaviour).
# Then: EC2BOOT_PREVIOUS_DEB=OUT scripts/vm/test.sh upgrade
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:-bde3f64}
out=$(realpath -m "${2:-/tmp/ec2-boot-init-previous.deb}")
tree=$(mktemp -d /tmp/ec2boot-previous.XXXXXX)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add -q --detach "$tree" "$rev"
(cd "$tree" && bash packaging/build.sh)
cp "$tree"/dist/ec2-boot-init_*.deb "$out"
echo "previous-deb: $(cd "$tree" && git log -1 --format='%h %s' | cut -c1-80) -> $out"
