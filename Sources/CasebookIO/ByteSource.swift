#if canImport(Glibc)
import Glibc
#endif

/// Something that fills a buffer with the next bytes of a stream; 0 means the end.
public protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Bytes consumed from the underlying file so far (compressed bytes for gzip),
    /// for progress and for pointing at damage.
    var consumedBytes: Int64 { get }
}

/// Failures to read an input or write an output file, each naming the file and what went wrong.
public enum FileError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case gzipCorrupt(path: String, compressedOffset: Int64, reason: String)
    case gzipTruncated(path: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .readFailed(path, reason): return "cannot read \(path): \(reason)"
        case let .writeFailed(path, reason): return "cannot write \(path): \(reason)"
        case let .gzipCorrupt(path, offset, reason):
            return "\(path): gzip data is corrupt at compressed byte \(offset) (\(reason))"
        case let .gzipTruncated(path): return "\(path): the gzip stream ends early (file truncated)"
        }
    }
}

/// A file (or standard input) read with plain `read(2)` calls.
///
/// A regular file is read only up to the size it had when it was opened, so a
/// file that grows during an ingest is read, hashed and recorded as one
/// consistent snapshot; what is appended later is a new file next time.
public final class FileSource: ByteSource {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// The size at opening, for a regular file; nil for a pipe, FIFO or terminal.
    public let size: Int64?
    public private(set) var consumedBytes: Int64 = 0
    /// Whether the pages read are handed back to the kernel as reading goes on (see `init`).
    private let dropsPagesRead: Bool
    private var droppedBytes: Int64 = 0

    /// Opens `path`; "-" means standard input. `limit` reads at most that many bytes.
    /// `dropsPagesRead`: for a file read once to its end (an input being loaded), the page
    /// cache's copies of what was read are dropped every few megabytes. Kept, gigabytes of
    /// input crowd out the case file being written, whose new pages must then come from
    /// memory the machine has not touched for a while, which costs ten times as much on a
    /// virtual machine that hands idle memory back to its host (BENCHMARKS.md).
    public init(path: String, limit: Int64? = nil, dropsPagesRead: Bool = false) throws {
        self.path = path
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = SystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
            guard descriptor >= 0 else {
                throw FileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            ownsDescriptor = true
        }
        var info = stat()
        let regular = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        let current = regular ? Int64(info.st_size) : nil
        size = limit.map { min($0, current ?? $0) } ?? current
        self.dropsPagesRead = dropsPagesRead && regular
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    private static let dropInterval: Int64 = 8 << 20

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var wanted = buffer.count
        if let size { wanted = Int(min(Int64(wanted), size - consumedBytes)) }
        guard wanted > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, wanted)
            if count >= 0 {
                consumedBytes += Int64(count)
                if dropsPagesRead && consumedBytes - droppedBytes >= Self.dropInterval {
                    // From the start each time: pages still in flight (readahead) at one call
                    // stay behind, and dropping only the new range leaves them for good.
                    _ = posix_fadvise(descriptor, 0, off_t(consumedBytes), POSIX_FADV_DONTNEED)
                    droppedBytes = consumedBytes
                }
                return count
            }
            if errno == EINTR { continue }
            throw FileError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Output directories, created with their parents.
public enum OutputDirectory {
    /// Like `mkdir -p`, with a `FileError` that names the directory and the system's reason.
    public static func create(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw FileError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError.writeFailed(path: path, reason: "not a directory")
        }
    }

    /// A new directory only its owner can read (mode 0700); fails if anything is already there.
    public static func createPrivate(_ path: String) throws {
        guard SystemPath.withCString(path, { mkdir($0, 0o700) }) == 0 else {
            throw FileError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
