import Foundation
import Logging
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// The every-boot essentials with the real tools on files: a disk image's last partition
    /// grown by the real sfdisk (GPT and MBR), and a root whose instance store is an ext4 image
    /// found by the real blkid and written to its fstab. Growing a mounted filesystem and
    /// mounting need a real disk: the VM's `essentials` scenario does them.
    @Suite struct EssentialsDiskTests {
        static func sfdisk(_ arguments: [String], stdin: String? = nil) throws -> ToolResult {
            try runProcess("/usr/sbin/sfdisk", arguments, stdin: stdin)
        }

        static func table(_ image: String) throws -> GrowRoot.Table {
            try JSONDecoder().decode(GrowRoot.Table.self, from: Data(try sfdisk(["--json", image]).stdout.utf8))
        }

        @Test(arguments: ["gpt", "dos"])
        func aDiskImagesLastPartitionGrowsToItsEnd(_ label: String) async throws {
            let dir = try TestEnv.tempDir("grow-\(label)")
            let image = dir + "/disk.img"
            // A 20 MiB image, a small first partition and the root after it, then the disk made 40 MiB.
            try TestEnv.write("", to: image)
            #expect(truncate(image, 20 << 20) == 0)
            #expect(try Self.sfdisk(["-q", image], stdin: "label: \(label)\n,4M\n,10M\n").status == 0)
            #expect(truncate(image, 40 << 20) == 0)
            let before = try Self.table(image)
            let lines = LineRecorder()
            let logger = Logger(label: "test") { _ in lines }
            let problem = await GrowRoot.growPartition(image, number: 2, bytes: 40 << 20, backups: dir + "/backups", logger: logger)
            #expect(problem == nil)
            let after = try Self.table(image)
            #expect(after.partitions[0] == before.partitions[0], "the first partition is untouched")
            #expect(after.partitions[1].start == before.partitions[1].start, "the root keeps its start: its filesystem stays where it is")
            let end = after.partitions[1].start + after.partitions[1].size
            #expect(end >= (40 << 20) / 512 - 34 - 2048 && end <= (40 << 20) / 512, "ends at the disk's end: \(end)")
            #expect(GrowRoot.plan(after, number: 2, bytes: 40 << 20) == .nothing("partition 2 fills its disk"))
            let backups = try FileManager.default.contentsOfDirectory(atPath: dir + "/backups")
            #expect(backups.contains { $0.hasSuffix(".bak") }, "the old table is kept: \(backups)")
            #expect(TestEnv.mode(dir + "/backups") == 0o700)
            // The next boot: nothing to do, nothing written.
            let again = await GrowRoot.growPartition(image, number: 2, bytes: 40 << 20, backups: dir + "/backups", logger: logger)
            let unchanged = try Self.table(image)
            #expect(again == nil && unchanged == after)
            #expect(lines.messages.contains { $0.contains("partition 2 fills its disk") }, "\(lines.messages)")
            // The first partition, followed by the root: never grown over it.
            let blocked = await GrowRoot.growPartition(image, number: 1, bytes: 40 << 20, backups: dir + "/backups", logger: logger)
            let still = try Self.table(image)
            #expect(blocked == nil && still == after)
        }

        @Test func aDiskThatIsNotThereIsAProblemNamed() async throws {
            let dir = try TestEnv.tempDir("grow-missing")
            let problem = await GrowRoot.growPartition(dir + "/none.img", number: 1, bytes: 1 << 30, backups: dir + "/b", logger: Logger(label: "test"))
            #expect(problem?.contains("none.img failed: its partition table not read") == true, "\(problem ?? "nil")")
        }

        static func metadata(_ instance: String, mapping: String) -> String {
            #"{"ami-id": "ami-1", "instance-id": "\#(instance)", "block-device-mapping": {\#(mapping)}}"#
        }

        /// A root whose metadata maps ephemeral0 to sdb, which the kernel calls vdb here (an ext4
        /// image), and ephemeral1 to sdc, a blank disk: vdb's line in fstab, written once, the
        /// blank one named and left out; a new instance without instance store drops the line.
        @Test func theInstanceStoreIsInTheRootsFstabWithCloudInitsFields() throws {
            let mapping = #""ami": "/dev/xvda", "root": "/dev/xvda", "ephemeral0": "sdb", "ephemeral1": "sdc""#
            let root = try seededRoot("", metadata: Self.metadata("i-1", mapping: mapping), name: "instance-store")
            try TestEnv.write("/dev/vda1 / ext4 rw 0 1\n", to: root + "/etc/fstab")
            try TestEnv.write("", to: root + "/dev/vdb")
            #expect(try runProcess("/usr/sbin/mkfs.ext4", ["-q", "-F", root + "/dev/vdb", "4M"]).status == 0)
            try TestEnv.write(String(repeating: "\0", count: 1 << 20), to: root + "/dev/vdc")
            let first = try run(root)
            #expect(first.status == 0, "\(first.stderr)")
            let line = "/dev/vdb\t/mnt\tauto\tdefaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev,comment=ec2-boot-init\t0\t2\n"
            #expect(TestEnv.read(root + "/etc/fstab") == "/dev/vda1 / ext4 rw 0 1\n" + line)
            #expect(TestEnv.mode(root + "/etc/fstab") == 0o644 && FileSystem.isDirectory(root + "/mnt"))
            #expect(first.stderr.contains("ephemeral1 (/dev/vdc) has no filesystem: not mounted"), "\(first.stderr)")
            #expect(!FileSystem.exists(root + "/media/ephemeral1"))
            // A reboot: the same line, the file not rewritten.
            let inode = TestEnv.inode(root + "/etc/fstab")
            #expect(try run(root).status == 0)
            #expect(TestEnv.inode(root + "/etc/fstab") == inode)
            // A new instance of a type without instance store: our line goes, the image's stays.
            try TestEnv.write(Self.metadata("i-2", mapping: #""ami": "/dev/xvda""#), to: root + "/seed/meta-data.json")
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/etc/fstab") == "/dev/vda1 / ext4 rw 0 1\n")
        }

        /// config.yaml changes the options (cloud-init's mount_default_fields: its ephemeral0 entry
        /// takes only them; type, dump and pass stay auto, 0, 2) or turns it off.
        @Test func theFieldsAreTheImageBuilders() throws {
            let config = "essentials:\n  mount_default_fields: [null, null, ext4, 'defaults,noexec', '0', '0']\n"
            let root = try seededRoot("", metadata: Self.metadata("i-1", mapping: #""ephemeral0": "sdb""#), config: config, name: "instance-store-fields")
            try TestEnv.write("", to: root + "/dev/sdb")
            #expect(try runProcess("/usr/sbin/mkfs.ext4", ["-q", "-F", root + "/dev/sdb", "4M"]).status == 0)
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/etc/fstab") == "/dev/sdb\t/mnt\tauto\tdefaults,noexec,comment=ec2-boot-init\t0\t2\n")
            let off = try seededRoot("", metadata: Self.metadata("i-1", mapping: #""ephemeral0": "sdb""#),
                                     config: "essentials:\n  instance_store: false\n", name: "instance-store-off")
            try TestEnv.write("", to: off + "/dev/sdb")
            #expect(try runProcess("/usr/sbin/mkfs.ext4", ["-q", "-F", off + "/dev/sdb", "4M"]).status == 0)
            #expect(try run(off).status == 0)
            #expect(!FileSystem.exists(off + "/etc/fstab"))
            try TestEnv.write("essentials:\n  mount_default_fields: [null, null, auto, 'defaults nofail', '0', '2']\n", to: off + "/bad.yaml")
            let bad = try tool(["validate", "--config", off + "/bad.yaml", "-"], stdin: "facts: {}\n")
            #expect(bad.status == 2 && bad.stderr.contains("six fstab fields"), "\(bad.stderr)")
        }

        /// The user-data's `mounts` and `swap` on a root: its entries resolved (ephemeral0, the
        /// kernel's vdb), a tmpfs as given, a metadata name without a device passed over and said;
        /// the swap file made by the real fallocate and mkswap, mode 0600, in fstab; a reboot
        /// writes nothing and never makes the swap file anew; the row says the data stage did it.
        @Test func theUserDatasMountsAndSwapFileAreInFstab() throws {
            let userData = """
                #cloud-config
                mounts:
                  - [ephemeral0, /data, ext4]
                  - [tmpfs, /scratch, tmpfs, "size=16m", "0", "0"]
                  - [ephemeral3, /nothing]
                swap:
                  filename: /var/swap.img
                  size: 2M
                """
            let root = try seededRoot(userData, metadata: Self.metadata("i-1", mapping: #""ephemeral0": "sdb""#), name: "mounts-swap")
            try TestEnv.write("/dev/vda1 / ext4 rw 0 1\n", to: root + "/etc/fstab")
            try TestEnv.write("", to: root + "/dev/vdb")
            #expect(try runProcess("/usr/sbin/mkfs.ext4", ["-q", "-F", root + "/dev/vdb", "4M"]).status == 0)
            let first = try run(root)
            #expect(first.status == 0, "\(first.stderr)")
            let options = "defaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev,comment=ec2-boot-init"
            #expect(TestEnv.read(root + "/etc/fstab") == "/dev/vda1 / ext4 rw 0 1\n/dev/vdb\t/data\text4\t\(options)\t0\t2\n"
                    + "tmpfs\t/scratch\ttmpfs\tsize=16m,comment=ec2-boot-init\t0\t0\n/var/swap.img\tnone\tswap\tsw,comment=ec2-boot-init\t0\t0\n")
            #expect(first.stderr.contains("ephemeral3 names no device here"), "\(first.stderr)")
            #expect(FileSystem.isDirectory(root + "/data") && FileSystem.isDirectory(root + "/scratch") && !FileSystem.exists(root + "/nothing"))
            #expect(TestEnv.mode(root + "/var/swap.img") == 0o600 && TestEnv.size(root + "/var/swap.img") == 2 << 20)
            let signature = try runProcess("/usr/sbin/blkid", ["-p", "-s", "TYPE", "-o", "value", root + "/var/swap.img"])
            #expect(signature.stdout.trimmingWhitespace(newlines: true) == "swap", "mkswap gave it a swap signature: \(signature.stdout)")
            let status = try tool(["status", "--root", root])
            #expect(status.stdout.contains("the fstab entries, mounts and swap: done in the data stage"), "\(status.stdout)")
            let (fstab, swap) = (TestEnv.inode(root + "/etc/fstab"), TestEnv.inode(root + "/var/swap.img"))
            #expect(try run(root).status == 0)
            #expect(TestEnv.inode(root + "/etc/fstab") == fstab && TestEnv.inode(root + "/var/swap.img") == swap, "a reboot changes nothing")
            #expect(!FileSystem.exists(root + "/var/.swap.img.ec2-boot-init"), "made under a temporary name, renamed into place")
        }

        /// A swap file bigger than its filesystem's free space is named and not made (no dd
        /// filling the disk), nothing half-made left; `size: auto` in a folder not there yet is
        /// measured after the folder is made; a swap file's symlinked name is known as in use.
        @Test func aSwapFileThatCannotFitIsNamedNotMade() async throws {
            let root = try TestEnv.tempDir("swap-room")
            var problems: [String] = []
            var settings = SwapSettings()
            settings.filename = "/swap/big.img"
            settings.size = .bytes(SwapFile.freeBytes(root) + (64 << 20))
            let made = await SwapFile.make(settings, paths: Paths(root: root), deadline: Deadline(seconds: 30), logger: Logger(label: "test"), problems: &problems)
            #expect(!made && problems.count == 1 && problems[0].contains("swap: /swap/big.img needs") && problems[0].contains("MiB free: not made"), "\(problems)")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/swap")) ?? ["?"]).isEmpty, "nothing left behind")
            settings.filename = "/new/folder/auto.img"
            settings.size = .auto
            try TestEnv.write("MemTotal:        1048576 kB\nMemFree:  1000 kB\n", to: root + "/proc/meminfo")
            settings.maxsize = 2 << 20
            problems = []
            let auto = await SwapFile.make(settings, paths: Paths(root: root), deadline: Deadline(seconds: 30), logger: Logger(label: "test"), problems: &problems)
            #expect(auto && problems.isEmpty && TestEnv.size(root + "/new/folder/auto.img") == 2 << 20, "\(problems)")
            try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/new/folder/auto.img")
            #expect(SwapFile.canonical(root + "/link") == root + "/new/folder/auto.img" && SwapFile.canonical("LABEL=ec2-boot-init-no-such") == "/dev/disk/by-label/ec2-boot-init-no-such")
        }

        /// A block node's number read as mountinfo writes it, minors past 255 too (a node made
        /// here by coreutils' mknod, as root); anything else has none.
        @Test func aBlockNodesNumberIsMountinfos() throws {
            let dir = try TestEnv.tempDir("device-number")
            let made = try runProcess("/usr/bin/mknod", [dir + "/disk", "b", "300", "70000"])
            #expect(made.status == 0, "mknod needs root: \(made.stderr)")
            #expect(InstanceStore.deviceNumber(dir + "/disk") == "300:70000")
            try TestEnv.write("", to: dir + "/file")
            #expect(InstanceStore.deviceNumber(dir + "/file") == nil && InstanceStore.deviceNumber("/dev/null") == nil)
        }
    }
}
