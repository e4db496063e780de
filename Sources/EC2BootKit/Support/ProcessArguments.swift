import CBootArgs

/// The process's arguments as the kernel passed them (argv[0] first), read from the vector
/// itself: Swift's CommandLine reads /proc/self/cmdline on Linux, and in a chroot without /proc
/// (an image builder running `ec2-boot-init --version`) it is empty, which once made any
/// invocation a boot run. Nil when even the vector is empty (execve with no argv).
public enum ProcessArguments {
    public static var all: [String]? {
        let count = Int(ec2boot_argc())
        guard count > 0, let vector = ec2boot_argv() else { return nil }
        return (0..<count).map { vector[$0].map { String(cString: $0) } ?? "" }
    }
}
