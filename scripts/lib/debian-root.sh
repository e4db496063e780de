# A stock Debian 12 root made by debootstrap, shared by the checks that need one
# (packaging/test.sh, scripts/fresh-check.sh). Source it, then:
#   debian_root DIR [EXTRA PACKAGES…]   debootstrap minbase bookworm into DIR, from this machine's mirror
#   root_mount DIR                      /proc, /sys and /dev inside it (for programs that need them)
#   root_unmount DIR                    undo root_mount; non-zero when something still holds a mount
#   in_root DIR COMMAND…                run COMMAND there as root, with a clean environment
# Needs root and the debootstrap package (installed when missing).

debian_mirror() {
  local mirror
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || { echo "no Debian mirror in this machine's apt sources" >&2; return 1; }
  printf '%s\n' "$mirror"
}

debian_root() {
  local dir=$1; shift
  dpkg -s debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  local mirror include=""
  mirror=$(debian_mirror) || return 1
  [ $# -gt 0 ] && include="--include=$(IFS=,; echo "$*")"
  debootstrap --variant=minbase $include bookworm "$dir" "$mirror" > "$dir.debootstrap.log" 2>&1 \
    || { tail -20 "$dir.debootstrap.log" >&2; return 1; }
  # A root folder is 0755; mktemp -d made DIR 0700, and inside a chroot no user but root could
  # then resolve any path (runuser -u nobody: "Permission denied" on every program).
  chmod 0755 "$dir"
  # As a Debian install leaves them: the host's name resolves, and apt reaches the mirror. With
  # DEBIAN_ROOT_NO_HOST_NAME=1 (scripts/fresh-check.sh) the host's name is left out, as in a fresh
  # debootstrap root or a container: the tests must pass where the machine cannot name itself.
  if [ "${DEBIAN_ROOT_NO_HOST_NAME:-0}" = 1 ]; then
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$dir/etc/hosts"
  else
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s %s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
      "$(hostname -f 2>/dev/null || hostname)" "$(hostname -s 2>/dev/null || hostname)" > "$dir/etc/hosts"
  fi
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  # A chroot has no init: packages must not start their daemons there (they would outlive the check).
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d" && chmod 755 "$dir/usr/sbin/policy-rc.d"
}

root_mount() {
  local dir=$1
  mount -t proc proc "$dir/proc"
  mount -t sysfs sys "$dir/sys"
  mount --rbind /dev "$dir/dev" && mount --make-rslave "$dir/dev"
}

root_unmount() {
  local dir=$1 status=0
  for m in dev sys proc; do
    if mountpoint -q "$dir/$m"; then umount -R "$dir/$m" 2>/dev/null || umount -R -l "$dir/$m" || status=1; fi
  done
  return $status
}

in_root() {
  local dir=$1; shift
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
