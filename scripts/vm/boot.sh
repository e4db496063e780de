#!/usr/bin/env bash
# Boots one disk of scripts/vm/build-image.sh under QEMU (TCG: no hardware virtualisation
# here), until the guest powers off; the guest's report goes to REPORT, its console to REPORT.console.
#   scripts/vm/boot.sh IMAGES DISK REPORT [--ec2 INSTANCE_ID] [--imds PORT] [--append "KERNEL ARGS"] [--disk2 RAW]
# DISK is a qcow2 overlay (made over IMAGES/<name>.img by the caller: a new one is a new first
# boot, the same one a reboot). --imds forwards the guest's 169.254.169.254:80 to 127.0.0.1:PORT,
# the only address the guest can reach (restrict=on). --ec2 gives the guest EC2's DMI
# (Amazon EC2 as vendor, product_uuid and serial starting ec2, the instance id as asset tag);
# without it the guest shows QEMU's own, as a machine off EC2 does. --disk2 attaches a raw disk
# the guest sees as /dev/vdb (an instance store: the metadata's `sdb`, remapped as on KVM).
set -euo pipefail
images=$1 disk=$2 report=$3; shift 3
instance="" imds="" append="" disk2=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ec2) instance=$2; shift 2 ;;
    --imds) imds=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --disk2) disk2=(-drive "file=$2,if=virtio,format=raw"); shift 2 ;;
    *) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
net="user,id=n0,restrict=on,net=169.254.169.0/24,host=169.254.169.1,dhcpstart=169.254.169.15"
# One socat per guest connection (the -cmd: form); QEMU's -tcp: form connects once and never again.
[ -n "$imds" ] && net="$net,guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:$imds"
smbios=()
if [ -n "$instance" ]; then
  uuid="ec2$(printf '%s' "$instance" | sha256sum | cut -c1-5)-$(printf '%s' "$instance" | sha256sum | cut -c6-9)-4000-8000-$(printf '%s' "$instance" | sha256sum | cut -c10-21)"
  smbios=(-smbios "type=1,manufacturer=Amazon EC2,product=t3.micro,serial=$uuid,uuid=$uuid"
          -smbios "type=2,manufacturer=Amazon EC2,asset=$instance" -smbios "type=3,manufacturer=Amazon EC2,asset=Amazon EC2")
fi
: > "$report"
timeout 900 qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 1024 -smp 2 -nodefaults -display none -no-reboot \
  -kernel "$images/vmlinuz" -initrd "$images/initrd.img" \
  -append "root=/dev/vda1 rw console=ttyS0,115200 panic=-1 quiet $append" \
  -drive "file=$disk,if=virtio,format=qcow2" "${disk2[@]}" \
  -netdev "$net" -device virtio-net-pci,netdev=n0 \
  -serial "file:$report.console" -serial "file:$report" \
  "${smbios[@]}"
