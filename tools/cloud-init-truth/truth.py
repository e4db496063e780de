#!/usr/bin/python3
"""cloud-init's own answers, from Debian's cloud-init package, for the tests to compare ours with.

  truth.py parts USER_DATA [INDEX]    the parts cloud-init's user-data processor gives, as JSON (INDEX: after
                                      the EC2 datasource's launch_index filter for that ami-launch-index)
  truth.py write-files ROOT USER_DATA cc_write_files (then write_files_deferred's half) under ROOT
  truth.py shellify USER_DATA KEY     util.shellify of the merged cloud-config's KEY (runcmd, bootcmd)
  truth.py merged USER_DATA           the cloud-config cloud-init merges from the parts, as JSON
  truth.py hosts HOSTNAME FQDN        /etc/hosts as update_etc_hosts renders it (Debian's template)
  truth.py scripts USER_DATA          the boothooks as written (part order) and each script folder as
                                      the part handlers and cc_runcmd fill it, in runparts order
  truth.py modules USER_DATA          each stage's modules and frequencies, cloud.cfg merged with the
                                      user-data's cloud-config as cloud-init merges them
  truth.py users USER_DATA DEFAULT    cc_users_groups on Debian's distro with DEFAULT (JSON) as its
                                      default_user, on a machine with only root: the commands it runs
                                      (recorded, not run), the sudoers lines, each user's keys
  truth.py mounts USER_DATA MACHINE   cc_mounts on a machine MACHINE (JSON) describes: fstab (its
                                      text), devices (what EC2's block-device-mapping lookup gives
                                      each name), block (the block devices and partitions there),
                                      mounted (mount points), swaps (/proc/swaps' files), memory and
                                      avail (bytes); the fstab it writes, the folders it makes and
                                      the commands it runs (recorded, not run)

Run with Debian's /usr/bin/python3 (the one cloud-init is installed for). Nothing here needs
a network; write-files changes only ROOT (owners set for real when run as root).
"""
import base64, json, os, sys, tempfile

from cloudinit import handlers, helpers, safeyaml, settings, templater, util
from cloudinit.config import cc_runcmd, cc_write_files
from cloudinit.config.modules import Modules, form_module_name
from cloudinit.handlers.boot_hook import BootHookPartHandler
from cloudinit.handlers.shell_script import ShellScriptPartHandler
from cloudinit.handlers.shell_script_by_frequency import ShellScriptByFreqPartHandler
from cloudinit.helpers import ConfigMerger
from cloudinit.handlers.cloud_config import CloudConfigPartHandler
from cloudinit.user_data import UserDataProcessor
from cloudinit.filters import launch_index


def walk(blob, launch=None):
    """(content type, filename, payload, headers) of each part, as cloud-init's handlers get them;
    with `launch` (the metadata's ami-launch-index), after its launch_index filter, as the EC2
    datasource's get_userdata(apply_filter=True) gives them."""
    tmp = tempfile.mkdtemp(prefix="truth-")
    paths = helpers.Paths({"cloud_dir": tmp, "run_dir": tmp + "/run"})
    message = UserDataProcessor(paths).process(blob)
    if launch is not None:
        message = launch_index.Filter(util.safe_int(launch)).apply(message)
    found = []
    handlers.walk(message, lambda _data, filename, payload, headers: found.append(
        (headers["Content-Type"], filename, payload, dict(headers))), None)
    return found


def parts(blob, launch=None):
    found = []
    for ctype, filename, payload, _headers in walk(blob, launch):
        data = payload if isinstance(payload, bytes) else payload.encode("utf-8", "surrogateescape")
        found.append({"type": ctype, "filename": filename, "payload": base64.b64encode(data).decode()})
    return found


def merged(blob):
    tmp = tempfile.mkdtemp(prefix="truth-")
    paths = helpers.Paths({"cloud_dir": tmp, "run_dir": tmp + "/run"})
    handler = CloudConfigPartHandler(paths)
    handler.handle_part(None, handlers.CONTENT_START, None, None, None, None)
    for ctype, filename, payload, headers in walk(blob):
        if ctype == "text/cloud-config":
            handler.handle_part(None, ctype, filename, payload, None, headers)
    return handler.cloud_buf or {}


def write_files(root, blob):
    os.chdir("/")  # cloud-init runs from /: a relative path is under it
    config = merged(blob)
    entries = []
    for entry in config.get("write_files", []):
        entry = dict(entry)
        if entry.get("path"):
            entry["path"] = os.path.join(root, os.path.abspath(entry["path"]).lstrip("/"))
        entries.append(entry)
    deferred = [e for e in entries if util.get_cfg_option_bool(e, "defer", False)]
    now = [e for e in entries if not util.get_cfg_option_bool(e, "defer", False)]
    cc_write_files.write_files("write_files", now, "root:root")
    cc_write_files.write_files("write_files_deferred", deferred, "root:root")


def hosts(hostname, fqdn):
    out = os.path.join(tempfile.mkdtemp(prefix="truth-"), "hosts")
    templater.render_to_file("/etc/cloud/templates/hosts.debian.tmpl", out, {"hostname": hostname, "fqdn": fqdn})
    return util.load_file(out)


def scripts(blob):
    """What cloud-init's handlers write (nothing is run): boothooks, then its script folders."""
    tmp = tempfile.mkdtemp(prefix="truth-")
    paths = helpers.Paths({"cloud_dir": tmp, "run_dir": tmp + "/run"})
    boothook = BootHookPartHandler(paths, None)
    boothook.boothook_dir = tmp + "/boothooks"
    by_type = {"text/x-shellscript": ShellScriptPartHandler(paths)}
    for freq, folder in (("once", "per-once"), ("always", "per-boot"), ("once-per-instance", "per-instance")):
        by_type["text/x-shellscript-" + folder] = ShellScriptByFreqPartHandler(freq, paths)
    hooks = []
    for ctype, filename, payload, _headers in walk(blob):
        if ctype == "text/cloud-boothook":
            path = boothook._write_part(payload, filename)
            hooks.append([os.path.basename(path), util.load_file(path)])
        elif ctype in by_type:
            by_type[ctype].handle_part(None, ctype, filename, payload, None)
    config = merged(blob)
    if "runcmd" in config:
        class Cloud:
            def get_ipath(self, name):
                return paths.get_ipath_cur(name)
        cc_runcmd.handle("runcmd", config, Cloud(), None, [])
    found = {"boothooks": hooks}
    for name, folder in (("per-once", tmp + "/scripts/per-once"), ("per-boot", tmp + "/scripts/per-boot"),
                         ("per-instance", tmp + "/scripts/per-instance"), ("user", paths.get_ipath_cur("scripts"))):
        files = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        found[name] = [[f, util.load_file(os.path.join(folder, f))] for f in files]
    return found


def modules(blob):
    """[stage, module, frequency] in the order cloud-init runs them, with this user-data."""
    tmp = tempfile.mkdtemp(prefix="truth-")
    paths = helpers.Paths({"cloud_dir": tmp, "run_dir": tmp + "/run"})
    util.write_file(paths.get_ipath_cur("cloud_config"), safeyaml.dumps(merged(blob)))
    merger = ConfigMerger(paths=paths, datasource=None, additional_fns=[], base_cfg=util.read_conf(settings.CLOUD_CONFIG))
    mods = Modules.__new__(Modules)
    mods._cached_cfg = merger.cfg
    found = []
    for stage in ("cloud_init_modules", "cloud_config_modules", "cloud_final_modules"):
        for module in mods._fixup_modules(mods._read_modules(stage)):
            found.append([stage, form_module_name(module.name)[len("cc_"):], module.frequency])
    return found


def users(blob, default_user):
    """cc_users_groups with the commands recorded instead of run: nothing on this machine changes."""
    from cloudinit import subp, ssh_util
    from cloudinit.config import cc_users_groups
    from cloudinit.distros import debian
    accounts = {"users": {"root"}, "groups": {"root", "adm", "sudo"}}
    commands, keys = [], {}

    def record(argv, data=None, **_):
        commands.append(list(argv) + (["<stdin>"] if data is not None else []))
        if argv[0] == "useradd":
            accounts["users"].add(argv[1])
        elif argv[0] == "groupadd":
            accounts["groups"].add(argv[1])
        return ("", "")

    subp.subp = record
    subp.which = lambda name, **_: "/usr/bin/" + name
    util.is_user = lambda name: name in accounts["users"]
    util.is_group = lambda name: name in accounts["groups"]
    ssh_util.setup_user_keys = lambda found, user, options=None: keys.setdefault(user, sorted(found))
    distro = debian.Distro("debian", {"default_user": default_user} if default_user else {}, None)
    folder = tempfile.mkdtemp(prefix="truth-sudo-")
    distro.ci_sudoers_fn = os.path.join(folder, "90-cloud-init-users")
    distro.ensure_sudo_dir = lambda path, sudo_base=None: None

    class Cloud:
        def __init__(self):
            self.distro = distro

        def get_public_ssh_keys(self):
            return []

    cc_users_groups.handle("users_groups", merged(blob), Cloud(), None, [])
    sudoers = util.load_file(distro.ci_sudoers_fn) if os.path.exists(distro.ci_sudoers_fn) else ""
    return {"commands": commands, "sudoers": sudoers[sudoers.find("\n# User rules"):] if sudoers else "", "keys": keys}


def mounts(blob, machine):
    """cc_mounts with the machine faked from MACHINE and the commands recorded: nothing here changes."""
    from cloudinit import subp
    from cloudinit.config import cc_mounts
    folder = tempfile.mkdtemp(prefix="truth-mounts-")
    cc_mounts.FSTAB_PATH = os.path.join(folder, "fstab")
    with open(cc_mounts.FSTAB_PATH, "w") as f:
        f.write(machine.get("fstab", ""))
    block, commands, dirs = set(machine.get("block", [])), [], []
    cc_mounts._get_nth_partition_for_device = lambda device, n: next(
        (device + s for s in (str(n), "p%s" % n, "-part%s" % n) if device + s in block), None)
    cc_mounts._is_block_device = lambda device, partition=None: (partition or device) in block
    subp.subp = lambda argv, **_: commands.append(list(argv)) or ("", "")
    util.ensure_dir = lambda path, mode=None: dirs.append(path)
    util.mounts = lambda: {str(i): {"mountpoint": p} for i, p in enumerate(machine.get("mounted", []))}
    util.get_mount_info = lambda path, **_: ("/dev/root", "ext4", "/")
    util.read_meminfo = lambda: {"total": machine.get("memory", 1 << 30)}
    util.chmod = lambda path, mode: commands.append(["chmod", oct(mode), path])
    cc_mounts.os.statvfs = lambda path: type("S", (), {"f_frsize": 1, "f_bfree": machine.get("avail", 1 << 34)})()
    swaps = machine.get("swaps")
    real_exists, real_load = os.path.exists, util.load_file
    cc_mounts.os.path.exists = lambda path: (swaps is not None) if path == "/proc/swaps" else (
        path in machine.get("files", []) or (real_exists(path) and path.startswith(folder)))
    util.load_file = lambda path, **kw: "".join("%s file 0 0 -2\n" % s for s in swaps or []) if path == "/proc/swaps" else real_load(path, **kw)
    devices = machine.get("devices", {})

    class Distro:
        def uses_systemd(self):
            return True

    class Cloud:
        distro = Distro()

        def device_name_to_device(self, name):
            return devices.get(name)

    cc_mounts.handle("mounts", merged(blob), Cloud(), cc_mounts.LOG, [])
    os.path.exists = real_exists
    return {"fstab": open(cc_mounts.FSTAB_PATH).read(), "dirs": dirs, "commands": commands}


def main(argv):
    command = argv[1]
    if command == "parts":
        print(json.dumps(parts(open(argv[2], "rb").read(), argv[3] if len(argv) > 3 else None)))
    elif command == "merged":
        # !!binary content is bytes to PyYAML: shown as its base64.
        print(json.dumps(merged(open(argv[2], "rb").read()), default=lambda b: base64.b64encode(b).decode()))
    elif command == "write-files":
        write_files(argv[2], open(argv[3], "rb").read())
    elif command == "shellify":
        sys.stdout.write(util.shellify(merged(open(argv[2], "rb").read())[argv[3]]))
    elif command == "scripts":
        print(json.dumps(scripts(open(argv[2], "rb").read())))
    elif command == "modules":
        print(json.dumps(modules(open(argv[2], "rb").read())))
    elif command == "users":
        print(json.dumps(users(open(argv[2], "rb").read(), json.loads(argv[3]))))
    elif command == "mounts":
        print(json.dumps(mounts(open(argv[2], "rb").read(), json.loads(argv[3]))))
    elif command == "hosts":
        sys.stdout.write(hosts(argv[2], argv[3]))
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main(sys.argv)
