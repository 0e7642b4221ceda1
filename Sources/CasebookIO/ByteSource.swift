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
public final class FileSource: ByteSource {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    public private(set) var consumedBytes: Int64 = 0

    /// Opens `path`; "-" means standard input.
    public init(path: String) throws {
        self.path = path
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw FileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
            }
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 {
                consumedBytes += Int64(count)
                return count
            }
            if errno == EINTR { continue }
            throw FileError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// The file's size in bytes, or nil for a pipe or terminal.
    public var size: Int64? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}
