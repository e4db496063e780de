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

    /// Not now: `status` while a run is going on or before any run, a second `watch` on the same
    /// root. The same 2 as bad input, as documented from the first release; named for what it says.
    public static let busy = ExitStatus.badInput
}
