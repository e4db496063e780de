import Foundation
import Testing

extension ProcessTier {
    /// Off EC2 with nothing to read: the run and the systemd generator, on a root whose sysfs
    /// shows QEMU's DMI (the metadata URL is the real default: nothing may be asked of it).
    @Suite struct PlatformRunTests {
        static func root(vendor: String, uuid: String, name: String = #function) throws -> String {
            let root = try makeRoot(name)
            try TestEnv.write(vendor + "\n", to: root + "/sys/class/dmi/id/sys_vendor")
            try TestEnv.write(uuid + "\n", to: root + "/sys/class/dmi/id/product_uuid")
            try TestEnv.write(uuid + "\n", to: root + "/sys/class/dmi/id/product_serial")
            return root
        }

        @Test func offEC2TheRunReadsNothingAndTheMOTDSaysWhy() throws {
            let root = try Self.root(vendor: "QEMU", uuid: "7b0b1d3c-6f7e-4a3b-9c1d-0e1f2a3b4c5d")
            let data = try tool(["run", "--stage", "data", "--root", root])
            #expect(data.status == 0, "\(data.stderr)")
            #expect(data.stderr.contains("not reading instance metadata: not EC2: DMI sys_vendor is QEMU"), "\(data.stderr)")
            #expect(!data.stderr.contains("IMDS") && !data.stderr.contains("169.254"), "nothing was asked of a metadata service")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("UNPROVISIONED instance: no instance data") == true)
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/meta-data"), "no cache")
            #expect(try tool(["run", "--stage", "actions", "--root", root]).status == 0)
            let status = try tool(["status", "--wait", "--timeout", "5", "--root", root])
            #expect(status.status == 0 && status.stdout.contains("status:   disabled") && status.stdout.contains("disabled: not EC2"),
                    "recorded as disabled, and nothing to wait for: \(status.stdout)")
            #expect(try tool(["status", "--json", "--root", root]).stdout.contains("\"status\" : \"disabled\""))
        }

        /// systemd runs the generator through a link named ec2-boot-init-generator.
        func generate(_ root: String) throws -> (ToolResult, String) {
            let dir = try TestEnv.tempDir("generator")
            let link = dir + "/ec2-boot-init-generator"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: TestEnv.binary)
            for folder in ["normal", "early", "late"] { try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true) }
            var environment = ProcessInfo.processInfo.environment
            environment["EC2BOOT_ROOT"] = root
            let result = try runProcess(link, [dir + "/normal", dir + "/early", dir + "/late"], environment: environment)
            return (result, dir)
        }

        @Test func theGeneratorMasksTheNetworkUnitsOffEC2Only() throws {
            let (off, dir) = try generate(try Self.root(vendor: "QEMU", uuid: "7b0b1d3c-6f7e-4a3b-9c1d-0e1f2a3b4c5d"))
            #expect(off.status == 0, "\(off.stderr)")
            let early = dir + "/early"
            for unit in ["ec2-boot-init.service", "ec2-boot-init-actions.service", "ec2-boot-init-watch.service"] {
                #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: early + "/" + unit)) == "/dev/null", "\(unit) masked")
            }
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: early + "/multi-user.target.wants/ec2-boot-init-offline.service"))
                    == "/lib/systemd/system/ec2-boot-init-offline.service")

            let (on, onDir) = try generate(try Self.root(vendor: "Amazon EC2", uuid: "ec2e1916-9099-7caf-fd21-012345abcdef"))
            #expect(on.status == 0, "\(on.stderr)")
            for folder in ["normal", "early", "late"] {
                #expect(try FileManager.default.contentsOfDirectory(atPath: onDir + "/" + folder).isEmpty, "on EC2 the units run as installed")
            }
        }
    }
}
