import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// EC2 or not, from DMI (files under a test root), the kernel command line and the config.
    @Suite struct PlatformTests {
        /// A root whose sysfs holds `dmi` (file → first line) and whose /proc/cmdline is `cmdline`.
        static func root(dmi: [String: String]?, hypervisor: String? = nil, cmdline: String? = nil) throws -> Paths {
            let root = try TestEnv.tempDir("platform")
            if let dmi {
                try FileManager.default.createDirectory(atPath: root + "/sys/class/dmi/id", withIntermediateDirectories: true)
                for (name, value) in dmi { try TestEnv.write(value + "\n", to: root + "/sys/class/dmi/id/" + name) }
            }
            if let hypervisor { try TestEnv.write(hypervisor + "\n", to: root + "/sys/hypervisor/uuid") }
            if let cmdline { try TestEnv.write(cmdline + "\n", to: root + "/proc/cmdline") }
            return Paths(root: root)
        }

        static let nitro = ["product_uuid": "EC2E1916-9099-7CAF-FD21-012345ABCDEF", "product_serial": "ec2e1916-9099-7caf-fd21-012345abcdef",
                            "sys_vendor": "Amazon EC2"]
        static let qemu = ["product_uuid": "7b0b1d3c-6f7e-4a3b-9c1d-0e1f2a3b4c5d", "product_serial": "", "sys_vendor": "QEMU"]

        static func isEC2(_ identity: Platform.Identity) -> Bool? {
            switch identity {
            case .ec2: return true
            case .notEC2: return false
            case .unknown: return nil
            }
        }

        @Test func ds_identifysRulesAndTheNitroVendor() throws {
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: Self.nitro))) == true)
            var uuidOnly = Self.nitro
            uuidOnly["sys_vendor"] = "Other"
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: uuidOnly))) == true, "uuid and serial agree, any case")
            uuidOnly["product_serial"] = "ec2-something-else"
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: uuidOnly))) == false, "uuid and serial must be equal")
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: ["sys_vendor": "Amazon EC2"]))) == true)
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: Self.qemu, hypervisor: "ec2475a1-2bd2-1e6c-c7ef-0123456789ab"))) == true,
                    "Xen instances: /sys/hypervisor/uuid")
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: Self.qemu, hypervisor: "EC2475A1"))) == false,
                    "ds-identify compares the hypervisor uuid case-sensitively")
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: Self.qemu))) == false)
            #expect(Self.isEC2(Platform.identify(try Self.root(dmi: nil))) == nil, "no DMI: unknown")
        }

        @Test func theKernelCommandLineWinsThenTheConfigThenDMI() throws {
            var config = Config()
            #expect(Platform.decide(paths: try Self.root(dmi: Self.qemu), config: config)
                    == .offline("not EC2: DMI sys_vendor is QEMU, product_uuid does not start with ec2"))
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: nil), config: config) else {
                Issue.record("no DMI must read the metadata service as before"); return
            }
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: Self.qemu, cmdline: "ro quiet ec2-boot-init.platform=ec2"), config: config) else {
                Issue.record("the kernel's platform=ec2 wins over DMI"); return
            }
            guard case .offline = Platform.decide(paths: try Self.root(dmi: Self.nitro, cmdline: "ec2-boot-init.platform=none"), config: config) else {
                Issue.record("the kernel's platform=none wins over DMI"); return
            }
            config.platform = .ec2
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: Self.qemu), config: config) else {
                Issue.record("platform: ec2 in the config wins over DMI"); return
            }
            config.platform = .none
            guard case .offline = Platform.decide(paths: try Self.root(dmi: Self.nitro), config: config) else {
                Issue.record("platform: none in the config"); return
            }
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: Self.qemu, cmdline: "ec2-boot-init.platform=ec2"), config: config) else {
                Issue.record("the kernel command line wins over the config"); return
            }
        }

        @Test func aSeedOrAMetadataURLIsReadAnywhere() throws {
            var config = Config()
            config.platform = .none
            config.seed = "/seed"
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: Self.qemu), config: config) else {
                Issue.record("a seed works anywhere"); return
            }
            config.seed = nil
            config.metadataURL = "http://10.0.0.1"
            guard case .proceed = Platform.decide(paths: try Self.root(dmi: Self.qemu), config: config) else {
                Issue.record("a metadata_url someone set is read"); return
            }
        }
    }
}
