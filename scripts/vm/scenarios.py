#!/usr/bin/env python3
"""The first-boot scenarios on a real booting VM, each asserted from the guest's own report.

    scripts/vm/scenarios.py IMAGES [SCENARIO ...]     (IMAGES from scripts/vm/build-image.sh)
    scripts/vm/scenarios.py IMAGES --try USER_DATA [ACTIONS_DIR]
                                                     boot your own user-data once, as EC2, and print the report

Scenarios: ec2-first-boot, reboot, new-instance, late-metadata, not-ec2, no-actions, cloud-init,
hung-action, essentials, users-groups, beside-cloud-init, upgrade (default:
all, in that order: the second and third reuse the first one's disk; essentials and users-groups
share their users-ours and users-cloud-init boots; upgrade needs EC2BOOT_PREVIOUS_DEB at image time). The metadata service is
tools/imds-simulator on 127.0.0.1, which also serves the action list; the guest reaches it as
169.254.169.254 and nothing else. Python's standard library only (Debian's python3).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMULATOR = os.path.join(REPO, "tools", "imds-simulator", "imds_sim.py")
BOOT = os.path.join(REPO, "scripts", "vm", "boot.sh")
MARKS = "mkdir -p /var/tmp/vm-marks && "

USER_DATA = """\
facts:
  role: vm-test
actions:
  - type: getactions
    url: http://169.254.169.254/files/list.txt
  - type: hello
  - type: shell
    command: "%secho x >> /var/tmp/vm-marks/per-instance"
  - type: shell
    frequency: per-boot
    command: "%secho x >> /var/tmp/vm-marks/per-boot"
""" % (MARKS, MARKS)

HUNG = """\
actions:
  - type: shell
    command: "%stouch /var/tmp/vm-marks/hang-started; sleep 3600"
""" % MARKS

# cloud-init's formats as an EC2 user gives them: a MIME multipart with a cloud-config (modules we
# implement, and `timezone`, which we do not), script parts named out of order (cloud-init runs its
# scripts folder sorted by name, runcmd's script among them), a per-boot part, a boothook with a
# blank line before its #!, and EKS's foreign part; served with CRLF line endings (saved on Windows).
CLOUD_INIT = """\
Content-Type: multipart/mixed; boundary="==VM=="
MIME-Version: 1.0

--==VM==
Content-Type: text/cloud-config; charset="us-ascii"

#cloud-config
bootcmd:
  - mkdir -p /var/tmp/vm-marks && echo x >> /var/tmp/vm-marks/bootcmd
write_files:
  - path: /var/tmp/vm-marks/written
    content: "x\\n"
    permissions: '0600'
hostname: web1
fqdn: web1.example.com
manage_etc_hosts: true
runcmd:
  - echo x >> /var/tmp/vm-marks/runcmd
  - [sh, -c, '[ "$(hostname)" = web1 ] && echo x >> /var/tmp/vm-marks/hostname-web1']
  - grep -q '^127.0.1.1 web1.example.com web1$' /etc/hosts && echo x >> /var/tmp/vm-marks/etc-hosts
  - echo runcmd >> /var/tmp/vm-marks/order
timezone: Europe/Paris
--==VM==
Content-Type: text/x-shellscript

#!/bin/sh
echo x >> /var/tmp/vm-marks/script-part
--==VM==
Content-Type: text/x-shellscript; charset="us-ascii"
Content-Disposition: attachment; filename="node-init.sh"

#!/bin/bash
[[ -n $BASH_VERSION ]] && echo node-init.sh >> /var/tmp/vm-marks/order
--==VM==
Content-Type: text/x-shellscript; charset="us-ascii"
Content-Disposition: attachment; filename="01-disks.sh"

#!/bin/sh
echo 01-disks.sh >> /var/tmp/vm-marks/order
--==VM==
Content-Type: text/x-shellscript; charset="us-ascii"
Content-Disposition: attachment; filename="Join.sh"

#!/bin/sh
echo Join.sh >> /var/tmp/vm-marks/order
--==VM==
Content-Type: text/cloud-boothook

#cloud-boothook

#!/bin/bash
mkdir -p /var/tmp/vm-marks && [[ -n $BASH_VERSION ]] && echo x >> /var/tmp/vm-marks/boothook
--==VM==
Content-Type: text/x-shellscript-per-boot

#!/bin/sh
echo x >> /var/tmp/vm-marks/per-boot-part
--==VM==
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
--==VM==
Content-Type: text/x-ec2-boot-init

facts:
  role: vm-test
--==VM==--
"""

HELLO = "#!/bin/sh\nmkdir -p /var/tmp/vm-marks && echo x >> /var/tmp/vm-marks/hello\n"


class Simulator:
    """The IMDS simulator with the action files, on a free 127.0.0.1 port."""

    def __init__(self, work, user_data, instance_id, extra=()):
        served = os.path.join(work, "served")
        os.makedirs(served, exist_ok=True)
        with open(os.path.join(served, "list.txt"), "w") as f:
            f.write("hello\n")
        with open(os.path.join(served, "hello"), "w") as f:
            f.write(HELLO)
        given = []
        if user_data is not None:  # None: no user-data (the service answers 404)
            ud = os.path.join(work, "user-data-" + instance_id)
            with open(ud, "w") as f:
                f.write(user_data)
            given = ["--user-data", ud]
        self.process = subprocess.Popen(
            [sys.executable, SIMULATOR, "--port", "0", *given, "--instance-id", instance_id,
             "--serve", served, *extra], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("the simulator did not start: %r" % line)
        self.port = int(line.split()[1])

    def stats(self):
        out = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/_sim/stats" % self.port], capture_output=True, text=True)
        return json.loads(out.stdout)

    def stop(self):
        self.process.kill()
        self.process.wait()


class Report:
    """The guest's report: `key value` lines, `unit NAME k=v …` lines, `== section` blocks."""

    def __init__(self, path):
        self.path = path
        self.text = open(path, errors="replace").read()
        self.values, self.units, self.sections = {}, {}, {}
        section = None
        for line in self.text.splitlines():
            if line.startswith("== "):
                section = line[3:].strip()
                self.sections[section] = []
            elif section is not None:
                self.sections[section].append(line)
            elif line.startswith("unit "):
                parts = line.split()
                self.units[parts[1]] = dict(p.split("=", 1) for p in parts[2:])
            elif " " in line:
                key, value = line.split(" ", 1)
                self.values[key] = value.strip()

    def section(self, name):
        return "\n".join(self.sections.get(name, []))

    def unit_us(self, unit, key):
        return int(self.units.get(unit, {}).get(key, "0") or 0)

    def marks(self):
        found = {}
        for line in self.sections.get("marks", []):
            if line.strip():
                name, _, rest = line.partition(" ")
                found[name] = rest.split().count("x") if name != "hang-started" else 1
        return found

    def mark_words(self, name):
        """The words of one mark file, in order (its lines joined by report.sh)."""
        for line in self.sections.get("marks", []):
            found, _, rest = line.partition(" ")
            if found == name:
                return rest.split()
        return []


class Run:
    def __init__(self, images):
        self.images = images
        self.work = tempfile.mkdtemp(prefix="ec2boot-vm-")
        self.failures = []
        self.last_report = None   # a failed check prints the report of its scenario's last boot
        self.shared = {}

    def disk(self, name, image="agent", size=None):
        """A new first boot's disk over the image (2 GiB), `size` bigger when given (e.g. "4G")."""
        path = os.path.join(self.work, name + ".qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", os.path.join(self.images, image + ".img"),
                        "-F", "raw", path] + ([size] if size else []), check=True)
        return path

    def instance_store(self, name, size="256M"):
        """A raw ext4 disk, as an instance store comes on EC2's older types (formatted)."""
        path = os.path.join(self.work, name + ".raw")
        subprocess.run(["truncate", "-s", size, path], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "ephemeral0", path], check=True)
        return path

    def boot(self, disk, label, instance=None, sim=None, append="", disk2=None):
        report = os.path.join(self.work, label + ".report")
        argv = ["bash", BOOT, self.images, disk, report]
        if instance:
            argv += ["--ec2", instance]
        if sim:
            argv += ["--imds", str(sim.port)]
        if append:
            argv += ["--append", append]
        if disk2:
            argv += ["--disk2", disk2]
        start = time.monotonic()
        subprocess.run(argv, check=True)
        print("  %s: booted and powered off in %.1f s (host)" % (label, time.monotonic() - start), flush=True)
        self.last_report = Report(report)
        return self.last_report

    def boot_served(self, disk, label, instance, user_data, extra=(), disk2=None):
        """One boot as EC2 with its own simulator serving `user_data`: the report, and what the
        simulator counted (taken before it stops)."""
        sim = Simulator(self.work, user_data, instance, extra=extra)
        try:
            return self.boot(disk, label, instance=instance, sim=sim, disk2=disk2), sim.stats()
        finally:
            sim.stop()

    def check(self, scenario, ok, what, report=None):
        print("  %s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        if not ok:
            self.failures.append("%s: %s" % (scenario, what))
            report = report or self.last_report
            if report is not None:
                print("---- status ----\n%s\n---- essentials ----\n%s" % (report.section("status"), report.section("essentials")))
                print("---- report ----\n%s\n---- end ----" % report.text[-6000:], flush=True)


def no_retries(stats):
    """Every metadata and file path asked once (the token PUT aside): the boot ran as intended."""
    repeated = {p: n for p, n in stats["by_path"].items() if n > 1 and not p.endswith("/api/token")}
    return not repeated, repeated


def common_first_boot(run, name, report, stats, instance):
    """What every provisioned first boot shows."""
    run.check(name, report.values.get("state") == "running", "the boot finished: state %s" % report.values.get("state"), report)
    data_exit = report.unit_us("ec2-boot-init.service", "exited_us")
    logins = report.unit_us("systemd-user-sessions.service", "active_us")
    run.check(name, 0 < data_exit <= logins, "the data stage ended (%d ms) before logins opened (%d ms)" % (data_exit // 1000, logins // 1000))
    actions_start = report.unit_us("ec2-boot-init-actions.service", "started_us")
    online = report.unit_us("network-online.target", "active_us")
    run.check(name, 0 < online <= actions_start, "the actions stage started after network-online.target")
    run.check(name, "role=vm-test" in report.section("facts"), "facts.txt has the user-data's facts")
    motd = report.section("motd")
    run.check(name, "provisioned instance" in motd and instance in motd, "the MOTD is the provisioned one, naming %s" % instance, report)
    run.check(name, "exit=0" in report.section("status"), "status exits 0 when the actions are done")
    ok, repeated = no_retries(stats)
    run.check(name, ok, "every path asked once, no retries %s" % (repeated or ""))


def ec2_first_boot(run):
    run.first_disk = run.disk("first")
    report, stats = run.boot_served(run.first_disk, "ec2-first-boot", "i-0aaaaaaaaaaaaaaa1", USER_DATA)
    common_first_boot(run, "ec2-first-boot", report, stats, "i-0aaaaaaaaaaaaaaa1")
    marks = report.marks()
    run.check("ec2-first-boot", marks == {"hello": 1, "per-instance": 1, "per-boot": 1},
              "the hosted action from the list, the per-instance and the per-boot action ran once: %s" % marks, report)
    by_path = stats["by_path"]
    run.check("ec2-first-boot", by_path.get("/files/list.txt") == 1 and by_path.get("/files/hello") == 1,
              "the action list and its file were fetched from the host")


def reboot(run):
    report, _ = run.boot_served(run.first_disk, "reboot", "i-0aaaaaaaaaaaaaaa1", USER_DATA)
    marks = report.marks()
    run.check("reboot", marks.get("per-instance") == 1 and marks.get("hello") == 1,
              "per-instance actions did not run again: %s" % marks, report)
    run.check("reboot", marks.get("per-boot") == 2, "the per-boot action ran again")
    run.check("reboot", "provisioned instance" in report.section("motd"), "the MOTD is still the provisioned one")


def new_instance(run):
    report, _ = run.boot_served(run.first_disk, "new-instance", "i-0bbbbbbbbbbbbbbb2", USER_DATA)
    marks = report.marks()
    run.check("new-instance", marks.get("per-instance") == 2 and marks.get("hello") == 2,
              "a new instance id on the same disk provisions again: %s" % marks, report)
    run.check("new-instance", "i-0bbbbbbbbbbbbbbb2" in report.section("motd"), "the MOTD names the new instance")


def late_metadata(run):
    report, stats = run.boot_served(run.disk("late"), "late-metadata", "i-0ccccccccccccccc3", USER_DATA,
                                    extra=["--down-seconds", "10"])
    refused = stats["down_refused"]
    run.check("late-metadata", refused > 0, "the metadata service refused %d requests in its first 10 s" % refused)
    run.check("late-metadata", "provisioned instance" in report.section("motd"), "the boot waited and succeeded", report)
    data_start = report.unit_us("ec2-boot-init.service", "started_us")
    logins = report.unit_us("systemd-user-sessions.service", "active_us")
    run.check("late-metadata", logins - data_start < 180_000_000,
              "logins opened %.1f s after the data stage started (its bound is 180 s)" % ((logins - data_start) / 1e6))


def not_ec2(run):
    report = run.boot(run.disk("not-ec2"), "not-ec2")
    units = report.units
    masked = [u for u in ("ec2-boot-init.service", "ec2-boot-init-actions.service", "ec2-boot-init-watch.service")
              if units.get(u, {}).get("load") == "masked"]
    run.check("not-ec2", len(masked) == 3, "the generator masked the network-ordered units: %s" % masked, report)
    run.check("not-ec2", units.get("ec2-boot-init-offline.service", {}).get("active") == "active", "the offline unit ran")
    run.check("not-ec2", report.unit_us("network-online.target", "active_us") == 0, "nothing waited for network-online.target")
    motd = report.section("motd")
    run.check("not-ec2", "no instance data" in motd and "not EC2" in motd, "the MOTD says why: not EC2")
    status = report.section("status")
    run.check("not-ec2", '"status" : "disabled"' in status and "not EC2" in status and "exit=0" in status,
              "status says disabled, with the reason, exit 0", report)


def no_actions(run):
    report, stats = run.boot_served(run.disk("no-actions"), "no-actions", "i-0eeeeeeeeeeeeeee5", "facts:\n  role: vm-test\n")
    run.check("no-actions", report.values.get("state") == "running", "the boot finished", report)
    actions = report.units.get("ec2-boot-init-actions.service", {})
    run.check("no-actions", actions.get("cond") == "no" and actions.get("started_us") == "0",
              "the actions unit did not start: nothing was pending (%s)" % actions, report)
    run.check("no-actions", "role=vm-test" in report.section("facts"), "facts.txt has the user-data's facts")
    run.check("no-actions", "provisioned instance" in report.section("motd"), "the data stage wrote the final MOTD")
    run.check("no-actions", "exit=0" in report.section("status"), "status exits 0")
    ok, repeated = no_retries(stats)
    run.check("no-actions", ok, "every path asked once, no retries %s" % (repeated or ""))


def cloud_init(run):
    crlf = CLOUD_INIT.replace("\n", "\r\n")
    report, stats = run.boot_served(run.disk("cloud-init"), "cloud-init", "i-0fffffffffffffff6", crlf)
    common_first_boot(run, "cloud-init", report, stats, "i-0fffffffffffffff6")
    marks = report.marks()
    marks.pop("order", None)
    wanted = {"bootcmd": 1, "written": 1, "runcmd": 1, "hostname-web1": 1, "etc-hosts": 1, "script-part": 1, "per-boot-part": 1,
              "boothook": 1}
    run.check("cloud-init", marks == wanted, "each module and part ran once, the hostname and /etc/hosts set: %s" % marks, report)
    order = report.mark_words("order")
    run.check("cloud-init", order == ["01-disks.sh", "Join.sh", "node-init.sh", "runcmd"],
              "the CRLF user-data's named scripts ran sorted by name, runcmd among them (cloud-init's order): %s" % order, report)
    status = report.section("status")
    run.check("cloud-init", '"unsupported"' in status and "timezone is not supported" in status,
              "status --json lists the unsupported key", report)
    run.check("cloud-init", "application/node.eks.aws): no handler" in report.section("journal"), "the foreign part was passed over, said once")


def ssh_facts(report):
    """The ssh section: {"keys": {file: sha256}, other key: value}."""
    found = {"keys": {}}
    for line in report.sections.get("ssh", []):
        key, _, rest = line.partition(" ")
        if key == "key":
            name, _, digest = rest.partition(" ")
            found["keys"][name] = digest
        else:
            found[key] = rest.strip()
    return found


def section_values(report, name):
    """A section's `key value` lines as a dict."""
    return dict(line.partition(" ")[::2] for line in report.sections.get(name, []) if line.strip())


GIB = 1 << 30
STORE = ["--block-device", "ephemeral0=sdb"]


def shared(run, name, boot):
    """A boot two scenarios assert on, booted once in a run."""
    if name not in run.shared:
        run.shared[name] = boot()
    return run.shared[name]


def users_ours(run):
    """USERS on our image, with an instance store: the users-groups scenario's, and for the
    essentials scenario another instance of the image."""
    return shared(run, "users-ours", lambda: run.boot_served(
        run.disk("users-ours"), "users-ours", "i-0ccccccccccccccc1", USERS, extra=STORE, disk2=run.instance_store("users-ours-store"))[0])


def users_cloud_init(run):
    """USERS on cloud-init's image, on a 4 GiB disk with an instance store: the same accounts,
    mounts and swap file as ours, and the root grown as ours grows it. None without its image."""
    if not os.path.exists(os.path.join(run.images, "cloud-init.img")):
        return None
    return shared(run, "users-cloud-init", lambda: run.boot_served(
        run.disk("users-cloud-init", image="cloud-init", size="4G"), "users-cloud-init", "i-0ccccccccccccccc2", USERS,
        extra=STORE, disk2=run.instance_store("users-cloud-init-store"))[0])


def essentials(run):
    """An image without cloud-init: each new instance gets its own host keys (fingerprints on the
    serial console), the default user admin with the key pair and sudo, its root grown to a 4 GiB
    disk and its instance store on /mnt; a reboot keeps them all and has nothing to grow."""
    with open(os.path.join(run.images, "image-host-keys")) as f:
        image_keys = dict(line.split() for line in f if line.strip())
    disk, store = run.disk("essentials", size="4G"), run.instance_store("essentials-store")
    first, _ = run.boot_served(disk, "essentials-first", "i-0eeeeeeeeeeeeeee1", "facts:\n  role: vm-test\n", extra=STORE, disk2=store)
    again, _ = run.boot_served(disk, "essentials-reboot", "i-0eeeeeeeeeeeeeee1", "facts:\n  role: vm-test\n", extra=STORE, disk2=store)
    grown_and_mounted(run, first, again)
    theirs = users_cloud_init(run)
    if theirs:
        like_cloud_init(run, first, theirs)
    a, b, c = ssh_facts(first), ssh_facts(again), ssh_facts(users_ours(run))
    run.check("essentials", len(image_keys) == 3 and set(a["keys"]) == set(image_keys), "three host key types: %s" % sorted(a["keys"]), first)
    run.check("essentials", all(a["keys"][k] != image_keys[k] for k in image_keys), "no key is the image's")
    run.check("essentials", b["keys"] == a["keys"], "a reboot keeps the instance's keys")
    run.check("essentials", set(c["keys"]) == set(a["keys"]) and all(c["keys"][k] != a["keys"][k] for k in a["keys"]),
              "another instance of the image has keys of its own")
    with open(first.path + ".console", errors="replace") as f:
        console = f.read()
    between = console.partition("-----BEGIN SSH HOST KEY FINGERPRINTS-----")[2].partition("-----END SSH HOST KEY FINGERPRINTS-----")[0]
    run.check("essentials", between.count("SHA256:") == 3 and "-----BEGIN SSH HOST KEY KEYS-----" in console,
              "the fingerprints and keys are on the serial console between cloud-init's markers")
    run.check("essentials", a.get("passwd", "").startswith("admin:x:") and a["passwd"].endswith(":Debian:/home/admin:/bin/bash"),
              "the default user admin: %s" % a.get("passwd"), first)
    run.check("essentials", "sudo" in a.get("groups", "").split() and a.get("sudoers") == "admin ALL=(ALL) NOPASSWD:ALL"
              and a.get("shadow", "").startswith("!"), "admin is in sudo, may sudo, has no password: %s" % a)
    run.check("essentials", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedKey ops@example" in a.get("admin-keys", "")
              and a.get("root-redirect") not in ("", "0"), "the key pair is admin's, root's says to log in as admin", first)
    run.check("essentials", a.get("sshd") == "active", "sshd runs with the new keys")


def grown_and_mounted(run, first, again):
    """The 2 GiB image's root on a 4 GiB disk grown on the first boot, nothing to do on the
    reboot; the instance store on /mnt both times, its data kept."""
    d1, d2 = section_values(first, "disk"), section_values(again, "disk")
    part, fs = int(d1.get("root-part-bytes") or 0), int(d1.get("root-fs-bytes") or 0)
    run.check("essentials", int(d1.get("disk-bytes") or 0) == 4 * GIB and part > 4 * GIB - 2 * (1 << 20) and fs > 3.6 * GIB,
              "the root partition and its ext4 grew to the 4 GiB disk: %s" % d1, first)
    run.check("essentials", d2.get("root-part-bytes") == d1.get("root-part-bytes") and d2.get("root-fs-bytes") == d1.get("root-fs-bytes")
              and "fills its disk" in again.section("essentials") and "grew" not in again.section("essentials"),
              "a reboot has nothing to grow: %s" % again.section("essentials"), again)
    line = "/dev/vdb /mnt auto defaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev,comment=ec2-boot-init 0 2"
    run.check("essentials", d1.get("mnt") == "/dev/vdb ext4" and d1.get("fstab-ours") == line,
              "the instance store (ephemeral0: sdb, the kernel's vdb) is on /mnt with cloud-init's fields: %s" % d1)
    run.check("essentials", d2.get("mnt") == "/dev/vdb ext4" and d2.get("mnt-boots") == "2",
              "after a reboot it is still mounted, with the first boot's data: %s" % d2)


def like_cloud_init(run, ours, theirs):
    """cloud-init's image on a disk of the same size: the same partition and filesystem sizes, the
    instance store on /mnt (its fstab lines: users-groups); each one's seconds printed for BENCHMARKS.md."""
    a, b = section_values(ours, "disk"), section_values(theirs, "disk")
    run.check("essentials", a.get("root-part-bytes") == b.get("root-part-bytes") and a.get("root-fs-bytes") == b.get("root-fs-bytes"),
              "the root grew as cloud-init grows it: ours %s, cloud-init's %s" % (a, b), theirs)
    run.check("essentials", b.get("mnt") == a.get("mnt"), "the instance store is mounted as cloud-init mounts it: %s" % b.get("mnt"))
    print("  essentials, ours: " + "; ".join(l for l in ours.sections.get("essentials", []) if " took " in l), flush=True)
    print("  essentials, cloud-init's (analyze blame): " + "; ".join(
        l.strip() for l in theirs.sections.get("cloud-init-blame", [])
        if any(m in l for m in ("config-growpart", "config-resizefs", "config-mounts", "config-ssh", "config-users-groups", "config-keys-to-console"))),
        flush=True)


USERS = """\
#cloud-config
groups:
  - deployers: [root]
users:
  - name: deploy
    gecos: Deploy Bot
    groups: [adm, deployers]
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeploy deploy@laptop]
  - name: svc
    system: true
    shell: /usr/sbin/nologin
mounts:
  - [tmpfs, /scratch, tmpfs, "size=16m,mode=1777", "0", "0"]
swap:
  filename: /swapfile
  size: 32M
"""


def users_groups(run):
    """The same `users`, `groups`, `mounts` and `swap` on our image and on cloud-init's: the same
    passwd, group and shadow lines, sudo rule, keys and homes (no `default`: neither makes its
    default user), the same fstab lines (the instance store's, the tmpfs, the swap file), mounts
    and swap file."""
    ours = users_ours(run)
    accounts = ours.section("accounts")
    run.check("users-groups", "deploy:x:1000:" in accounts and ":Deploy Bot:/home/deploy:/bin/bash" in accounts
              and "groups-deploy deploy adm deployers" in accounts and "sudo deploy ALL=(ALL) NOPASSWD:ALL" in accounts
              and "AAAAC3NzaC1lZDI1NTE5AAAAIDeploy" in accounts and "svc-home none" in accounts,
              "deploy and svc made with their groups, sudo rule, keys; svc has no home: %s" % accounts, ours)
    run.check("users-groups", "admin" not in section_values(ours, "ssh").get("passwd", ""),
              "users without default: no default user")
    mounts = section_values(ours, "mounts")
    fstab = sorted(line for line in ours.sections.get("mounts", []) if line.startswith("fstab "))
    run.check("users-groups", len(fstab) == 3 and any(" /mnt " in l for l in fstab) and any("tmpfs /scratch tmpfs size=16m,mode=1777," in l for l in fstab)
              and any(l.startswith("fstab /swapfile none swap sw,comment=ec2-boot-init") for l in fstab),
              "fstab: the instance store, the tmpfs and the swap file: %s" % fstab, ours)
    run.check("users-groups", mounts.get("scratch", "").startswith("tmpfs tmpfs") and mounts.get("swapfile", "").startswith("600 33554432 file"),
              "/scratch is mounted, the swap file (0600, 32 MiB) in use: %s" % mounts, ours)
    theirs = users_cloud_init(run)
    if theirs:
        # A system user's id is the image's next free one below 1000: the two images' packages may differ there.
        system = lambda text: re.sub(r"^svc:x:\d+:\d+:", "svc:x:SYS:SYS:", text, flags=re.M)
        run.check("users-groups", system(accounts) == system(theirs.section("accounts")),
                  "the same accounts as cloud-init's: ours\n%s\ncloud-init's\n%s" % (accounts, theirs.section("accounts")), theirs)
        same = sorted(l.replace("cloud-init.service", "ec2-boot-init.service").replace("comment=cloudconfig", "comment=ec2-boot-init")
                      for l in theirs.sections.get("mounts", []) if l.startswith("fstab "))
        run.check("users-groups", same == fstab, "the same fstab lines as cloud-init's (but for whose): %s" % same, theirs)
        other = section_values(theirs, "mounts")
        run.check("users-groups", other.get("scratch") == mounts.get("scratch") and other.get("swapfile") == mounts.get("swapfile"),
                  "mounted and swapping as cloud-init's: %s" % other)


def beside_cloud_init(run):
    """cloud-init installed and enabled, our agent beside it: ours does none of the essentials."""
    report, _ = run.boot_served(run.disk("both", image="both", size="4G"), "beside-cloud-init", "i-0eeeeeeeeeeeeeee4", None,
                                extra=STORE, disk2=run.instance_store("both-store"))
    run.check("beside-cloud-init", "cloud-init is installed and enabled" in report.section("essentials")
              and " took " not in report.section("essentials"), "ours did no essential, and said why: %s" % report.section("essentials"), report)
    d = section_values(report, "disk")
    run.check("beside-cloud-init", "comment=cloudconfig" in d.get("fstab-ours", "") and "comment=ec2-boot-init" not in d.get("fstab-ours", ""),
              "only cloud-init's fstab line: %s" % d.get("fstab-ours"))


def hung_action(run):
    report, _ = run.boot_served(run.disk("hung"), "hung-action", "i-0ddddddddddddddd4", HUNG)
    during = report.section("during")
    run.check("hung-action", "running" in during and "exit=2" in during,
              "status showed the action running (exit 2) while it hung", report)
    logins = report.unit_us("systemd-user-sessions.service", "active_us")
    actions_exit = report.unit_us("ec2-boot-init-actions.service", "exited_us")
    run.check("hung-action", 0 < logins < actions_exit, "logins opened while the action hung")
    run.check("hung-action", report.units.get("ec2-boot-init-actions.service", {}).get("result") == "timeout",
              "the unit's timeout ended it")
    run.check("hung-action", '"interrupted"' in report.section("status"), "status records the action as interrupted")


UPGRADE = """\
facts:
  role: vm-test
actions:
  - type: shell
    command: "curl -fsS -o /var/tmp/agent.deb http://169.254.169.254/files/agent.deb && dpkg -i /var/tmp/agent.deb && printf 'default_user:\\n  name: admin\\n  groups: [adm, sudo]\\n' >> /etc/ec2-boot-init/config.yaml && %secho x >> /var/tmp/vm-marks/upgraded"
""" % MARKS


def upgrade(run):
    """An instance first booted by the earlier version, upgraded in place by an action (the new
    .deb, and config.yaml now naming a default user), then rebooted: the new version leaves its
    host keys and accounts as they were, and says why."""
    if not os.path.exists(os.path.join(run.images, "previous.img")):
        print("  skipped: no earlier version's image (EC2BOOT_PREVIOUS_DEB=path/to/old.deb scripts/vm/test.sh upgrade)", flush=True)
        return
    debs = [f for f in os.listdir(os.path.join(REPO, "dist")) if f.endswith(".deb")]
    os.makedirs(os.path.join(run.work, "served"), exist_ok=True)
    subprocess.run(["cp", os.path.join(REPO, "dist", debs[0]), os.path.join(run.work, "served", "agent.deb")], check=True)
    disk = run.disk("upgrade", image="previous")
    first, _ = run.boot_served(disk, "upgrade-first", "i-0abababababababa1", UPGRADE)
    again, _ = run.boot_served(disk, "upgrade-reboot", "i-0abababababababa1", UPGRADE)
    before, after = ssh_facts(first), ssh_facts(again)
    version = section_values(again, "mounts").get("version")
    run.check("upgrade", first.marks().get("upgraded") == 1 and version and version == section_values(first, "mounts").get("version"),
              "the earlier version's first boot upgraded itself in place to %s" % version, first)
    run.check("upgrade", "first booted with a version without essentials" in again.section("essentials"),
              "the reboot on the new version did no essential, and said why: %s" % again.section("essentials"), again)
    run.check("upgrade", len(before["keys"]) == 3 and after["keys"] == before["keys"], "the host keys are the ones it had: %s" % after["keys"])
    run.check("upgrade", not after.get("passwd") and "exit=0" in again.section("status"),
              "no default user made though config.yaml now names admin; status exits 0")


SCENARIOS = [("ec2-first-boot", ec2_first_boot), ("reboot", reboot), ("new-instance", new_instance),
             ("late-metadata", late_metadata), ("not-ec2", not_ec2), ("no-actions", no_actions), ("cloud-init", cloud_init),
             ("hung-action", hung_action), ("essentials", essentials), ("users-groups", users_groups),
             ("beside-cloud-init", beside_cloud_init), ("upgrade", upgrade)]


def try_user_data(run, user_data, actions_dir):
    """One first boot of the user's own user-data (its action files served from ACTIONS_DIR at
    http://169.254.169.254/files/), as EC2; prints what the guest reported."""
    with open(user_data) as f:
        text = f.read()
    report, _ = run.boot_served(run.disk("try"), "try", "i-0123456789abcdef0", text,
                                extra=["--serve", actions_dir] if actions_dir else [])
    print(report.text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
        print(__doc__)
        return
    images, wanted = sys.argv[1], sys.argv[2:] or [n for n, _ in SCENARIOS]
    # A misspelt name must not run nothing and say "all passed".
    unknown = [name for name in wanted if wanted[0] != "--try" and name not in dict(SCENARIOS)]
    if unknown or not os.path.isdir(images):
        sys.exit("scenarios.py: %s (scenarios: %s)" % ("no such scenario: " + ", ".join(unknown) if unknown else "no images folder " + images,
                                                        ", ".join(n for n, _ in SCENARIOS)))
    run = Run(os.path.abspath(images))
    if wanted[0] == "--try":
        try_user_data(run, wanted[1], wanted[2] if len(wanted) > 2 else None)
        return
    for name, scenario in SCENARIOS:
        if name not in wanted:
            continue
        if name in ("reboot", "new-instance") and not hasattr(run, "first_disk"):
            run.first_disk = run.disk("first")
            ec2_first_boot(run)
        print("scenario %s" % name, flush=True)
        scenario(run)
    print("vm scenarios: %s (reports in %s)" % ("all passed" if not run.failures else "FAILED: " + "; ".join(run.failures), run.work))
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
