import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// The instance store's decisions without a disk: which mappings count, which node each is
    /// (its fstab line: MountsTests; a real run on a root with real blkid: EssentialsDiskTests;
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
            // Any name, for a cloud-config's mounts entry: ephemeral2 is the third instance store disk (an NVMe one here).
            #expect(InstanceStore.disk(metadata, "swap", nvme: [], exists: { $0 == "/dev/xvde" }) == "/dev/xvde")
            #expect(InstanceStore.disk(metadata, "ephemeral2", nvme: ["nvme1n1", "nvme2n1", "nvme3n1"], exists: { _ in false }) == "/dev/nvme3n1")
            #expect(InstanceStore.disk(metadata, "ephemeral3", nvme: [], exists: { _ in true }) == nil)
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

        /// A mapped disk mounted somewhere else (the root disk, one the image mounts itself) is left alone.
        @Test(arguments: [("8:16", "/mnt", nil), ("8:16", "/media/ephemeral1", "/mnt"), ("254:1", "/mnt", "/"), ("8:32", "/mnt", nil)] as [(String, String, String?)])
        func aDiskMountedElsewhereIsLeftAlone(_ device: String, _ point: String, _ expected: String?) {
            #expect(InstanceStore.mountedElsewhere(device, than: point, mountinfo: UnitTier.GrowRootTests.mountinfo) == expected)
        }
    }
}
