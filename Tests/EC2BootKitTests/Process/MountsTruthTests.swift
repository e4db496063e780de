import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// `mounts`, `mount_default_fields` and `swap` through cloud-init's own cc_mounts (the machine
    /// faked: its fstab, what EC2's block-device-mapping lookup gives, which block devices exist;
    /// commands recorded, not run: truth.py mounts) and through ours: the same /etc/fstab (but for
    /// whose lines they are: `comment=ec2-boot-init`, ordered after ec2-boot-init.service), the
    /// same mount points made, the same swap file size. The cases stay where both agree; where we
    /// differ on purpose (a metadata name with no device, a kernel name not there) MountsTests says.
    @Suite struct MountsTruthTests {
        /// What truth.py fakes of a machine, and ours is given the same way.
        struct Machine: Sendable {
            var fstab = "/dev/vda1 / ext4 defaults 0 1\n"
            var devices = ["ephemeral0": "/dev/vdb", "ebs1": "/dev/xvdf", "swap": "/dev/vdc"]
            var block = ["/dev/vdb", "/dev/vdb1", "/dev/vdc", "/dev/xvdf", "/dev/vde", "/dev/sdc", "/dev/sdf"]
            var memory: UInt64 = 2 << 30
            var avail: UInt64 = 100 << 30

            var json: String {
                let object: [String: Any] = ["fstab": fstab, "devices": devices, "block": block, "swaps": [String](), "memory": memory, "avail": avail]
                return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
        }

        static let cases: [(String, String, Machine)] = [
            ("every kind of entry", """
                mounts:
                  - [ephemeral0, /data]
                  - [tmpfs, /scratch, tmpfs, "size=16m", "0", "0"]
                  - [sdc]
                  - ["server:/export", /nfs, nfs]
                  - [ebs1, /e, ext4, null, "1"]
                  - [/dev/vde, /v]
                  - [sdf, /f1]
                  - [sdf, null]
                swap:
                  filename: /var/swapfile
                  size: 64M
                """, Machine()),
            ("nothing given: the instance store and the swap disk", "hostname: x\n", Machine()),
            ("the defaults changed, ephemeral as ephemeral0, a partition", """
                mount_default_fields: [null, null, ext4, "defaults,noatime", "0", "0"]
                mounts:
                  - [ephemeral, /cache]
                  - [ephemeral0.1, /again, null, null, 1]
                  - [xvdf, null]
                """, Machine()),
            ("the image's fstab has the device; our old lines go", """
                mounts:
                  - [LABEL=logs, /var/log/app, ext4]
                """, Machine(fstab: "/dev/vda1 / ext4 defaults 0 1\n/dev/vdb1 /srv ext4 defaults 0 0\nold /x auto defaults,comment=ec2-boot-init 0 0\n")),
            ("swap sized by the memory, at most maxsize", "swap: {size: auto, maxsize: 1G}\n", Machine()),
            ("swap sized by the memory, at most a quarter of the free space", "swap: {size: auto, filename: /swap2}\n", Machine(memory: 20 << 30, avail: 10 << 30)),
        ]

        static func ours(_ yaml: String, _ machine: Machine) throws -> (fstab: String, dirs: [String], swapMiB: UInt64?) {
            let userData = UserData.parse(Data(("#cloud-config\n" + yaml).utf8), limits: UserDataSettings())
            #expect(userData.problems.isEmpty, "\(userData.problems)")
            var settings = EssentialsSettings()
            if var mapping = userData.cloudActions.first(where: { $0.node.mapping?["type"]?.string == MountsAction.type })?.node.mapping {
                mapping["type"] = nil
                mapping["frequency"] = nil
                let params = try YAMLDecoding.decode(MountsAction.Params.self, from: .mapping(mapping), source: "test", keyPrefix: "")
                settings.mounts = params.mounts ?? []
                settings.mountDefaultFields = params.mount_default_fields ?? settings.mountDefaultFields
                settings.swap = params.swap
            }
            let devices = machine.devices, block = machine.block
            let resolve = { (spec: String) in Mounts.resolve(spec, mapped: { devices[$0] }, exists: { block.contains($0) }) }
            // The defaults as the data stage makes them: the instance store on /mnt, the metadata's swap disk.
            var defaults = [[resolve("ephemeral0")!, "/mnt", "auto", settings.mountDefaultFields[3]!, "0", "2"]]
            defaults.append([resolve("swap")!, "none", "swap", "sw", "0", "0"])
            var swapMiB: UInt64?
            if let swap = settings.swap {
                switch swap.size {
                case .bytes(let bytes): swapMiB = bytes >> 20
                case .auto: swapMiB = SwapFile.suggested(memory: machine.memory, maxsize: swap.maxsize, free: machine.avail) >> 20
                }
            }
            let fstab = machine.fstab
            let lines = Mounts.lines(settings.mounts, defaults: settings.mountDefaultFields, defaultEntries: defaults,
                                     swap: swapMiB.map { _ in settings.swap!.filename }, fstabDevices: Mounts.devices(inFstab: fstab), resolve: resolve)
            return (Mounts.fstab(fstab, lines: lines).text, lines.map { $0[1] }.filter { $0.hasPrefix("/") }, swapMiB)
        }

        @Test(arguments: cases)
        func fstabIsCloudInits(_ name: String, _ yaml: String, _ machine: Machine) throws {
            // cloud-init drops its own old lines: the same text with its comment is what it is given.
            let theirMachine = Machine(fstab: machine.fstab.replacingOccurrences(of: Mounts.comment, with: "comment=cloudconfig"), devices: machine.devices,
                                       block: machine.block, memory: machine.memory, avail: machine.avail)
            let answer = try CloudInitTruthTests.ask("mounts", userData: Data(("#cloud-config\n" + yaml).utf8), [theirMachine.json])
            let theirs = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
            let mine = try Self.ours(yaml, machine)
            let fstab = (theirs["fstab"] as? String ?? "").replacingOccurrences(of: "comment=cloudconfig", with: Mounts.comment)
                .replacingOccurrences(of: "x-systemd.requires=cloud-init.service", with: "x-systemd.requires=ec2-boot-init.service")
            #expect(mine.fstab == fstab, "\(name)")
            let commands = theirs["commands"] as? [[String]] ?? []
            let swapFolder = commands.first { $0.first == "fallocate" }.map { ($0[3] as NSString).deletingLastPathComponent }
            let dirs = (theirs["dirs"] as? [String] ?? []).filter { !$0.hasPrefix(NSTemporaryDirectory()) && !$0.hasPrefix("/tmp/") && $0 != swapFolder }
            #expect(mine.dirs == dirs, "\(name): the mount points made")
            #expect(mine.swapMiB.map { "\($0)M" } == commands.first { $0.first == "fallocate" }?[2], "\(name): the swap file's size")
        }
    }
}
