#!/usr/bin/env bash
# Writes docs/help/<command>.txt: each command's --help as the built program prints it at 80
# columns. HelpTextTests compares them whole with the program's, so a change to an option or its
# help shows in the diff of a pull request. Run after changing a command's options or help:
#   swift build && bash scripts/help-texts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/ec2-boot-init}
for command in "" run status query validate fetch clean schema watch push nodes; do
  COLUMNS=80 "$binary" $command --help > "docs/help/${command:-ec2-boot-init}.txt"
done
echo "help texts: $(ls docs/help | wc -l) files in docs/help"
