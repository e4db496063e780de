#!/usr/bin/env bash
# Installs what the tests need (Debian 12) and runs them. Used by CI (.ci/run) too.
#   scripts/test.sh          all three tiers: unit, process, peers
#   scripts/test.sh --fast   unit and process only (no puppetserver, brokers, ZooKeeper or S3)
# Each suite is nested in its tier (Tests/EC2BootKitTests/Support/Tiers.swift), so its test ids
# begin with the tier's name, which is what --skip matches.
set -euo pipefail
cd "$(dirname "$0")/.."

skip=()
case "${1:-}" in
  "") ;;
  --fast) skip=(--skip 'EC2BootKitTests\.PeerTier/') ;;
  *) echo "usage: scripts/test.sh [--fast]" >&2; exit 2 ;;
esac

bash scripts/deps.sh

# CONTRIBUTING.md's rule: no function or closure in Sources/ over 60 lines (fails before the build).
python3 scripts/function-length.py

swift build --build-tests
swift test "${skip[@]}"
