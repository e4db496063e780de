import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// The instance store's decisions without a disk: which mappings count, which node each is,
    /// and how /etc/fstab changes (a real run on a root with real blkid: InstanceStoreRunTests;
    /// mounted on a real boot: the VM's `essentials` scenario).
    @Suite struct InstanceStoreTests {
        @Test func onlyEphemeralMappingsWithPlainDeviceNamesCount() {
            let metadata = MetadataTree(leaves: [
                "block-device-mapping/ami": "/dev/xvda", "block-device-mapping/root": "/dev/xvda",
                "block-device-mapping/ephemeral1": "sdc\n", "block-device-mapping/ephemeral0": "sdb",
                "block-device-mapping/ephemeral2": "/dev/xvdd", "block-device-mapping/swap": "sde",
                // From the network: nothing that could name a path or an option.
                "block-device-mapping/ephemeral3": "../sda", "block-device-mapping/ephemeral4": "sdb -o",
                "block-device-mapping/ephemeral5": "", "block-device-mapping/ephemeralx": "sdf",
                "block-device-mapping/ephemeral99": "sdg",
            ])
            #expect(InstanceStore.mapped(metadata).map { "\($0.number)=\($0.device)" } == ["0=sdb", "1=sdc", "2=xvdd"])
            #expect(InstanceStore.mountPoint(0) == "/mnt" && InstanceStore.mountPoint(2) == "/media/ephemeral2")
        }

        @Test(arguments: [
            ("sdb", 0, [String](), ["/dev/sdb"], "/dev/sdb"),
            // The metadata says sd*, Xen's kernel xvd*, KVM's vd*: cloud-init's remap.
            ("sdb", 0, [], ["/dev/xvdb"], "/dev/xvdb"),
            ("sdb", 0, [], ["/dev/vdb", "/dev/vdb1"], "/dev/vdb1"),
            // Nitro: NVMe instance store disks by their model, in order.
            ("sdb", 0, ["nvme1n1", "nvme2n1"], ["/dev/nvme1n1"], "/dev/nvme1n1"),
            ("sdc", 1, ["nvme1n1", "nvme2n1"], ["/dev/nvme2n1p1"], "/dev/nvme2n1p1"),
            ("sdd", 2, ["nvme1n1", "nvme2n1"], [], nil),
            ("xvdb", 0, [], ["/dev/vdb"], nil),
        ] as [(String, Int, [String], [String], String?)])
        func theNodeIsTheKernelsNameForTheMapping(_ name: String, _ index: Int, _ nvme: [String], _ present: [String], _ expected: String?) {
            #expect(InstanceStore.node(name, index: index, nvme: nvme, exists: { present.contains($0) }) == expected)
        }

        static let line = ["/dev/vdb", "/mnt", "auto", "defaults,nofail,comment=ec2-boot-init", "0", "2"]
        static let ours = line.joined(separator: "\t")

        @Test(arguments: [
            // A new instance: our line added after the image's.
            ("/dev/vda1 / ext4 rw 0 1\n", [line], "/dev/vda1 / ext4 rw 0 1\n\(ours)\n", true),
            // A reboot: the same line, nothing changed.
            ("/dev/vda1 / ext4 rw 0 1\n\(ours)\n", [line], "/dev/vda1 / ext4 rw 0 1\n\(ours)\n", false),
            // An instance type without instance store: our old line goes.
            ("/dev/vda1 / ext4 rw 0 1\n\(ours)\n", [], "/dev/vda1 / ext4 rw 0 1\n", true),
            // The operator's own line for the device or for /mnt wins; a comment does not count.
            ("/dev/vdb /data xfs defaults 0 0\n", [line], "/dev/vdb /data xfs defaults 0 0\n", false),
            ("tmpfs\t/mnt\ttmpfs\tdefaults\t0\t0\n", [line], "tmpfs\t/mnt\ttmpfs\tdefaults\t0\t0\n", false),
            ("# /dev/vdb /mnt auto\n", [line], "# /dev/vdb /mnt auto\n\(ours)\n", true),
            ("", [line], "\(ours)\n", true),
            ("", [], "", false),
        ] as [(String, [[String]], String, Bool)])
        func fstabKeepsEveryLineButOurs(_ before: String, _ lines: [[String]], _ after: String, _ changed: Bool) {
            let merged = InstanceStore.fstab(before, lines: lines)
            #expect(merged.text == after)
            #expect(merged.changed == changed)
        }

        /// A mapped disk mounted somewhere else (the root disk, one the image mounts itself) is left alone.
        @Test(arguments: [("8:16", "/mnt", nil), ("8:16", "/media/ephemeral1", "/mnt"), ("254:1", "/mnt", "/"), ("8:32", "/mnt", nil)] as [(String, String, String?)])
        func aDiskMountedElsewhereIsLeftAlone(_ device: String, _ point: String, _ expected: String?) {
            #expect(InstanceStore.mountedElsewhere(device, than: point, mountinfo: UnitTier.GrowRootTests.mountinfo) == expected)
        }
    }
}
