#!/bin/sh
# Inside the VM (installed as /usr/local/sbin/vm-report by scripts/vm/build-image.sh): waits until
# the boot is finished (systemctl is-system-running leaves "starting": every job of every agent
# done) or 240 s pass, writes what the host asserts on to the second serial port as "key value"
# lines and "== section" blocks, then powers off. While an actions stage still runs, it records
# `ec2-boot-init status` once (the hung-action scenario): `vm-report observe`, run by its own unit
# from early on, since multi-user.target waits for the actions stage and this report for it.
out=/dev/ttyS1
uptime() { awk '{printf "%d", $1}' /proc/uptime; }
if [ "${1:-}" = observe ]; then
  while [ ! -e /var/tmp/vm-marks/hang-started ] && [ "$(uptime)" -lt 300 ]; do sleep 0.5; done
  [ -e /var/tmp/vm-marks/hang-started ] && { ec2-boot-init status 2>&1; echo "exit=$?"; } > /run/vm-during
  exit 0
fi
units="ec2-boot-init.service ec2-boot-init-actions.service ec2-boot-init-offline.service ec2-boot-init-watch.service systemd-user-sessions.service
network-online.target multi-user.target cloud-init-local.service cloud-init.service cloud-config.service cloud-final.service"
# Bounded in guest seconds: TCG makes every systemctl call slow, so a count of loops is no clock.
while [ "$(systemctl is-system-running 2>/dev/null)" = starting ] && [ "$(uptime)" -lt 300 ]; do sleep 0.2; done
{
  echo "state $(systemctl is-system-running 2>/dev/null)"
  echo "finished_us $(awk '{printf "%d", $1 * 1000000}' /proc/uptime)"
  for u in $units; do
    p() { v=$(systemctl show -p "$1" --value "$u" 2>/dev/null); echo "${v:-$2}"; }
    echo "unit $u load=$(p LoadState -) active=$(p ActiveState -) result=$(p Result -) cond=$(p ConditionResult -)" \
      "started_us=$(p InactiveExitTimestampMonotonic 0)" \
      "active_us=$(p ActiveEnterTimestampMonotonic 0) exited_us=$(p ExecMainExitTimestampMonotonic 0)"
  done
  echo "== analyze"; systemd-analyze 2>&1
  echo "== blame"; systemd-analyze blame 2>&1 | head -25
  echo "== critical-chain"; systemd-analyze critical-chain multi-user.target 2>&1 | head -25
  echo "== motd"; cat /etc/motd 2>&1
  echo "== facts"; cat /etc/facts.txt 2>&1
  echo "== status"; ec2-boot-init status --json 2>&1; echo "exit=$?"
  echo "== during"; cat /run/vm-during 2>/dev/null
  echo "== marks"; for f in /var/tmp/vm-marks/*; do [ -e "$f" ] && echo "$(basename "$f") $(cat "$f" | tr '\n' ' ')"; done
  echo "== ssh"
  for f in /etc/ssh/ssh_host_*_key.pub; do [ -e "$f" ] && echo "key $(basename "$f") $(sha256sum < "$f" | cut -c1-64)"; done
  echo "passwd $(getent passwd admin)"; echo "groups $(id -nG admin 2>&1)"; echo "shadow $(getent shadow admin | cut -d: -f2)"
  echo "sudoers $(cat /etc/sudoers.d/90-ec2-boot-init-users 2>/dev/null | tail -1)"
  echo "admin-keys $(cat /home/admin/.ssh/authorized_keys 2>/dev/null | tr '\n' ' ')"
  echo "root-redirect $(grep -c 'Please login as the user' /root/.ssh/authorized_keys 2>/dev/null)"
  echo "sshd $(systemctl is-active ssh.service)"
  echo "== accounts"
  for u in deploy svc; do getent passwd "$u"; echo "groups-$u $(id -nG "$u" 2>/dev/null)"; echo "shadow-$u $(getent shadow "$u" | cut -d: -f2 | cut -c1-1)"; done
  getent group deployers
  grep -h '^deploy ' /etc/sudoers.d/* 2>/dev/null | sed 's/^/sudo /'
  echo "deploy-keys $(cat /home/deploy/.ssh/authorized_keys 2>/dev/null | tr '\n' ' ')"
  echo "deploy-home $(stat -c '%a %U:%G' /home/deploy 2>/dev/null) svc-home $(stat -c '%a' /home/svc 2>/dev/null || echo none)"
  echo "== disk"
  echo "disk-bytes $(lsblk -bdno SIZE /dev/vda)"; echo "root-part-bytes $(lsblk -bdno SIZE /dev/vda1)"
  echo "root-fs-bytes $(df -B1 --output=size / | tail -1 | tr -d ' ')"
  echo "mnt $(findmnt -no SOURCE,FSTYPE /mnt 2>/dev/null | tr -s ' ')"
  if mountpoint -q /mnt; then date +%s >> /mnt/vm-boots; echo "mnt-boots $(wc -l < /mnt/vm-boots)"; fi
  echo "fstab-ours $(grep -e comment=ec2-boot-init -e comment=cloudconfig /etc/fstab | tr '\t' ' ' | paste -sd';')"
  echo "== mounts"
  grep -e comment=ec2-boot-init -e comment=cloudconfig /etc/fstab | tr '\t' ' ' | sed 's/^/fstab /'
  echo "scratch $(findmnt -no SOURCE,FSTYPE,OPTIONS /scratch 2>/dev/null | tr -s ' ')"
  echo "swapfile $(stat -c '%a %s' /swapfile 2>/dev/null) $(awk '$1 == "/swapfile" {print $2, $3}' /proc/swaps)"
  echo "version $(ec2-boot-init --version 2>/dev/null)"
  echo "== essentials"; journalctl -b -o cat --no-pager -u ec2-boot-init.service 2>&1 | grep -e 'essentials' -e 'growpart' -e 'resize_rootfs' -e 'instance store'
  if command -v cloud-init >/dev/null; then echo "== cloud-init-blame"; cloud-init analyze blame 2>&1 | head -40; fi
  echo "== journal"; journalctl -b -o short-monotonic --no-pager -u 'ec2-boot-init*' 2>&1 | tail -60
  journalctl -b -o short-monotonic --no-pager 2>&1 | grep ec2-boot-init-generator
  echo "== end"
} > $out 2>&1
systemctl poweroff
