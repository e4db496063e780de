#!/usr/bin/env bash
# Builds the disk images the boot scenarios boot (root needed; Debian's packages only):
#   scripts/vm/build-image.sh DIR [--cloud-init] [--previous DEB]
# DIR/agent.img: Debian 12 (systemd, udev, networkd DHCP, Debian's kernel) with the .deb from
# dist/ installed by dpkg; DIR/bare.img: the same without the agent; with --cloud-init also
# DIR/cloud-init.img: Debian's cloud-init, Ec2 datasource only. DIR/vmlinuz and DIR/initrd.img
# for a direct kernel boot. Each image reports its boot on its second serial port and powers
# off (scripts/vm/report.sh); scripts/vm/boot.sh boots one. With --cloud-init also DIR/both.img:
# cloud-init's image with our agent installed beside it. With --previous DEB also DIR/previous.img:
# the agent image made with an earlier version's .deb (the upgrade scenario upgrades it in place).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=$(realpath -m "${1:?usage: scripts/vm/build-image.sh DIR [--cloud-init] [--previous DEB]}")
shift
with_cloud_init="" previous=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cloud-init) with_cloud_init=--cloud-init; shift ;;
    --previous) previous=$(realpath "$2"); shift 2 ;;
    *) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
deb=$(ls "$repo"/dist/ec2-boot-init_*.deb 2>/dev/null | head -1 || true)
[ -n "$deb" ] || { echo "no dist/ec2-boot-init_*.deb: run packaging/build.sh first" >&2; exit 2; }
. scripts/lib/debian-root.sh
mkdir -p "$out"
base=$out/root-base
rm -rf "$base" "$out"/*.img
start=$(date +%s)
# openssh-server: its postinst makes the image's own host keys, which each instance must replace.
# fdisk (sfdisk), as in every Debian image: what grows the root partition on a bigger disk.
# curl, as cloud images have it: what the upgrade scenario's action fetches the new .deb with.
debian_root "$base" systemd-sysv udev dbus linux-image-amd64 iproute2 e2fsprogs fdisk libcurl4 zlib1g libzookeeper-mt2 libyaml-0-2 ca-certificates openssh-server curl
echo "vm: debootstrap $(( $(date +%s) - start )) s"

# What a cloud image sets up, and what TCG needs to stay quick (see the notes in README's VM section).
echo vm > "$base/etc/hostname"
echo '/dev/vda1 / ext4 rw,relatime 0 1' > "$base/etc/fstab"
echo 'LANG=C.UTF-8' > "$base/etc/default/locale"
printf '[Match]\nName=en*\n\n[Network]\nDHCP=ipv4\n' > "$base/etc/systemd/network/80-dhcp.network"
mkdir -p "$base/etc/systemd/system/systemd-networkd-wait-online.service.d"
# The contained network has no DNS and one interface: online is one interface up, bounded.
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20\n' \
  > "$base/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf"
systemctl --root="$base" enable systemd-networkd.service >/dev/null 2>&1
systemctl --root="$base" mask e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
install -m 0755 scripts/vm/report.sh "$base/usr/local/sbin/vm-report"
# Type=simple: its start job ends at once, so the boot can finish while it waits for that.
printf '[Unit]\nDescription=Report the boot on ttyS1, then power off\nAfter=multi-user.target\n\n[Service]\nType=simple\nExecStart=/usr/local/sbin/vm-report\n\n[Install]\nWantedBy=multi-user.target\n' \
  > "$base/etc/systemd/system/vm-report.service"
printf '[Unit]\nDescription=Watch the actions stage for the report\n\n[Service]\nType=simple\nExecStart=/usr/local/sbin/vm-report observe\n\n[Install]\nWantedBy=multi-user.target\n' \
  > "$base/etc/systemd/system/vm-observe.service"
systemctl --root="$base" enable vm-report.service vm-observe.service >/dev/null 2>&1
cp "$base"/boot/vmlinuz-* "$out/vmlinuz"
cp "$base"/boot/initrd.img-* "$out/initrd.img"
chmod 0644 "$out/vmlinuz" "$out/initrd.img"

# image NAME ROOT: a 2 GiB disk as a cloud image is: a GPT with one partition from 1 MiB to the
# end, ext4 of ROOT in it (without the build's chroot helpers). A scenario's bigger disk then has
# room after it, which the essentials grow into.
image() {
  rm -f "$2/usr/sbin/policy-rc.d"
  truncate -s 0 "$out/$1.img" && truncate -s 2G "$out/$1.img"
  printf 'label: gpt\nstart=2048, type=linux\n' | sfdisk -q "$out/$1.img"
  local start size
  read -r start size < <(sfdisk --json "$out/$1.img" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"][0]; print(p["start"], p["size"])')
  truncate -s 0 "$out/$1.root" && truncate -s $(( size * 512 )) "$out/$1.root"
  mkfs.ext4 -q -F -L root -d "$2" "$out/$1.root"
  dd if="$out/$1.root" of="$out/$1.img" bs=1M seek=$(( start / 2048 )) conv=notrunc,sparse status=none
  rm -f "$out/$1.root"
}
image bare "$base"

agent=$out/root-agent
cp -a "$base" "$agent"
cp "$deb" "$agent/tmp/agent.deb"
in_root "$agent" dpkg -i /tmp/agent.deb >/dev/null
rm "$agent/tmp/agent.deb"
# A hung action is ended by the unit's own timeout in scenario 6; 6 h is too long for a test.
mkdir -p "$agent/etc/systemd/system/ec2-boot-init-actions.service.d"
printf '[Service]\nTimeoutStartSec=45\n' > "$agent/etc/systemd/system/ec2-boot-init-actions.service.d/vm-test.conf"
# As an image builder without cloud-init sets it (packaging/README.md): Debian's AMIs' default user.
printf 'default_user:\n  name: admin\n  gecos: Debian\n  groups: [adm, sudo]\n  sudo: ALL=(ALL) NOPASSWD:ALL\n' >> "$agent/etc/ec2-boot-init/config.yaml"
# The image's own host keys, which no instance may keep (the essentials scenario compares).
for f in "$agent"/etc/ssh/ssh_host_*_key.pub; do echo "$(basename "$f") $(sha256sum < "$f" | cut -c1-64)"; done > "$out/image-host-keys"
image agent "$agent"

if [ "$with_cloud_init" = --cloud-init ]; then
  ci=$out/root-cloud-init
  cp -a "$base" "$ci"
  printf '#!/bin/sh\nexit 101\n' > "$ci/usr/sbin/policy-rc.d" && chmod 755 "$ci/usr/sbin/policy-rc.d"
  root_mount "$ci"
  in_root "$ci" apt-get update -qq >/dev/null
  # cloud-guest-utils: growpart, which cloud-init's growpart module runs (Debian's cloud images have it).
  in_root "$ci" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cloud-init cloud-guest-utils >/dev/null
  root_unmount "$ci"
  printf 'datasource_list: [ Ec2 ]\n' > "$ci/etc/cloud/cloud.cfg.d/90-ec2.cfg"
  # both.img: cloud-init enabled and our agent installed beside it (ours must do no essential).
  both=$out/root-both
  cp -a "$ci" "$both"
  cp "$deb" "$both/tmp/agent.deb"
  in_root "$both" dpkg -i /tmp/agent.deb >/dev/null
  rm "$both/tmp/agent.deb"
  cp "$agent/etc/ec2-boot-init/config.yaml" "$both/etc/ec2-boot-init/config.yaml"
  image cloud-init "$ci"
  image both "$both"
  rm -rf "$ci" "$both"
fi
if [ -n "$previous" ]; then
  # An image as it was made with the earlier version: its package and its own config.yaml.
  old=$out/root-previous
  cp -a "$base" "$old"
  cp "$previous" "$old/tmp/agent.deb"
  in_root "$old" dpkg -i /tmp/agent.deb >/dev/null
  rm "$old/tmp/agent.deb"
  image previous "$old"
  rm -rf "$old"
fi
rm -rf "$base" "$agent"
echo "vm: images in $out ($(ls "$out"/*.img | xargs -n1 basename | tr '\n' ' ')) in $(( $(date +%s) - start )) s"
