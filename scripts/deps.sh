#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing (as root or through sudo).
# `scripts/deps.sh --build` installs only what building needs.
set -euo pipefail
# facter: read back the Facter facts we write; ruby: Ruby tool actions through the shim; python3: the IMDS simulator; util-linux: flock
# (lock test); gzip: compressed user-data; time: GNU time measures each run's peak memory; signify-openbsd: signs action lists; zlib1g-dev, libcurl4-openssl-dev:
# headers for the build; puppetserver, puppet-agent, openssl, curl: the real Puppet server and agent the puppet action is tested
# against (openssl reads the CSR in its autosign policy and makes the brokers' test CA, curl waits for servers to answer);
# rabbitmq-server, activemq: the real brokers the middleware actions and the STOMP client are tested against;
# zookeeper, libzookeeper-mt-dev: the real ensemble `watch` and `push` are tested against, and its C client they build on.
packages=(facter ruby python3 util-linux gzip time signify-openbsd zlib1g-dev libcurl4-openssl-dev
          puppetserver puppet-agent openssl curl rabbitmq-server activemq zookeeper libzookeeper-mt-dev)
if [ "${1:-}" = "--build" ]; then packages=(zlib1g-dev libcurl4-openssl-dev libzookeeper-mt-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# moto's server: a real S3 on loopback for the s3:// tests (PyPI; Debian does not package it).
if [ "${1:-}" != "--build" ] && ! python3 -c "import moto.server, boto3, flask" 2>/dev/null; then
  echo "installing: moto[server] (pip)"
  python3 -m pip install -q "moto[server]"
fi
# kazoo: a second, independent ZooKeeper client that writes commands in the watch tests (PyPI).
if [ "${1:-}" != "--build" ] && ! python3 -c "import kazoo" 2>/dev/null; then
  echo "installing: kazoo (pip)"
  python3 -m pip install -q kazoo
fi
