import CSystemZlib
#if canImport(Glibc)
import Glibc
#endif

/// Writes bytes to a file, gzip-compressed when asked, through one buffer.
public final class OutputFile {
    public let path: String
    private let descriptor: Int32
    private var stream = z_stream()
    private let compressed: Bool
    private var pending: [UInt8] = []
    private var deflated: UnsafeMutableRawBufferPointer
    private static let flushThreshold = 1 << 20

    /// Creates (or truncates) `path`; `gzipLevel` nil writes plain bytes.
    public init(path: String, gzipLevel: Int32? = nil) throws {
        self.path = path
        descriptor = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        compressed = gzipLevel != nil
        deflated = .allocate(byteCount: 1 << 18, alignment: 16)
        if let gzipLevel, czlib_deflate_init_gzip(&stream, gzipLevel) != Z_OK {
            throw FileError.cannotOpen(path: path, reason: "zlib could not start")
        }
        pending.reserveCapacity(Self.flushThreshold + 4096)
    }

    deinit {
        if compressed { deflateEnd(&stream) }
        deflated.deallocate()
        close(descriptor)
    }

    public func write(_ text: String) throws {
        pending.append(contentsOf: text.utf8)
        if pending.count >= Self.flushThreshold { try drain(finishing: false) }
    }

    public func write(bytes: [UInt8]) throws {
        pending.append(contentsOf: bytes)
        if pending.count >= Self.flushThreshold { try drain(finishing: false) }
    }

    /// Flushes everything and ends the gzip stream; the file is complete after this.
    public func finish() throws {
        try drain(finishing: true)
    }

    private func drain(finishing: Bool) throws {
        guard compressed else {
            try pending.withUnsafeBytes { try writeAll($0) }
            pending.removeAll(keepingCapacity: true)
            return
        }
        try pending.withUnsafeMutableBytes { bytes in
            stream.next_in = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(bytes.count)
            repeat {
                stream.next_out = deflated.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(deflated.count)
                let rc = deflate(&stream, finishing ? Z_FINISH : Z_NO_FLUSH)
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw FileError.writeFailed(path: path, reason: "deflate failed (\(rc))")
                }
                try writeAll(UnsafeRawBufferPointer(rebasing: deflated[0..<(deflated.count - Int(stream.avail_out))]))
            } while stream.avail_out == 0 || (finishing && stream.avail_in > 0)
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            offset += count
        }
    }
}
