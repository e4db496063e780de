#!/usr/bin/env bash
# Checks the packages packaging/build.sh made in dist/: their file lists against the layout,
# lintian on the .deb (no errors), and a real install: a Debian 12 root made by debootstrap
# (minbase, mirror taken from this machine's apt sources), the .deb installed with dpkg, a
# provisioning run from the packaged seed, facts and MOTD checked, then `dpkg --purge` must
# leave nothing of ours behind.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in lintian debootstrap rpm; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
deb=$(ls dist/ec2-boot-init_*.deb) rpm=$(ls dist/ec2-boot-init-*.rpm)
fail() { echo "packaging test FAILED: $*" >&2; exit 1; }

# 1. Layout.
expected_common="etc/ec2-boot-init/
etc/ec2-boot-init/actions/
etc/ec2-boot-init/config.yaml
etc/ec2-boot-init/motd.provisioned
etc/ec2-boot-init/motd.unprovisioned
usr/lib/ec2-boot-init/
usr/libexec/ec2-boot-init/
usr/libexec/ec2-boot-init/ec2-boot-init-broker
usr/libexec/ec2-boot-init/ec2-boot-init-watch
usr/sbin/ec2-boot-init
usr/share/man/man8/ec2-boot-init.8.gz
var/spool/ec2boot/"
contents=$(dpkg-deb --contents "$deb")
got=$(echo "$contents" | awk '{print $6}' | sed 's|^\./||' | grep -v '^$' | grep -v '^usr/lib/ec2-boot-init/examples' | sort)
want=$(printf '%s\nlib/\nlib/systemd/\nlib/systemd/system/\nlib/systemd/system/ec2-boot-init.service\nlib/systemd/system/ec2-boot-init-actions.service\nlib/systemd/system/ec2-boot-init-watch.service\nlib/systemd/system/ec2-boot-init-offline.service\nlib/systemd/system-generators/\nlib/systemd/system-generators/ec2-boot-init-generator\netc/\nusr/\nusr/lib/\nusr/libexec/\nusr/sbin/\nusr/share/\nusr/share/man/\nusr/share/man/man8/\nusr/share/doc/\nusr/share/doc/ec2-boot-init/\nusr/share/doc/ec2-boot-init/copyright\nusr/share/doc/ec2-boot-init/changelog.gz\nvar/\nvar/spool/\n' "$expected_common" | sort)
[ "$got" = "$want" ] || fail "the .deb's files differ from the layout: $(diff <(echo "$want") <(echo "$got") || true)"
for program in usr/sbin/ec2-boot-init usr/libexec/ec2-boot-init/ec2-boot-init-watch usr/libexec/ec2-boot-init/ec2-boot-init-broker; do
  grep -q "^-rwxr-xr-x root/root .* \./$program\$" <<< "$contents" || fail "$program's mode"
done
grep -q '\./lib/systemd/system-generators/ec2-boot-init-generator -> /usr/sbin/ec2-boot-init$' <<< "$contents" || fail "the generator link"
# No ICU in the static programs (FoundationEssentials only): its data table is named icudt<N>.
for program in ec2-boot-init ec2-boot-init-watch ec2-boot-init-broker; do
  file=dist/stage/usr/sbin/$program; [ -e "$file" ] || file=dist/stage/usr/libexec/ec2-boot-init/$program
  ! grep -aq -e icudt -e _FoundationICU "$file" || fail "$program carries ICU"
done
grep -q '^drwxr-xr-x root/root .* \./var/spool/ec2boot/$' <<< "$contents" || fail "cache folder mode"
[ "$(dpkg-deb -f "$deb" Depends)" = "libc6 (>= 2.36), libcurl4 (>= 7.88), zlib1g (>= 1:1.2.13), libzookeeper-mt2 (>= 3.8.0), libyaml-0-2 (>= 0.2.5)" ] || fail "Depends"
grep -qx /etc/ec2-boot-init/config.yaml <<< "$(dpkg-deb -I "$deb" conffiles)" || fail "conffiles"
# An upgrade restarts a running watcher on the new binary.
grep -q 'try-restart ec2-boot-init-watch.service' <<< "$(dpkg-deb -I "$deb" postinst)" || fail "postinst: no try-restart of the watcher"
got=$(rpm -qlp "$rpm" 2>/dev/null | grep -v '^/usr/lib/ec2-boot-init/examples' | sort)
want=$(printf '/usr/lib/systemd/system/ec2-boot-init.service\n/usr/lib/systemd/system/ec2-boot-init-actions.service\n/usr/lib/systemd/system/ec2-boot-init-watch.service\n/usr/lib/systemd/system/ec2-boot-init-offline.service\n/usr/lib/systemd/system-generators/ec2-boot-init-generator\n%s\n' \
  "$(echo "$expected_common" | sed 's|/$||; s|^|/|')" | sort)
[ "$got" = "$want" ] || fail "the .rpm's files differ from the layout: $(diff <(echo "$want") <(echo "$got") || true)"
grep -qx libcurl <<< "$(rpm -qp --requires "$rpm" 2>/dev/null)" || fail "rpm Requires libcurl"
grep -qx libyaml <<< "$(rpm -qp --requires "$rpm" 2>/dev/null)" || fail "rpm Requires libyaml"
grep -q 'try-restart ec2-boot-init-watch.service' <<< "$(rpm -qp --scripts "$rpm" 2>/dev/null)" || fail "rpm: no try-restart of the watcher"
echo "layout ok: $(basename "$deb") $(du -k "$deb" | cut -f1) KiB, $(basename "$rpm") $(du -k "$rpm" | cut -f1) KiB"

# 2. lintian: no errors (the warnings we accept are listed in packaging/README.md).
lintian --no-tag-display-limit "$deb" > dist/lintian.txt 2>&1 || true
if grep -q '^E:' dist/lintian.txt; then cat dist/lintian.txt >&2; fail "lintian errors"; fi
echo "lintian: $(grep -c '^W:' dist/lintian.txt || true) warnings, no errors"

# 3. A real Debian 12 root (scripts/lib/debian-root.sh, shared with scripts/fresh-check.sh).
. scripts/lib/debian-root.sh
root=$(mktemp -d /tmp/ec2boot-debootstrap.XXXXXX)
cleanup() {
  if ! root_unmount "$root"; then echo "cannot unmount inside $root; left it" >&2; return; fi
  rm -rf --one-file-system "$root" "$root.debootstrap.log"
}
trap cleanup EXIT
start=$(date +%s)
debian_root "$root" || fail "debootstrap"
echo "debootstrap: $(( $(date +%s) - start )) s"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
in_root apt-get update -qq > dist/apt.log 2>&1
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libcurl4 zlib1g libzookeeper-mt2 libyaml-0-2 >> dist/apt.log 2>&1
snapshot() { in_root find / -xdev \( -path /proc -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log -o -path /tmp -o -path /dev -o -path /run \) -prune -o -print | sort; }
before=$(snapshot)
cp "$deb" "$root/tmp/"
in_root dpkg -i "/tmp/$(basename "$deb")" >/dev/null
in_root ec2-boot-init --version >/dev/null || fail "the installed binary does not run"
# The helpers, found where the package puts them: watch's through ec2-boot-init, the broker's directly.
in_root ec2-boot-init push --help | grep -q -- '--sign-key' || fail "ec2-boot-init push did not reach ec2-boot-init-watch"
[ "$(in_root /usr/libexec/ec2-boot-init/ec2-boot-init-broker --version)" = "$(in_root ec2-boot-init --version)" ] || fail "the broker helper"
for unit in ec2-boot-init.service ec2-boot-init-actions.service ec2-boot-init-watch.service; do
  [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "$unit not enabled by postinst"
done
in_root ec2-boot-init run --seed /usr/lib/ec2-boot-init/examples/seed > dist/install-run.log 2>&1 || { cat dist/install-run.log >&2; fail "run"; }
grep -qx 'role=webserver' "$root/etc/facts.txt" || fail "facts.txt"
grep -q 'provisioned instance' "$root/etc/motd" || fail "MOTD"
grep -q 'ami: ami-0abcdef1234567890' "$root/etc/motd" || fail "MOTD values"
in_root ec2-boot-init status >/dev/null || fail "status"
# The essentials ran (the debootstrap root has no default user): the seed's key pair is root's.
grep -q 'ExampleKeyOnlyForTheDemo' "$root/root/.ssh/authorized_keys" || fail "the key pair was not installed for root"
# The installed generator, through its link, on a root whose DMI says QEMU: the network units masked.
mkdir -p "$root/tmp/qemu/sys/class/dmi/id" "$root/tmp/gen/normal" "$root/tmp/gen/early" "$root/tmp/gen/late"
echo QEMU > "$root/tmp/qemu/sys/class/dmi/id/sys_vendor"
in_root env EC2BOOT_ROOT=/tmp/qemu /lib/systemd/system-generators/ec2-boot-init-generator /tmp/gen/normal /tmp/gen/early /tmp/gen/late 2>/dev/null \
  || fail "the generator failed"
[ "$(readlink "$root/tmp/gen/early/ec2-boot-init.service")" = /dev/null ] || fail "the generator did not mask the data unit off EC2"
offline=$(readlink "$root/tmp/gen/early/multi-user.target.wants/ec2-boot-init-offline.service")
[ -f "$root$offline" ] || fail "the generator's offline unit link ($offline) names no installed unit"
# The watch unit's ExecCondition: without watch settings it says "nothing to do" (1: the unit is skipped, not failed).
set +e; in_root ec2-boot-init watch --check >/dev/null 2>&1; check=$?; set -e
[ "$check" = 1 ] || fail "watch --check without settings exited $check, not 1"
# Removed, then installed again: the units are enabled again (removal masks them).
in_root dpkg -r ec2-boot-init >/dev/null
[ ! -e "$root/usr/sbin/ec2-boot-init" ] || fail "dpkg -r left the program"
in_root dpkg -i "/tmp/$(basename "$deb")" >/dev/null
for unit in ec2-boot-init.service ec2-boot-init-actions.service ec2-boot-init-watch.service; do
  [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "$unit not enabled after remove and reinstall"
  [ ! -L "$root/etc/systemd/system/$unit" ] || fail "$unit still masked after reinstall"
done
in_root dpkg --purge ec2-boot-init >/dev/null
# The key pair is the account's now, not the package's: purge keeps it (as removing cloud-init does).
grep -q 'ExampleKeyOnlyForTheDemo' "$root/root/.ssh/authorized_keys" || fail "dpkg --purge removed root's authorized_keys"
keys() { grep -vx -e /root/.ssh -e /root/.ssh/authorized_keys; }
after=$(snapshot)
left=$(diff <(echo "$before" | keys) <(echo "$after" | keys) || true)
[ -z "$left" ] || fail "dpkg --purge left: $left"
echo "install test ok: installed into a debootstrap root, ran from the packaged seed, removed and reinstalled, purged without a trace"
