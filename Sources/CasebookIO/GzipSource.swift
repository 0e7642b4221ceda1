import CSystemZlib

/// Inflates a gzip stream read from another source.
///
/// Concatenated gzip members (what `cat a.gz b.gz` or parallel compressors
/// produce) are read as one stream. A stream that stops before its end marker
/// throws `gzipTruncated`; bad data throws `gzipCorrupt` with the compressed
/// offset, so the caller can say where the damage starts.
public final class GzipSource: ByteSource {
    private let upstream: ByteSource
    private let path: String
    private var stream = z_stream()
    private var input: UnsafeMutableRawBufferPointer
    private var memberEnded = false
    private var streamStarted = false
    /// An error met after some output was produced: thrown on the next read, so
    /// that every byte inflated before the damage reaches the reader first.
    private var pendingError: FileError?

    public var consumedBytes: Int64 { upstream.consumedBytes - Int64(stream.avail_in) }

    public init(upstream: ByteSource, path: String) throws {
        guard czlib_inflate_init_gzip(&stream) == Z_OK else {
            throw FileError.gzipCorrupt(path: path, compressedOffset: 0, reason: "zlib could not start")
        }
        self.upstream = upstream
        self.path = path
        // Allocated last: once every property is set, a throw would run deinit, which frees it.
        input = .allocate(byteCount: 1 << 18, alignment: 16)
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let pendingError { throw pendingError }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let capacity = min(buffer.count, Int(UInt32.max))
        stream.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(capacity)
        do {
            try inflateSome(capacity: capacity)
        } catch let error as FileError {
            // Hand out what was inflated before the damage; the error comes with the next read.
            guard Int(stream.avail_out) < capacity else { throw error }
            pendingError = error
        }
        return capacity - Int(stream.avail_out)
    }

    /// Inflates until some output is produced, or the stream ends or breaks.
    private func inflateSome(capacity: Int) throws {
        while Int(stream.avail_out) == capacity {
            if stream.avail_in == 0 { try refill() }
            if memberEnded {
                // Clean end only right after a member's end marker; otherwise a new member follows.
                if stream.avail_in == 0 { return }
                inflateReset(&stream)
                memberEnded = false
            }
            if stream.avail_in == 0 {
                if !streamStarted { return }
                throw FileError.gzipTruncated(path: path)
            }
            streamStarted = true
            let rc = inflate(&stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: memberEnded = true
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "inflate error \(rc)"
                throw FileError.gzipCorrupt(path: path, compressedOffset: consumedBytes, reason: reason)
            }
        }
    }

    private func refill() throws {
        let count = try upstream.read(into: input)
        stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(count)
    }
}
