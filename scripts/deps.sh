#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing (as root, or through
# sudo when there is one), and the one Python tool Debian does not package (moto) into a
# virtual environment of its own, .venv/ in the clone (Debian's python3 refuses pip installs
# into the system, PEP 668). `scripts/deps.sh --build` installs only what building needs.
set -euo pipefail
cd "$(dirname "$0")/.."
# facter: read back the Facter facts we write; ruby: Ruby tool actions through the shim; python3: the IMDS simulator; util-linux: flock
# (lock test); gzip: compressed user-data; time: GNU time measures each run's peak memory; signify-openbsd: signs action lists and commands;
# zlib1g-dev, libcurl4-openssl-dev, libzookeeper-mt-dev, libyaml-dev: headers for the build (libyaml: our YAML reader's parser); puppetserver, puppet-agent, openssl, curl: the real Puppet
# server and agent the puppet action is tested against (openssl reads the CSR in its autosign policy and makes the brokers' test CA, curl
# waits for servers to answer); rabbitmq-server, activemq: the real brokers the middleware actions and the STOMP client are tested against;
# zookeeper: the real ensemble `watch` and `push` are tested against; python3-kazoo: a second ZooKeeper client that writes commands;
# python3-venv: the virtual environment for moto; systemd: systemd-analyze verifies the units (a minimal root has no systemd);
# cloud-init: its own Python is the reference the cloud-init format tests compare ours with (tools/cloud-init-truth), never run at boot here;
# python3-yaml (PyYAML) and ruby's Psych: the two references our YAML reader is compared with (tools/yaml-truth);
# openssh-client, passwd, fdisk, e2fsprogs: the real ssh-keygen, useradd, sfdisk, mkfs.ext4 the essentials tests run (host keys, default
# user, a disk image's partition grown, an instance store's filesystem).
build=(zlib1g-dev libcurl4-openssl-dev libzookeeper-mt-dev libyaml-dev)
packages=("${build[@]}" facter ruby python3 python3-yaml python3-venv python3-kazoo util-linux gzip time signify-openbsd systemd
          puppetserver puppet-agent openssl curl rabbitmq-server activemq zookeeper cloud-init openssh-client passwd fdisk e2fsprogs)
if [ "${1:-}" = "--build" ]; then packages=("${build[@]}"); fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: run as root, or install sudo, to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Installed only as the tests' reference: it must not take over this machine's next boot.
  if [[ " ${missing[*]} " == *" cloud-init "* ]]; then $SUDO touch /etc/cloud/cloud-init.disabled; fi
fi
[ "${1:-}" = "--build" ] && exit 0

# moto's server: a real S3 on loopback for the s3:// tests (PyPI; Debian does not package it).
# The environment is made from Debian's python3 and sees its packages (kazoo among them); the
# tests run their Python tools with .venv/bin/python3 when it exists.
venv=.venv
if [ ! -x "$venv/bin/python3" ]; then
  echo "making $venv (Debian's python3 -m venv --system-site-packages)"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
if ! "$venv/bin/python3" -c "import moto.server, boto3, flask, kazoo" 2>/dev/null; then
  echo "installing into $venv: moto[server] (pip)"
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check "moto[server]"
fi
