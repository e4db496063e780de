#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The instance's own SSH host keys, as cloud-init's ssh module makes them on each new instance
/// (`ssh_deletekeys`, `ssh_genkeytypes`): the image's keys deleted, one key made per type with
/// `ssh-keygen` (each pair made in a folder of its own, then renamed into /etc/ssh, so sshd
/// never finds half a pair), and their fingerprints and public keys for the console, between
/// cloud-init's markers, so EC2's "get system log" shows them as users expect.
enum HostKeys {
    /// Made only on an image with an SSH server.
    static func hasServer(_ paths: Paths) -> Bool { FileSystem.exists(paths.host("/etc/ssh/sshd_config")) }

    static let keygen = "/usr/bin/ssh-keygen"

    /// Deletes the old keys when asked, makes the missing types; the problems, each in a line.
    static func renew(_ settings: EssentialsSettings, paths: Paths, logger: Logger) async -> [String] {
        let folder = paths.host("/etc/ssh")
        guard FileSystem.exists(keygen) else { return ["\(keygen) is missing: no host keys made"] }
        var problems: [String] = []
        if settings.sshDeleteKeys {
            // The certificates' sshd setting goes with them (an image made from this instance has none).
            for name in existing(folder) + ["sshd_config.d/" + certificateConfig] where FileSystem.exists(folder + "/" + name) {
                do { try FileSystem.remove(folder + "/" + name) } catch { problems.append("cannot delete \(folder)/\(name): \(error)") }
            }
        }
        if let keys = settings.sshKeys {
            problems += await install(keys, in: folder)
        } else {
            for type in settings.sshGenKeyTypes where !FileSystem.exists("\(folder)/ssh_host_\(type)_key") {
                if let problem = await make(type, in: folder) { problems.append(problem) }
            }
        }
        let made = existing(folder).filter { $0.hasSuffix("_key") }
        logger.info("ssh host keys: \(made.isEmpty ? "none" : made.joined(separator: ", "))")
        return problems
    }

    /// The image's host key files (`ssh_host_*key*`), as cloud-init's glob finds them.
    static func existing(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("ssh_host_") && $0.contains("key") }.sorted()
    }

    /// One key pair: made in a private folder beside /etc/ssh, then renamed into place (public key first).
    private static func make(_ type: String, in folder: String) async -> String? {
        let work = folder + "/.ec2-boot-init-keygen-\(type)"
        try? FileManager.default.removeItem(atPath: work)
        defer { try? FileManager.default.removeItem(atPath: work) }
        do { try FileSystem.makeDirectories(work, mode: 0o700) } catch { return "cannot make \(work): \(error)" }
        let name = "ssh_host_\(type)_key"
        // Its output is not logged: nothing of a private key may reach the journal.
        guard let (status, _) = await SystemCommand.capture([keygen, "-q", "-t", type, "-N", "", "-f", work + "/" + name]),
              status == 0 else {
            return "ssh-keygen -t \(type) failed"
        }
        for file in [name + ".pub", name] {
            FileSystem.syncPath(work + "/" + file)
            guard rename(work + "/" + file, folder + "/" + file) == 0 else {
                return "cannot put \(folder)/\(file) in place: \(String(cString: strerror(errno)))"
            }
        }
        FileSystem.syncPath(folder)
        return nil
    }

    /// sshd's setting naming the given certificates, in /etc/ssh/sshd_config.d.
    static let certificateConfig = "50-ec2-boot-init-host-certificates.conf"

    /// cloud-init's `ssh_keys` names (`ed25519_private`, `rsa_public`, `ecdsa_certificate`) and their files.
    static func file(forKey key: String) -> String? {
        let parts = key.split(separator: "_", maxSplits: 1).map(String.init)
        guard parts.count == 2, EssentialsSettings.keyTypes.contains(parts[0]) else { return nil }
        switch parts[1] {
        case "private": return "ssh_host_\(parts[0])_key"
        case "public": return "ssh_host_\(parts[0])_key.pub"
        case "certificate": return "ssh_host_\(parts[0])_key-cert.pub"
        default: return nil
        }
    }

    /// The user-data's `ssh_keys`, instead of made ones: each file written atomically (private
    /// keys 0600, public ones and certificates 0644), a private key's missing public half derived
    /// with `ssh-keygen -y`, certificates named to sshd (`HostCertificate`, in sshd_config.d).
    /// Nothing of a key reaches the log or a problem's text.
    static func install(_ keys: [String: String], in folder: String) async -> [String] {
        var problems: [String] = []
        for (key, text) in keys.sorted(by: { $0.key < $1.key }) {
            guard let name = file(forKey: key) else { continue }
            let body = text.hasSuffix("\n") ? text : text + "\n"
            do { try AtomicFile.write(Data(body.utf8), to: folder + "/" + name, mode: key.hasSuffix("_private") ? 0o600 : 0o644) } catch {
                problems.append("cannot write \(folder)/\(name): \(error)")
            }
        }
        for key in keys.keys.sorted() where key.hasSuffix("_private") && keys[key.replacing("_private", with: "_public")] == nil {
            guard let name = file(forKey: key) else { continue }
            // Its output is stdout and stderr together: the key is the line that is one.
            guard let (status, output) = await SystemCommand.capture([keygen, "-y", "-f", folder + "/" + name]), status == 0,
                  let line = output.split(separator: "\n").first(where: { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") }) else {
                problems.append("ssh_keys: \(key) is not a private key ssh-keygen reads (no public key made from it)")
                continue
            }
            do { try AtomicFile.write(Data((line + "\n").utf8), to: folder + "/" + name + ".pub", mode: 0o644) } catch {
                problems.append("cannot write \(folder)/\(name).pub: \(error)")
            }
        }
        let certificates = keys.keys.sorted().filter { $0.hasSuffix("_certificate") }.compactMap(file(forKey:))
        if !certificates.isEmpty {
            let config = folder + "/sshd_config.d/" + certificateConfig
            let text = "# The user-data's ssh_keys certificates (ec2-boot-init).\n" + certificates.map { "HostCertificate /etc/ssh/\($0)\n" }.joined()
            do { try AtomicFile.write(Data(text.utf8), to: config, mode: 0o644) } catch { problems.append("cannot write \(config): \(error)") }
        }
        return problems
    }

    /// The console's two blocks, as cloud-init's write-ssh-key-fingerprints prints them.
    static func consoleBlocks(paths: Paths) async -> [String] {
        let folder = paths.host("/etc/ssh")
        let publics = existing(folder).filter { $0.hasSuffix("key.pub") }
        guard !publics.isEmpty else { return [] }
        var lines = ["#############################################################", "-----BEGIN SSH HOST KEY FINGERPRINTS-----"]
        for file in publics {
            if let (status, fingerprint) = await SystemCommand.capture([keygen, "-l", "-f", folder + "/" + file]), status == 0 {
                lines.append(fingerprint.trimmingWhitespace(newlines: true))
            }
        }
        lines += ["-----END SSH HOST KEY FINGERPRINTS-----", "#############################################################",
                  "-----BEGIN SSH HOST KEY KEYS-----"]
        for file in publics {
            lines.append(FileSystem.readText(folder + "/" + file).trimmingWhitespace(newlines: true))
        }
        return lines + ["-----END SSH HOST KEY KEYS-----"]
    }

    /// The blocks on the serial console (what EC2's system log shows), when this is the real root.
    static func toConsole(_ lines: [String], paths: Paths) {
        guard paths.root == "/", !lines.isEmpty else { return }
        let fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? FileSystem.writeAll(Data(lines.map { $0 + "\n" }.joined().utf8), to: fd, path: "/dev/console")
    }
}
