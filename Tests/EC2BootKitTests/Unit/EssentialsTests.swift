import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// Whether a boot does the essentials (all on a first boot; growing and mounts on later
    /// ones), from the setting, cloud-init's presence and the instance's history alone.
    @Suite struct EssentialsTests {
        @Test(arguments: [
            (true, Essentials.CloudInit.absent, Essentials.History.firstBoot, "run"),
            (true, .disabled("/etc/cloud/cloud-init.disabled"), .firstBoot, "run"),
            (true, .absent, .done, "every boot"),
            (true, .disabled("cloud-init=disabled"), .done, "every boot"),
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
            case .everyBoot: #expect(expected == "every boot")
            case .skip(let why): #expect(expected.hasPrefix("skip: ") && why.hasPrefix(expected.dropFirst(6)), "\(why)")
            }
        }

        /// cloud-init counts when installed, not disabled by its file or the kernel, and its service enabled.
        @Test func cloudInitIsEnabledOnlyWhenItWouldRun() throws {
            let root = try TestEnv.tempDir("cloudinit-presence")
            let paths = Paths(root: root)
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: []) == .absent)
            try TestEnv.write("#!/bin/sh\n", to: root + "/usr/bin/cloud-init")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: []) == .disabled("cloud-init.service is not enabled"))
            try TestEnv.write("", to: root + "/etc/systemd/system/cloud-init.target.wants/cloud-init.service")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: ["ro", "quiet"]) == .enabled)
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: ["ro", "cloud-init=disabled"]) == .disabled("cloud-init=disabled"))
            try TestEnv.write("", to: root + "/etc/cloud/cloud-init.disabled")
            #expect(Essentials.cloudInit(paths: paths, kernelCommandLine: []) == .disabled("/etc/cloud/cloud-init.disabled"))
        }

        /// The history, from what the machine knew before the fetch: a fresh machine is marked at
        /// once (a boot cut off after its fetch still does them next time); one that saw this
        /// instance without a version with essentials is an upgrade; a record decides for good.
        @Test func theHistoryComesFromWhatTheMachineKnewBeforeTheFetch() throws {
            let fresh = Paths(root: try TestEnv.tempDir("history-fresh"))
            let before = Essentials.Before(fresh)
            #expect(before.machineKnown && before.seen.isEmpty && FileSystem.isDirectory(fresh.stateDir + "/essentials"))
            #expect(TestEnv.mode(fresh.stateDir) == 0o700 && TestEnv.mode(fresh.stateDir + "/essentials") == 0o700, "the state folder stays root's alone")
            // The cut-off boot: the cache now names the instance, but the machine is known: a first boot.
            try TestEnv.write("i-1", to: fresh.cacheDir + "/meta-data/instance-id")
            #expect(Essentials.history(paths: fresh, instanceID: "i-1", before: Essentials.Before(fresh)) == .firstBoot)

            let upgraded = Paths(root: try TestEnv.tempDir("history-upgraded"))
            try TestEnv.write("i-1\n", to: upgraded.cacheDir + "/meta-data/instance-id")
            let old = Essentials.Before(upgraded)
            #expect(!old.machineKnown && old.seen == ["i-1"] && !FileSystem.exists(upgraded.stateDir + "/essentials"), "not marked: it may be an upgrade")
            #expect(Essentials.history(paths: upgraded, instanceID: "i-1", before: old) == .bootedWithout)
            #expect(Essentials.history(paths: upgraded, instanceID: "i-2", before: old) == .firstBoot, "a new instance of an old image")
            try TestEnv.write("skipped\n", to: Essentials.record(paths: upgraded, instanceID: "i-1"))
            #expect(Essentials.history(paths: upgraded, instanceID: "i-1", before: Essentials.Before(upgraded)) == .done)
            #expect(Essentials.recorded(paths: upgraded, instanceID: "i-1") == nil, "a skip is not shown as done")
        }

        /// Account and group names from config.yaml become useradd's arguments: nothing else gets through.
        @Test(arguments: [("admin", true), ("_svc-1", true), ("ec2-user", true), ("Admin", false), ("-o", false), ("1x", false),
                          ("a/b", false), ("a b", false), ("", false), (String(repeating: "a", count: 33), false)])
        func accountNamesAreDebians(_ name: String, _ valid: Bool) {
            #expect(AccountName.isValid(name) == valid)
        }

        /// growpart in config.yaml reads as cloud-init's: `mode: false` is off, a bad mode or a
        /// device that is not a mount point is an error naming the key.
        @Test(arguments: [
            ("growpart: {mode: false}", "off"),
            ("growpart: {mode: 'off', devices: [/srv]}", "off"),
            ("growpart: {mode: growpart, ignore_growroot_disabled: true}", "growpart"),
            ("resize_rootfs: false", "auto"),
            ("growpart: {mode: gpart}", "gpart is not a mode"),
            ("growpart: {devices: [vda1]}", "vda1 is not a mount point"),
            ("growpart: {mode: auto, device: [/]}", "device"),
        ])
        func growpartReadsAsCloudInits(_ yaml: String, _ expected: String) throws {
            let dir = try TestEnv.tempDir("growpart-config")
            try TestEnv.write("essentials:\n  " + yaml + "\n", to: dir + "/config.yaml")
            do {
                let config = try Config.load(path: dir + "/config.yaml")
                #expect(config.essentials.growpart.mode == expected)
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
