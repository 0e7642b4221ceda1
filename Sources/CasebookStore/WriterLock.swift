import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Exclusive right to bulk-write one case file, held for a whole ingest or link run.
///
/// SQLite would let two ingests interleave their batches; that is safe but
/// makes the resume cursor of each meaningless, so a second writer is refused
/// with a clear message instead. The lock is an `flock` on the database file
/// itself, so it follows the file's identity (device and inode): a hard link or
/// a symbolic link names the same lock. `flock` locks are independent of the
/// POSIX locks SQLite takes, but closing any descriptor of the file would drop
/// those, so the descriptor is kept open for the life of the process and only
/// unlocked. The kernel releases the lock when the process dies, so a
/// `kill -9` never leaves a stale lock, and no side file is left behind.
public final class WriterLock {
    private let descriptor: Int32
    private let identity: FileIdentity

    /// Locks `databasePath`, which must exist (`CaseFile.prepareForWriting` creates it).
    public init(databasePath: String) throws {
        let opened = try LockTable.shared.descriptor(for: databasePath)
        guard LockTable.shared.claim(opened.identity) else {
            throw CaseFileError.writerBusy(path: databasePath, holder: "this process")
        }
        guard flock(opened.descriptor, LOCK_EX | LOCK_NB) == 0 else {
            LockTable.shared.release(opened.identity)
            throw CaseFileError.writerBusy(path: databasePath, holder: Self.holder(of: opened.identity))
        }
        descriptor = opened.descriptor
        identity = opened.identity
    }

    deinit {
        flock(descriptor, LOCK_UN)
        LockTable.shared.release(identity)
    }

    /// The process holding an `flock` on the file, from /proc/locks (Linux).
    private static func holder(of identity: FileIdentity) -> String {
        guard let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return "pid unknown" }
        for line in text.split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK",
                  fields[5].split(separator: ":").last.flatMap({ UInt64($0) }) == identity.inode else { continue }
            return "pid \(fields[4])"
        }
        return "pid unknown"
    }
}

/// A file's device and inode: what a hard link and a symbolic link share with the original.
struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64
}

/// One open descriptor per locked file for the whole process, and which files this process holds.
private final class LockTable: @unchecked Sendable {
    static let shared = LockTable()
    private let mutex = NSLock()
    private var descriptors: [FileIdentity: Int32] = [:]
    private var held: Set<FileIdentity> = []

    func descriptor(for path: String) throws -> (descriptor: Int32, identity: FileIdentity) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CaseFileError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw CaseFileError.notARegularFile(path: path) }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        mutex.lock()
        defer { mutex.unlock() }
        if let existing = descriptors[identity] { return (existing, identity) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CaseFileError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        descriptors[identity] = descriptor
        return (descriptor, identity)
    }

    func claim(_ identity: FileIdentity) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        return held.insert(identity).inserted
    }

    func release(_ identity: FileIdentity) {
        mutex.lock()
        held.remove(identity)
        mutex.unlock()
    }
}
