import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

extension Watcher {
    /// Reads `path` (setting the next watch) and handles what is there, until nothing new is.
    func process(_ path: String) async {
        let isGroup = path != target.node + "/command"
        // Stopping: what runs now is left `running` for the next start, nothing new begins.
        while Interruption.signal == nil && !session.isFinished {
            let data: Data, stat: ZKStat
            do {
                (data, stat) = try await session.get(path, watch: true, limit: Command.maxEnvelopeBytes + 1)
            } catch where error.code == ZKError.noNode {
                // Deleted by someone: a watch for its creation instead (a read of no node sets none).
                logger.warning("\(path) does not exist; waiting for it to be created")
                _ = try? await session.exists(path, watch: true)
                return
            } catch {
                if !error.isTransient && !error.needsNewSession { logger.error("cannot read \(path): \(error)") }
                return
            }
            let key = WriteKey(stat, data)
            if stat.dataLength == 0 || data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
                if isGroup { know(path) }
                return
            }
            switch ledger.verdict(key, at: path, isGroup: isGroup) {
            case .done:
                // Finished before a restart that came before the clear.
                if !isGroup { await clear(path, stat) }
                return
            case .joinedAfter:
                adopt(data, stat: stat, key: key, path: path)
                return
            case .interrupted:
                await resume(data, stat: stat, key: key, path: path, isGroup: isGroup)
            case .run:
                await execute(admit(data, stat: stat, key: key, path: path, replayCheck: true), stat: stat, key: key, path: path, isGroup: isGroup)
            }
            if isGroup { return }  // a group's command stays; the watch set by the read tells of the next
        }
    }

    /// A command the watcher was running when it stopped: run again with `rerun_if_interrupted`,
    /// else reported as interrupted.
    func resume(_ data: Data, stat: ZKStat, key: WriteKey, path: String, isGroup: Bool) async {
        let id: String, signed: Bool
        let admission = admit(data, stat: stat, key: key, path: path, replayCheck: false)
        switch admission {
        case .run(let command, _, _, _, _) where command.rerunIfInterrupted:
            logger.notice("running an interrupted command again (rerun_if_interrupted)", metadata: ["write": "\(key.text)"])
            await execute(admission, stat: stat, key: key, path: path, isGroup: isGroup)
            return
        case .run(_, let runID, let wasSigned, _, _): (id, signed) = (runID, wasSigned)
        case .refuse(let refusedID, _, let wasSigned): (id, signed) = (refusedID, wasSigned)
        }
        await report(CommandResult(command: id, signed: signed, source: path, instanceID: instanceID, outcome: .interrupted, exit: 1,
                                   started: "", finished: Timestamp.now(), actions: [],
                                   error: "the watcher stopped while this command ran", output: []), isGroup: isGroup)
        record { $0.finished(key, at: path) }
        if !isGroup { await clear(path, stat) }
    }

    /// Runs an admitted command (or reports its refusal), records it, and clears the node's command
    /// if it is still the one read (a conditional set: a command written meanwhile stays, and runs next).
    func execute(_ admission: Admission, stat: ZKStat, key: WriteKey, path: String, isGroup: Bool) async {
        let started = Timestamp.now()
        switch admission {
        case .refuse(let id, let reason, let signed):
            logger.error("command refused: \(reason)", metadata: ["source": "\(path)", "command": "\(Printable.escape(id))"])
            await report(CommandResult(command: id, signed: signed, source: path, instanceID: instanceID, outcome: .refused,
                                       exit: ExitStatus.badInput.rawValue, started: started, finished: Timestamp.now(),
                                       actions: [], error: reason, output: []), isGroup: isGroup)
        case .run(let command, let id, let signed, _, _):
            logger.info("running a command", metadata: ["source": "\(path)", "command": "\(id)", "actions": "\(command.summary)"])
            var result = await CommandRun(paths: paths, config: config, instance: instance, logger: logger)
                .run(command, id: id, source: path, started: started)
            result.signed = signed
            let stopped = Interruption.signal != nil
            if stopped {
                result.error = (result.error.map { $0 + "; " } ?? "") + (command.rerunIfInterrupted
                    ? "the watcher was stopped; the command runs again when it starts" : "the watcher was stopped")
            }
            await report(result, isGroup: isGroup)
            // Stopped: the write stays `running`, so the next start reports it or runs it again.
            if stopped { return }
        }
        record { $0.finished(key, at: path) }
        if !isGroup { await clear(path, stat) }
    }

    /// The signature and the command checked; to run, the signed id is taken (unless this is a
    /// re-run) and the write marked running, in one save, so a crash between the two cannot
    /// leave an id taken by a command that never started. Nothing runs while the clock is behind
    /// the latest time a command was admitted at: it was stepped back, and an old command could
    /// look fresh.
    func admit(_ data: Data, stat: ZKStat, key: WriteKey, path: String, replayCheck: Bool, now: Date = Date()) -> Admission {
        if let behind = ledger.clockBehind(now) {
            let reason = "this node's clock (\(Timestamp.string(now))) is behind the latest time it admitted a command at "
                + "(\(Timestamp.string(behind))): it was stepped back; commands are refused until it catches up"
            logger.warning("\(reason)")
            return .refuse(id: key.mzxid, reason: reason, signed: false)
        }
        let admission = target.admit(data, size: Int(stat.dataLength), path: path, key: key, now: now)
        guard case .run(_, let id, let signed, let issued, let expires) = admission else { return admission }
        // A group's command issued before this node joined the group is not for it (its first boot set it up).
        let joined = path == target.node + "/command" ? nil : ledger.joined(path)
        let early = joined.flatMap { joined in issued.flatMap { $0 < joined ? (joined, $0) : nil } }
        var fresh = true
        record { ledger in
            if replayCheck, signed, let expires { fresh = ledger.claim(id, expires: expires, now: now) }
            if fresh && early == nil {
                ledger.started(key, at: path)
                ledger.admitted(at: now)
            }
        }
        if !fresh { return .refuse(id: id, reason: "command id \(id) already ran here (a replay)", signed: true) }
        if let (joined, issued) = early {
            return .refuse(id: id, reason: "issued \(Timestamp.string(issued)), before this node joined \(path.parentFolder) "
                           + "at \(Timestamp.string(joined)); not run here", signed: true)
        }
        return admission
    }

    /// A group's command standing there when this node first watches the group: not run (the
    /// node's first boot set it up), and its signed id taken, so the same bytes written back
    /// later are a replay, not a new command.
    func adopt(_ data: Data, stat: ZKStat, key: WriteKey, path: String, now: Date = Date()) {
        let opened = try? SignedCommand.open(data, keys: target.publicKeys, target: target.signedTarget(path.parentFolder),
                                             now: now)
        logger.info("a command in \(path) predates this node; not run", metadata: ["write": "\(key.text)", "command": "\(opened?.id ?? "-")"])
        record { ledger in
            ledger.join(path, now: now)
            if let opened { _ = ledger.claim(opened.id, expires: opened.expires, now: now) }
            ledger.finished(key, at: path)
        }
    }

    /// Empties the node's command once handled, where this node may write it (with
    /// `watch.operator` only the operator may: the signed id keeps it from running twice).
    func clear(_ path: String, _ stat: ZKStat) async {
        do { try await session.set(path, Data(), version: stat.version) } catch where error.code == ZKError.badVersion {
            logger.info("a new command arrived during the run; it runs next", metadata: ["source": "\(path)"])
        } catch where error.code == ZKError.noAuth {
            return
        } catch {
            logger.error("cannot clear \(path): \(error)")
        }
    }

    func report(_ result: CommandResult, isGroup: Bool) async {
        let path = isGroup ? result.source.parentFolder + "/results/" + instanceID : target.node + "/result"
        logger.info("command done", metadata: ["command": "\(Printable.escape(result.command))", "outcome": "\(result.outcome.rawValue)",
                                               "result": "\(path)"])
        await write(result.json, to: path)
    }

    func write(_ json: Data, to path: String) async {
        do {
            do { try await session.set(path, json) } catch where error.code == ZKError.noNode {
                try await session.create(path, json, acl: target.acl)
            }
        } catch {
            logger.error("cannot write the result to \(path) now: \(error); it is sent after the next connect")
            unsent.append((path, json))
        }
    }

    private func know(_ path: String) {
        if ledger.sources[path] == nil { record { $0.join(path, now: Date()) } }
    }

    func record(_ change: (inout CommandLedger) -> Void) {
        change(&ledger)
        do { try ledger.save(paths) } catch { logger.error("cannot record the handled commands: \(error)") }
    }
}
