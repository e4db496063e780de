import ArgumentParser
import EC2BootCLI
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Print cached instance data, without any network.",
        discussion: """
        KEY is a flattened metadata key (ami_id, placement_availability_zone, public_keys_0_openssh_key), placement_region, or a user-data fact; ec2_<key> works too. With no KEY, prints every key as key=value. A user who is not root reads the user-data's facts from /etc/facts.txt (the user-data itself is root's); --json, which holds it, needs root. Exit 1 for an unknown key, 2 for what needs root (permission denied), 3 when nothing is cached yet.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the merged document (metadata, instance identity, user-data, facts) as JSON.")
    var json = false

    @Argument(help: "The key to print.")
    var key: String?

    func run() throws {
        let config = try global.load()
        let view: InstanceView
        do {
            guard let cached = try InstanceView.cached(paths: global.paths, config: config) else {
                printError("ec2-boot-init: nothing cached in \(global.paths.cacheDir) yet: run `ec2-boot-init run` first")
                throw ExitCode(.noDataSource)
            }
            view = cached
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("ec2-boot-init: cannot read the cache in \(global.paths.cacheDir): \(error)")
            throw ExitCode(.failed)
        }
        // The cached user-data is root's (0600): another user gets its facts from the facts file, which every user may read.
        let hidden = access(global.paths.cacheDir + "/user-data.raw", R_OK) != 0 && errno == EACCES
        if json {
            guard !hidden else { throw Self.denied("the merged document holds the user-data, which is root's") }
            try FileSystem.writeAll(try view.json() + Data("\n".utf8), to: STDOUT_FILENO, path: "stdout")
            return
        }
        var values = view.lookup.values
        // As in the lookup, a user-data fact wins over a metadata key of the same name.
        if hidden { values.merge(Self.factsFile(global.paths)) { _, fact in fact } }
        guard let key else {
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                print("\(name)=\(value)")  // control characters were replaced (see Printable)
            }
            return
        }
        guard let value = values[key] ?? view.lookup.value(for: key) else {
            if hidden { throw Self.denied("\(key) is not in the metadata or \(global.paths.factsFile); the user-data is root's") }
            printError("ec2-boot-init: no key \(key) in the cached data (see `ec2-boot-init query` for all keys)")
            throw ExitCode(.failed)
        }
        print(value)
    }

    /// `name=value` lines of the facts file (0644).
    static func factsFile(_ paths: Paths) -> [String: String] {
        let text = FileSystem.read(paths.factsFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var facts: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return facts
    }

    static func denied(_ why: String) -> ExitCode {
        printError("ec2-boot-init: permission denied: \(why): run as root (sudo)")
        return ExitCode(.badInput)
    }
}
