#!/usr/bin/env bash
# Installs what the tests need (Debian 12) and runs them all. Used by CI (.ci/run) too.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

swift build --build-tests
swift test
