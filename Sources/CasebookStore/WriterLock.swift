#if canImport(Glibc)
import Glibc
#endif

/// Exclusive right to bulk-write one case file, held for a whole ingest.
///
/// SQLite would let two ingests interleave their batches; that is safe but
/// makes the resume cursor of each meaningless, so a second writer is refused
/// with a clear message instead. The lock is an `flock` on a side file
/// (`FILE.lock`), not on the database itself: closing any descriptor of the
/// database would drop SQLite's own POSIX locks. The kernel releases it when
/// the process dies, so a `kill -9` never leaves a stale lock.
public final class WriterLock {
    private let descriptor: Int32
    public let lockPath: String

    public init(databasePath: String) throws {
        lockPath = databasePath + ".lock"
        let descriptor = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CaseFileError.cannotCreate(path: lockPath, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.readHolder(descriptor)
            close(descriptor)
            throw CaseFileError.writerBusy(path: databasePath, holder: holder)
        }
        self.descriptor = descriptor
        let note = "pid \(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readHolder(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return "pid unknown" }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingNewlines()
    }
}

extension String {
    fileprivate func trimmingNewlines() -> String {
        var result = self
        while result.last?.isNewline == true { result.removeLast() }
        return result
    }
}
