import CSQLite
import Foundation

/// Copies the write-ahead log into the database file on its own thread and
/// connection while a bulk load runs.
///
/// In WAL mode every page is written twice: to the log at commit, and to the
/// database at checkpoint. SQLite normally checkpoints inside the committing
/// thread; a loader that turns that off (`wal_autocheckpoint = 0`) and runs
/// this instead moves the second write to the other core.
public final class Checkpointer: @unchecked Sendable {
    private let path: String
    private let condition = NSCondition()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    /// Checkpoint once the log holds this many bytes.
    private let threshold: Int64

    public init(path: String, thresholdBytes: Int64 = 64 << 20) {
        self.path = path
        threshold = thresholdBytes
    }

    public func start() {
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            // A failed checkpoint is not an error of the load: SQLite checkpoints at close anyway.
            guard let database = try? Database(path: path, mode: .readWrite) else { return }
            database.setBusyTimeout(milliseconds: 1_000)
            while !shouldStop(waiting: 0.1) {
                if walSize() >= threshold { try? database.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
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

    private func shouldStop(waiting seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if !stopping { _ = condition.wait(until: Date().addingTimeInterval(seconds)) }
        return stopping
    }

    private func walSize() -> Int64 {
        var info = stat()
        return stat(path + "-wal", &info) == 0 ? Int64(info.st_size) : 0
    }
}
