/// Exit codes, the same for every subcommand.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// Something the run was asked to do failed.
    case failed = 1
    /// Bad usage, config or user-data.
    case badInput = 2
    /// No data source: IMDS unreachable within the deadline and no cache.
    case noDataSource = 3
    /// `fetch` only: the server said 404 (the Ruby shim raises URLNotFound for it).
    case notFound = 4
}
