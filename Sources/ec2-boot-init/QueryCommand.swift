import ArgumentParser
import EC2BootCLI
import EC2BootKit
import Foundation

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Print cached instance data, without any network.",
        discussion: """
        KEY is a flattened metadata key (ami_id, placement_availability_zone, public_keys_0_openssh_key), placement_region, or a user-data fact; ec2_<key> works too. With no KEY, prints every key as key=value. Exit 1 for an unknown key, 3 when nothing is cached yet.
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
        if json {
            FileHandle.standardOutput.write(try view.json() + Data("\n".utf8))
            return
        }
        let lookup = view.lookup
        guard let key else {
            for (name, value) in lookup.values.sorted(by: { $0.key < $1.key }) {
                print("\(name)=\(value)")  // control characters were replaced (see Printable)
            }
            return
        }
        guard let value = lookup.value(for: key) else {
            printError("ec2-boot-init: no key \(key) in the cached data (see `ec2-boot-init query` for all keys)")
            throw ExitCode(.failed)
        }
        print(value)
    }
}
