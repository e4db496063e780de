/// The tool's version, shown by `--version`.
public enum EC2BootVersion {
    public static let string = "0.3.0"
}
