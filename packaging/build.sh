#!/usr/bin/env bash
# Builds the .deb and the .rpm into dist/ from this checkout: a release binary with the Swift
# runtime linked in (--static-swift-stdlib), stripped; the man page from the argument parser;
# the .deb with dpkg-deb and the .rpm with rpmbuild (Debian's `rpm` package), no network needed.
#   packaging/build.sh            (installs dpkg-dev's and rpm's tools when missing, as deps.sh does)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dist=$repo/dist
need=()
for p in rpm binutils dpkg-dev; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/deps.sh --build

# Its own scratch folder, so the suite's debug build in .build is neither replaced nor reused.
# All three programs: ec2-boot-init, and the helpers it runs (ec2-boot-init-watch: ZooKeeper;
# ec2-boot-init-broker: SwiftNIO and TLS), so a boot never loads what only they use.
swift build -c release --static-swift-stdlib --scratch-path .build-static
binary=.build-static/release/ec2-boot-init
version=$("$binary" --version)
arch=$(dpkg --print-architecture)
date=$(git log -1 --format=%cs 2>/dev/null || date +%F)

rm -rf "$dist" && mkdir -p "$dist"
stage=$dist/stage
install -d -m 0755 "$stage"/usr/sbin "$stage"/usr/libexec/ec2-boot-init "$stage"/usr/lib/ec2-boot-init "$stage"/lib/systemd/system "$stage"/lib/systemd/system-generators \
  "$stage"/usr/share/man/man8 \
  "$stage"/etc/ec2-boot-init/actions "$stage"/var/spool/ec2boot "$stage"/usr/share/doc/ec2-boot-init
install -m 0755 "$binary" "$stage"/usr/sbin/ec2-boot-init
strip --strip-unneeded "$stage"/usr/sbin/ec2-boot-init
for helper in ec2-boot-init-watch ec2-boot-init-broker; do
  install -m 0755 .build-static/release/$helper "$stage"/usr/libexec/ec2-boot-init/$helper
  strip --strip-unneeded "$stage"/usr/libexec/ec2-boot-init/$helper
done
install -m 0644 systemd/ec2-boot-init.service systemd/ec2-boot-init-actions.service systemd/ec2-boot-init-watch.service \
  systemd/ec2-boot-init-offline.service "$stage"/lib/systemd/system/
# The generator is the binary itself, under the name systemd runs it by (it decides EC2 or not
# from DMI before any unit starts; see docs/metadata.md, "Platform detection").
ln -s /usr/sbin/ec2-boot-init "$stage"/lib/systemd/system-generators/ec2-boot-init-generator
install -m 0644 packaging/etc/config.yaml packaging/etc/motd.provisioned packaging/etc/motd.unprovisioned "$stage"/etc/ec2-boot-init/
# The demo seed, so `ec2-boot-init run --seed /usr/lib/ec2-boot-init/examples/seed --root DIR` works on an image.
cp -r examples "$stage"/usr/lib/ec2-boot-init/ && find "$stage"/usr/lib/ec2-boot-init -type f -exec chmod 0644 {} + \
  && find "$stage"/usr/lib/ec2-boot-init -type d -exec chmod 0755 {} +

# The man page, section 8 (an administrator's command), from the same parser as --help:
# argument-parser's own generate-manual tool (what its GenerateManual plugin runs) reads the
# release binary's --experimental-dump-help. Built alone (about 40 s): the plugin would first
# build the whole package again in its own configuration (5-7 min).
# A blank line is not mdoc (groff warns); a paragraph break (.Pp) is what the help text meant.
swift build -c release --package-path .build-static/checkouts/swift-argument-parser \
  --scratch-path .build-static/generate-manual --product generate-manual >/dev/null
manual=$(mktemp -d)
.build-static/generate-manual/release/generate-manual "$binary" --section 8 --date "$date" --output-directory "$manual"
sed 's/^$/.Pp/' "$manual"/ec2-boot-init.8 | gzip -9n > "$stage"/usr/share/man/man8/ec2-boot-init.8.gz
rm -rf "$manual"
chmod 0644 "$stage"/usr/share/man/man8/ec2-boot-init.8.gz

# Debian's doc files: copyright and changelog.
cat > "$stage"/usr/share/doc/ec2-boot-init/copyright <<DOC
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ec2-boot-init
Source: https://github.com/ripienaar/ec2-boot-init

Files: *
Copyright: 2026 the ec2-boot-init developers
License: unspecified
 No license has been chosen for this Swift successor yet (see packaging/README.md).
DOC
printf 'ec2-boot-init (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- ec2-boot-init developers <ec2-boot-init@users.noreply.github.com>  %s\n' \
  "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(date -R -d "$date")" | gzip -9n > "$stage"/usr/share/doc/ec2-boot-init/changelog.gz
chmod 0644 "$stage"/usr/share/doc/ec2-boot-init/*

# .deb
deb=$dist/debroot
cp -a "$stage" "$deb"
install -d -m 0755 "$deb"/DEBIAN
size=$(du -sk --exclude=DEBIAN "$deb" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/deb/control > "$deb"/DEBIAN/control
install -m 0644 packaging/deb/conffiles "$deb"/DEBIAN/conffiles
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$deb"/DEBIAN/
(cd "$deb" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$deb"/DEBIAN/md5sums
chmod 0644 "$deb"/DEBIAN/md5sums
dpkg-deb --root-owner-group -Zxz -z9 --build "$deb" "$dist/ec2-boot-init_${version}_${arch}.deb" >/dev/null
rm -rf "$deb"

# .rpm
top=$dist/rpmbuild
mkdir -p "$top"/{BUILD,RPMS,SOURCES,SPECS,SRPMS,BUILDROOT}
rpmbuild -bb --quiet --target "$(uname -m)" --define "_topdir $top" --define "stage $stage" --define "version $version" \
  --define "_build_id_links none" packaging/rpm/ec2-boot-init.spec >/dev/null
mv "$top"/RPMS/*/ec2-boot-init-"$version"-1.*.rpm "$dist"/
rm -rf "$top" "$stage"

ls -l "$dist"
