import CSQLite
import Foundation

/// Copies the write-ahead log into the database file on its own thread and
/// connection while a bulk load runs, and keeps the log from growing.
///
/// In WAL mode every page is written twice: to the log at commit, and to the
/// database at checkpoint. SQLite normally checkpoints inside the committing
/// thread; a loader that turns that off (`wal_autocheckpoint = 0`) and runs
/// this instead moves the second write to the other core.
///
/// SQLite starts the log over only when a writer begins right after a checkpoint
/// has copied all of it, and a passive checkpoint beside a busy writer never
/// catches up: left at that, the log grew as large as the database (19 GB at
/// campaign scale), every commit extended the file (new blocks, zeroed by the file
/// system) and the page cache held every page twice. So passive checkpoints copy
/// the log beside the writer as it grows, and once it passes its bound the writer,
/// between two transactions, waits while the last pages are copied and a RESTART
/// checkpoint runs (`restartDue`, `restartWhileIdle`); its next commit writes the
/// log from its beginning again.
public final class Checkpointer: @unchecked Sendable {
    private let path: String
    private let condition = NSCondition()
    private var stopping = false
    /// Pages in the log after the writer's last commit (reported by SQLite's WAL hook).
    private var loggedPages = 0
    /// The hand-over between two transactions: asked for by this thread, taken by the writer.
    private var restartAsked = false
    private var writerWaiting = false
    private let finished = DispatchSemaphore(value: 0)
    /// Asked for by the writer: copy what the log holds now, however little (see `catchUp`).
    private var catchUpAsked = false
    /// How often, and for how long in all, the writer waited for the log to start over.
    private var pauses = 0
    private var pausedNanoseconds: UInt64 = 0
    /// How often the log was started over; fewer than the pauses when a reader held an old snapshot.
    private var restartCount = 0
    /// A passive checkpoint each time the log has grown by this many bytes.
    private let interval: Int64
    /// The log is started over once it holds this many bytes.
    private let bound: Int64
    /// The writer waits while what the passive passes left is copied: they go on
    /// while more than this is left (and the passes still gain on the writer).
    private static let restartTailBytes: Int64 = 4 << 20

    /// - Parameters:
    ///   - intervalBytes: how much the log grows between two passive checkpoints. Copying often
    ///     leaves little to copy when the load ends (the final checkpoint is the writer's wait).
    ///   - boundBytes: the log's bound. The writer waits once per bound's worth of pages, while
    ///     the pages of about one transaction are copied.
    public init(path: String, intervalBytes: Int64 = 64 << 20, boundBytes: Int64 = 512 << 20) {
        self.path = path
        interval = intervalBytes
        bound = max(boundBytes, intervalBytes)
    }

    public func start() {
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            // A failed checkpoint is not an error of the load: SQLite checkpoints at close anyway.
            guard let database = try? Database(path: path, mode: .readWrite) else { return }
            // The writer waits while a RESTART waits for readers of an older snapshot: not long.
            database.setBusyTimeout(milliseconds: 200)
            let pageSize = max(512, (try? database.scalarInt("PRAGMA page_size")) ?? 4096)
            let intervalPages = Int(max(1, interval / pageSize))
            let boundPages = Int(max(1, bound / pageSize))
            let tailPages = Int(max(1, Self.restartTailBytes / pageSize))
            var restartAt = boundPages
            var due = intervalPages
            while waitForLog(pages: due) {
                if logged() >= restartAt {
                    // When a reader holds an old snapshot, try again a bound later.
                    restartAt = copyAndRestart(database, tailPages: tailPages) ? boundPages : logged() + boundPages
                } else {
                    _ = checkpoint(database, "PRAGMA wal_checkpoint(PASSIVE)")
                }
                due = min(logged() + intervalPages, restartAt)
            }
        }
    }

    /// Follows `writer`'s commits, so that checkpoints start when its log is due.
    /// Call on the writer's thread, before its first commit; `unfollow` before it closes.
    public func follow(_ writer: Database) {
        sqlite3_wal_hook(writer.handle, { context, _, _, pages in
            Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue().committed(pages: Int(pages))
            return SQLITE_OK
        }, Unmanaged.passRetained(self).toOpaque())
    }

    public func unfollow(_ writer: Database) {
        guard sqlite3_wal_hook(writer.handle, nil, nil) != nil else { return }
        Unmanaged.passUnretained(self).release()
    }

    /// Copies what the log holds now, without waiting for it to grow by an interval. The writer
    /// asks when its load has ended and a long transaction that commits nothing until its end
    /// (an index build) comes next: else up to an interval of the load's last pages waited for
    /// the final checkpoint, which the writer does alone.
    public func catchUp() {
        condition.lock()
        catchUpAsked = true
        condition.signal()
        condition.unlock()
    }

    /// True when the checkpointer waits for the writer to pause between two transactions.
    public var restartDue: Bool {
        condition.lock()
        defer { condition.unlock() }
        return restartAsked
    }

    /// Called by the writer with no transaction open, when `restartDue`: waits while the
    /// log is copied to its end and started over (or the checkpointer stops).
    public func restartWhileIdle() {
        condition.lock()
        defer { condition.unlock() }
        guard restartAsked else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        writerWaiting = true
        condition.broadcast()
        while writerWaiting && !stopping { condition.wait() }
        writerWaiting = false
        pauses += 1
        pausedNanoseconds += DispatchTime.now().uptimeNanoseconds - start
    }

    /// How often the writer has waited in `restartWhileIdle`, and for how many seconds in all.
    public var writerPaused: (count: Int, seconds: Double) {
        condition.lock()
        defer { condition.unlock() }
        return (pauses, Double(pausedNanoseconds) / 1e9)
    }

    /// How often the log has been started over from its beginning.
    public var restarts: Int {
        condition.lock()
        defer { condition.unlock() }
        return restartCount
    }

    /// Stops the thread and waits for it; later calls return at once.
    public func stop() {
        condition.lock()
        let wasStopping = stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if !wasStopping { finished.wait() }
    }

    private func committed(pages: Int) {
        condition.lock()
        loggedPages = pages
        condition.signal()
        condition.unlock()
    }

    private func logged() -> Int {
        condition.lock()
        defer { condition.unlock() }
        return loggedPages
    }

    /// Waits until the log holds `pages` pages, or the writer asks to catch up; false once stopping.
    private func waitForLog(pages: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !stopping && loggedPages < pages && !catchUpAsked { condition.wait() }
        catchUpAsked = false
        return !stopping
    }

    /// Copies the log in passive passes, then, with the writer paused between two
    /// transactions, to its end with a RESTART; true when the log starts over.
    private func copyAndRestart(_ database: Database, tailPages: Int) -> Bool {
        var left = Int.max
        for _ in 0..<4 {
            guard let copied = checkpoint(database, "PRAGMA wal_checkpoint(PASSIVE)") else { return false }
            let previous = left
            left = logged() - copied
            if left <= tailPages || left >= previous { break }
        }
        condition.lock()
        restartAsked = true
        condition.unlock()
        var paused = false
        while !paused {
            condition.lock()
            let deadline = Date().addingTimeInterval(0.1)
            while !writerWaiting && !stopping && condition.wait(until: deadline) {}
            paused = writerWaiting
            let stop = stopping
            condition.unlock()
            if stop { break }
            // The writer is in a long transaction (an index build) or waits for input: copy meanwhile.
            if !paused { _ = checkpoint(database, "PRAGMA wal_checkpoint(PASSIVE)") }
        }
        let restarted = paused && checkpoint(database, "PRAGMA wal_checkpoint(RESTART)") != nil
        condition.lock()
        restartAsked = false
        writerWaiting = false
        if restarted {
            loggedPages = 0
            restartCount += 1
        }
        condition.broadcast()
        condition.unlock()
        return restarted
    }

    /// Runs one checkpoint; the pages copied so far, or nil when it could not finish (busy).
    /// Through the pragma, which reads the log's header first: `sqlite3_wal_checkpoint_v2`
    /// on this connection, which has read nothing else, reported no log at all.
    private func checkpoint(_ database: Database, _ pragma: String) -> Int? {
        guard let result = try? database.prepare(pragma).rows([], { ($0.int64(0), $0.int64(2)) }).first,
              result.0 == 0, result.1 >= 0 else { return nil }
        return Int(result.1)
    }
}
