import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// Growing the root, its decisions without a disk: which filesystem is mounted where, and
    /// whether a partition can grow (the real sfdisk on a disk image: GrowRootRunTests; a real
    /// disk grown online: the VM's `grow` scenario).
    @Suite struct GrowRootTests {
        static let mountinfo = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 254:1 / / rw,relatime shared:1 - ext4 /dev/root rw
            30 27 259:3 / /boot/efi rw,relatime shared:9 - vfat /dev/nvme0n1p15 rw
            31 27 0:30 / /mnt rw - tmpfs tmpfs rw
            32 27 8:16 / /mnt rw,nosuid master:3 - xfs /dev/sdb rw
            """

        @Test(arguments: [
            ("/", GrowRoot.Mounted(device: "254:1", point: "/", fsType: "ext4", source: "/dev/root")),
            ("/boot/efi", GrowRoot.Mounted(device: "259:3", point: "/boot/efi", fsType: "vfat", source: "/dev/nvme0n1p15")),
            // Two on one point (optional fields in between): the last, on top, counts.
            ("/mnt", GrowRoot.Mounted(device: "8:16", point: "/mnt", fsType: "xfs", source: "/dev/sdb")),
            ("/srv", nil),
            ("/bo", nil),
        ] as [(String, GrowRoot.Mounted?)])
        func theMountedFilesystemIsReadFromMountinfo(_ point: String, _ expected: GrowRoot.Mounted?) {
            #expect(GrowRoot.mounted(at: point, mountinfo: Self.mountinfo) == expected)
        }

        static func table(_ label: String, _ parts: [(String, UInt64, UInt64)]) -> GrowRoot.Table {
            GrowRoot.Table(label: label, sectorsize: 512, partitions: parts.map { .init(node: $0.0, start: $0.1, size: $0.2) })
        }

        static let gib: UInt64 = 1 << 30

        @Test(arguments: [
            // A 2 GiB image's GPT root (partition 1 from 1 MiB) on a 4 GiB disk: grows.
            (table("gpt", [("/dev/vda1", 2048, 4_192_223)]), 1, 4 * gib, "grow"),
            // The same partition on its own 2 GiB disk fills it (GPT's 34 end sectors kept): nothing.
            (table("gpt", [("/dev/vda1", 2048, 4_192_223)]), 1, 2 * gib, "fills its disk"),
            // Less than 1 MiB free: alignment crumbs, not worth a write.
            (table("gpt", [("/dev/vda1", 2048, 4_191_000)]), 1, 2 * gib, "fills its disk"),
            (table("dos", [("/dev/sda1", 2048, 4_192_256)]), 1, 4 * gib, "grow"),
            (table("dos", [("/dev/sda1", 2048, 4_192_256)]), 1, 2 * gib, "fills its disk"),
            // Debian's cloud image: root partition 1 last on disk, BIOS boot 14 and ESP 15 before it.
            (table("gpt", [("/dev/nvme0n1p1", 262_144, 3_930_079), ("/dev/nvme0n1p14", 2048, 6144), ("/dev/nvme0n1p15", 8192, 253_952)]), 1, 8 * gib, "grow"),
            // A partition after the root: never moved or overwritten.
            (table("gpt", [("/dev/vda1", 2048, 2_000_000), ("/dev/vda2", 2_002_048, 100_000)]), 1, 4 * gib, "is followed by /dev/vda2"),
            (table("dos", [("/dev/sda1", 2048, 100_000), ("/dev/sda2", 102_400, 1000), ("/dev/sda5", 104_448, 500)]), 5, 4 * gib, "logical partition"),
            (table("gpt", [("/dev/vda1", 2048, 100_000)]), 2, 4 * gib, "partition 2 is not in the table"),
            (table("sun", [("/dev/vda1", 2048, 100_000)]), 1, 4 * gib, "a sun table is not grown"),
            // MBR addresses 2^32 sectors: a partition at that end on a bigger disk has nothing to gain.
            (table("dos", [("/dev/sda1", 2048, (1 << 32) - 2049)]), 1, 4 * 1024 * gib, "fills its disk"),
        ] as [(GrowRoot.Table, Int, UInt64, String)])
        func whetherAPartitionGrowsIsATable(_ table: GrowRoot.Table, _ number: Int, _ bytes: UInt64, _ expected: String) {
            switch GrowRoot.plan(table, number: number, bytes: bytes) {
            case .grow: #expect(expected == "grow")
            case .nothing(let why): #expect(why.contains(expected), "\(why)")
            }
        }

        @Test func sfdisksJSONIsReadAsItPrintsIt() throws {
            let json = #"{"partitiontable": {"label": "gpt", "id": "X", "device": "/dev/vda", "unit": "sectors", "firstlba": 2048, "lastlba": 4194270, "sectorsize": 512, "partitions": [{"node": "/dev/vda1", "start": 2048, "size": 4192223, "type": "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}]}}"#
            let table = try JSONDecoder().decode(GrowRoot.Table.self, from: Data(json.utf8))
            #expect(table == Self.table("gpt", [("/dev/vda1", 2048, 4_192_223)]))
            #expect(GrowRoot.Table.Partition(node: "/dev/nvme0n1p15", start: 0, size: 0).number == 15)
        }
    }
}
