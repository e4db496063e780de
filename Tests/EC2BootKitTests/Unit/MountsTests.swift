import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// cloud-init's mounts module as pure decisions: what a device spec becomes, the fstab lines
    /// from the entries and the defaults, /etc/fstab with ours replaced, swap sizes (the same
    /// against cloud-init's own cc_mounts: MountsTruthTests; written and mounted on a temp root:
    /// EssentialsDiskTests; in a real boot: the VM's users-groups scenario).
    @Suite struct MountsTests {
        static let present = ["/dev/vdb", "/dev/vdb1", "/dev/xvdf", "/dev/nvme1n1", "/dev/nvme1n1p2", "/dev/sdg", "/srv/www1"]
        static let mapping = ["ephemeral0": "/dev/vdb", "ephemeral1": "/dev/nvme1n1", "ebs0": "/dev/xvdf"]

        @Test(arguments: [
            ("ephemeral0", "/dev/vdb1"),            // its first partition, as cloud-init
            ("ephemeral", "/dev/vdb1"),             // cloud-init's alias for ephemeral0
            ("ephemeral1.2", "/dev/nvme1n1p2"),     // a partition asked for
            ("ephemeral1.3", nil),                  // a partition that is not there
            ("ebs0", "/dev/xvdf"),
            ("ephemeral2", nil),                    // not mapped: passed over (cloud-init writes it as given)
            ("swap", nil),
            ("xvdf", "/dev/xvdf"), ("sdg", "/dev/sdg"),
            ("xvdh", "/dev/xvdh"),                  // a kernel name not here yet: under /dev (cloud-init: as given)
            ("sr0", "/dev/sr0"), ("/dev/vdb", "/dev/vdb1"), ("/dev/sdg", "/dev/sdg"),
            ("server:/export", "server:/export"), ("LABEL=data", "LABEL=data"), ("tmpfs", "tmpfs"),
            ("/srv/disk.img", "/srv/disk.img"), ("nvme0n1", "nvme0n1"),
            ("/srv/www", "/srv/www"),               // a folder to bind: /srv/www1 is no partition of it
        ] as [(String, String?)])
        func aSpecBecomesWhatFstabTakes(_ spec: String, _ expected: String?) {
            #expect(Mounts.resolve(spec, mapped: { Self.mapping[$0] }, exists: { Self.present.contains($0) }) == expected)
        }

        @Test(arguments: [("sdb", true), ("xvdb1", true), ("vdz10", true), ("hda", true), ("sr0", true), ("sr", false), ("xxvdb", false),
                          ("sd", false), ("sdB", false), ("sdb.1", false), ("nvme0n1", false), ("srx", false)])
        func kernelNamesAreCloudInits(_ name: String, _ expected: Bool) {
            #expect(Mounts.isKernelName(name) == expected)
        }

        static let defaults: [String?] = [nil, nil, "auto", "defaults,nofail", "0", "2"]
        static let store = ["/dev/vdb1", "/mnt", "auto", "defaults,nofail", "0", "2"]

        @Test(arguments: [
            // Defaults fill what is missing or null; our comment in the options.
            ([["xvdf", "/data"]], [], nil, ["/dev/xvdf /data auto defaults,nofail,C 0 2", "/dev/vdb1 /mnt auto defaults,nofail,C 0 2"]),
            ([["xvdf", "/data", nil, "ro"]], [], nil, ["/dev/xvdf /data auto ro,C 0 2", "/dev/vdb1 /mnt auto defaults,nofail,C 0 2"]),
            // An entry for the instance store replaces the default one.
            ([["ephemeral0", "/scratch", "ext4"]], [], nil, ["/dev/vdb1 /scratch ext4 defaults,nofail,C 0 2"]),
            // A null mount point drops the device's entries so far (and the default, which has the device).
            ([["ephemeral0", "/a"], ["ephemeral0", nil]], [], nil, []),
            ([["xvdf"]], [], nil, ["/dev/vdb1 /mnt auto defaults,nofail,C 0 2"]),
            // A default whose device another fstab line has is left to it; a user's entry is not.
            ([["ephemeral0", "/a"]], ["/dev/vdb1"], nil, ["/dev/vdb1 /a auto defaults,nofail,C 0 2"]),
            ([], ["/dev/vdb1"], nil, []),
            // Passed over: a metadata name with no device; the swap file last.
            ([["ephemeral5", "/x"], ["tmpfs", "/tmp", "tmpfs", "size=1g", "0", "0"]], [], "/swap.img",
             ["tmpfs /tmp tmpfs size=1g,C 0 0", "/dev/vdb1 /mnt auto defaults,nofail,C 0 2", "/swap.img none swap sw,C 0 0"]),
        ] as [([[String?]], [String], String?, [String])])
        func linesAreCloudInits(_ entries: [[String?]], _ inFstab: [String], _ swap: String?, _ expected: [String]) {
            let lines = Mounts.lines(entries, defaults: Self.defaults, defaultEntries: [Self.store], swap: swap, fstabDevices: Set(inFstab)) {
                Mounts.resolve($0, mapped: { Self.mapping[$0] }, exists: { Self.present.contains($0) })
            }
            #expect(lines.map { $0.joined(separator: " ").replacingOccurrences(of: Mounts.comment, with: "C") } == expected)
        }

        static let line = ["/dev/vdb", "/mnt", "auto", "defaults,nofail,comment=ec2-boot-init", "0", "2"]
        static let ours = line.joined(separator: "\t")

        @Test(arguments: [
            // A new instance: our line added after the image's.
            ("/dev/vda1 / ext4 rw 0 1\n", [line], "/dev/vda1 / ext4 rw 0 1\n\(ours)\n", true),
            // A reboot: the same line, nothing changed.
            ("/dev/vda1 / ext4 rw 0 1\n\(ours)\n", [line], "/dev/vda1 / ext4 rw 0 1\n\(ours)\n", false),
            // An instance type without instance store: our old line goes; cloud-init's stay.
            ("/dev/vda1 / ext4 rw 0 1\n\(ours)\nx /y auto comment=cloudconfig 0 0\n", [], "/dev/vda1 / ext4 rw 0 1\nx /y auto comment=cloudconfig 0 0\n", true),
            ("# /dev/vdb /mnt auto\n", [line], "# /dev/vdb /mnt auto\n\(ours)\n", true),
            ("", [line], "\(ours)\n", true),
            ("", [], "", false),
        ] as [(String, [[String]], String, Bool)])
        func fstabKeepsEveryLineButOurs(_ before: String, _ lines: [[String]], _ after: String, _ changed: Bool) {
            let merged = Mounts.fstab(before, lines: lines)
            #expect(merged.text == after)
            #expect(merged.changed == changed)
        }

        @Test func theDevicesOfOtherLinesAreTheFirstFields() {
            #expect(Mounts.devices(inFstab: "/dev/vda1 / ext4 rw 0 1\nUUID=x\t/y\text4\n\(Self.ours)\n") == ["/dev/vda1", "UUID=x"])
        }

        /// cloud-init's human2bytes; a lower-case unit or a sign is refused (cloud-init logs it and makes no swap).
        @Test(arguments: [("512M", UInt64(512) << 20), ("64MB", 64 << 20), ("1.5G", 3 << 29), (".5G", 1 << 29), ("100", 100), ("2T", 2 << 40),
                          ("10B", 10), ("512m", nil), ("-1G", nil), ("G", nil), ("", nil), ("1e3", nil), ("1 G", nil)] as [(String, UInt64?)])
        func sizesAreCloudInits(_ text: String, _ expected: UInt64?) {
            #expect(SwapSettings.parse(text) == expected)
        }

        static let gib: UInt64 = 1 << 30

        @Test(arguments: [
            (2 * gib, nil, 100 * gib, 2 * gib),                  // the memory, under 4 GiB
            (2 * gib, gib, 100 * gib, gib),                      // at most maxsize
            (2 * gib, nil, 4 * gib, gib),                        // at most a quarter of the free space
            (2 * gib, 10 * gib, 2 * gib, UInt64(Double(2 * gib) * 0.9)), // maxsize past 90% of the free space
            (8 * gib, nil, 100 * gib, 4 * gib),                  // 4 GiB up to 16 GiB of memory
            (20 * gib, nil, 100 * gib, 4 * gib),                 // the square root of 20 is 4.47: 4 GiB
            (64 * gib, nil, 1000 * gib, 8 * gib),
        ] as [(UInt64, UInt64?, UInt64, UInt64)])
        func autoSwapIsCloudInitsSuggestion(_ memory: UInt64, _ maxsize: UInt64?, _ free: UInt64, _ expected: UInt64) {
            #expect(SwapFile.suggested(memory: memory, maxsize: maxsize, free: free) == expected)
        }

        static let mountinfo = "36 25 254:1 / / rw - ext4 /dev/vda1 rw\n40 36 254:16 / /data rw - ext4 /dev/vdb rw\n"

        /// What turns a line on: nothing when it is on; a network one (by its spec or type) its unit
        /// started without waiting; a mount point written with a slash at its end is the same point.
        @Test(arguments: [
            (["/dev/vdb", "/data", "auto", "o", "0", "2"], nil),
            (["/dev/vdb", "/data/", "auto", "o", "0", "2"], nil),
            (["/dev/vdc", "/cache/", "auto", "o", "0", "2"], "mount /cache"),
            (["server:/export", "/nfs", "nfs", "o", "0", "0"], "systemctl start --no-block nfs.mount"),
            (["//host/share", "/smb", "cifs", "o", "0", "0"], "systemctl start --no-block smb.mount"),
            (["LABEL=x", "/x", "nfs4", "o", "0", "0"], "systemctl start --no-block x.mount"),
            (["tmpfs", "/scratch", "tmpfs", "o", "0", "0"], "mount /scratch"),
            (["/dev/vde", "none", "auto", "o", "0", "0"], nil),
            (["/ec2-boot-init-test-no-such-swap", "none", "swap", "sw", "0", "0"], "swapon /ec2-boot-init-test-no-such-swap"),
        ] as [([String], String?)])
        func eachLineIsTurnedOnItsWay(_ line: [String], _ expected: String?) {
            #expect(Mounts.command(line, systemd: true, mountinfo: Self.mountinfo)?.joined(separator: " ") == expected)
        }

        @Test(arguments: [("/mnt", "mnt.mount"), ("/media/ephemeral1", "media-ephemeral1.mount"), ("/srv/my data", "srv-my\\x20data.mount"),
                          ("/", "-.mount"), ("/a//b/", "a-b.mount"), ("/.hidden", "\\x2ehidden.mount"), ("/x-y", "x\\x2dy.mount")])
        func mountUnitsAreSystemdEscaped(_ point: String, _ expected: String) {
            #expect(Mounts.unit(point) == expected)
        }
    }
}
