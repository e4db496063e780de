#!/bin/sh
# A hosted action: `type: hello` in user-data runs this. Parameters arrive as JSON on
# stdin and as EC2BOOT_PARAM_<NAME>; the run's data through `ec2-boot-init query`.
set -eu
greeting="${EC2BOOT_PARAM_GREETING:-hello}"
ami="$(ec2-boot-init query --root "$EC2BOOT_ROOT" ami_id)"
echo "$greeting from $(hostname) running $ami"
echo "$greeting" > "$EC2BOOT_ROOT/etc/hello.txt"
