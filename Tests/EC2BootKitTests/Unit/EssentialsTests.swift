import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// Whether a boot does the essentials (host keys, default user, key pair), from the setting,
    /// cloud-init's presence and the instance's history alone.
    @Suite struct EssentialsTests {
        @Test(arguments: [
            (true, Essentials.CloudInit.absent, Essentials.History.firstBoot, "run"),
            (true, .disabled("/etc/cloud/cloud-init.disabled"), .firstBoot, "run"),
            (true, .absent, .done, "skip"),
            (true, .absent, .bootedWithout, "skip: this instance first booted with a version without essentials"),
            (true, .enabled, .firstBoot, "skip: cloud-init is installed and enabled"),
            (true, .enabled, .bootedWithout, "skip: cloud-init is installed and enabled"),
            (false, .absent, .firstBoot, "skip: essentials.enabled is false"),
            (false, .enabled, .done, "skip: essentials.enabled is false"),
        ] as [(Bool, Essentials.CloudInit, Essentials.History, String)])
        func theDecisionIsATable(_ enabled: Bool, _ cloudInit: Essentials.CloudInit, _ history: Essentials.History, _ expected: String) {
            let decision = Essentials.decide(enabled: enabled, cloudInit: cloudInit, history: history)
            switch decision {
            case .run: #expect(expected == "run")
            case .skip(nil): #expect(expected == "skip")
            case .skip(let why?): #expect(expected.hasPrefix("skip: ") && why.hasPrefix(expected.dropFirst(6)), "\(why)")
            }
        }

        /// cloud-init counts when installed, not disabled by its file or the kernel, and its service enabled.
        @Test func cloudInitIsEnabledOnlyWhenItWouldRun() throws {
            let root = try TestEnv.tempDir("cloudinit-presence")
            let paths = Paths(root: root)
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: nil) == .absent)
            try TestEnv.write("#!/bin/sh\n", to: root + "/usr/bin/cloud-init")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: nil) == .disabled("cloud-init.service is not enabled"))
            try TestEnv.write("", to: root + "/etc/systemd/system/cloud-init.target.wants/cloud-init.service")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: "ro quiet") == .enabled)
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: "ro cloud-init=disabled") == .disabled("cloud-init=disabled"))
            try TestEnv.write("", to: root + "/etc/cloud/cloud-init.disabled")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: nil) == .disabled("/etc/cloud/cloud-init.disabled"))
        }

        /// Account and group names from config.yaml become useradd's arguments: nothing else gets through.
        @Test(arguments: [("admin", true), ("_svc-1", true), ("ec2-user", true), ("Admin", false), ("-o", false), ("1x", false),
                          ("a/b", false), ("a b", false), ("", false), (String(repeating: "a", count: 33), false)])
        func accountNamesAreDebians(_ name: String, _ valid: Bool) {
            #expect(AccountName.isValid(name) == valid)
        }
    }
}
