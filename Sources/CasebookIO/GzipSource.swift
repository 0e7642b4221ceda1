import CISAL

/// Inflates a gzip stream read from another source.
///
/// Inflating is ISA-L's (`libisal`): it takes less than half the CPU of
/// zlib, and at campaign scale inflating is the reading thread's whole work.
/// Concatenated gzip members (what `cat a.gz b.gz` or parallel compressors
/// produce) are read as one stream; a member may also be zlib-wrapped, as zlib's
/// own automatic header detection allowed. A stream that stops before its end
/// marker throws `gzipTruncated`; bad data, a bad checksum or bytes after the
/// last member throw `gzipCorrupt` with the compressed offset, so the caller can
/// say where the damage starts. Zero bytes after a member are padding (tape and
/// block devices, some uploaders write it), skipped as `gzip -d` skips them.
public final class GzipSource: ByteSource {
    private let upstream: ByteSource
    private let path: String
    /// Large (about 80 KiB of tables and history), so it lives on the heap.
    private let state: UnsafeMutablePointer<inflate_state>
    private var input: UnsafeMutableRawBufferPointer
    /// True before the first member and after each member's trailer.
    private var betweenMembers = true
    /// True once a member's trailer was read: zero bytes are then padding, not a header.
    private var finishedAMember = false
    private var upstreamEnded = false
    /// An error met after some output was produced: thrown on the next read, so
    /// that every byte inflated before the damage reaches the reader first.
    private var pendingError: FileError?

    /// Compressed bytes taken so far, less those read ahead but not yet inflated.
    public var consumedBytes: Int64 {
        upstream.consumedBytes - Int64(state.pointee.avail_in) - Int64(state.pointee.read_in_length / 8)
    }

    public init(upstream: ByteSource, path: String) {
        self.upstream = upstream
        self.path = path
        state = .allocate(capacity: 1)
        isal_inflate_init(state)
        input = .allocate(byteCount: 1 << 18, alignment: 16)
    }

    deinit {
        state.deallocate()
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let pendingError { throw pendingError }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let capacity = min(buffer.count, Int(UInt32.max))
        state.pointee.next_out = base.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_out = UInt32(capacity)
        do {
            try inflateSome(capacity: capacity)
        } catch let error as FileError {
            // Hand out what was inflated before the damage; the error comes with the next read.
            guard Int(state.pointee.avail_out) < capacity else { throw error }
            pendingError = error
        }
        return capacity - Int(state.pointee.avail_out)
    }

    /// Inflates until some output is produced, or the stream ends or breaks.
    private func inflateSome(capacity: Int) throws {
        while Int(state.pointee.avail_out) == capacity {
            if state.pointee.avail_in == 0 && !upstreamEnded { try refill() }
            if betweenMembers {
                // A clean end only here: before any member (an empty file) or right after a trailer.
                guard state.pointee.avail_in > 0 else { return }
                if finishedAMember && state.pointee.next_in.pointee == 0 {
                    skipZeroBytes()
                    continue
                }
                startMember()
            }
            let rc = isal_inflate(state)
            guard rc == ISAL_DECOMP_OK || rc == ISAL_END_INPUT || rc == ISAL_OUT_OVERFLOW else {
                throw FileError.gzipCorrupt(path: path, compressedOffset: consumedBytes, reason: Self.reason(rc))
            }
            if state.pointee.block_state == ISAL_BLOCK_FINISH {
                betweenMembers = true
                finishedAMember = true
            } else if upstreamEnded && state.pointee.avail_in == 0 && Int(state.pointee.avail_out) == capacity {
                // No input left, no output made, and the member is not finished.
                throw FileError.gzipTruncated(path: path)
            }
        }
    }

    /// Starts the next member, gzip or zlib-wrapped by its first byte (a zlib
    /// header never starts with gzip's 0x1F); a bad header is then ISA-L's to report.
    private func startMember() {
        isal_inflate_reset(state)
        state.pointee.crc_flag = UInt32(state.pointee.next_in.pointee == 0x1F ? ISAL_GZIP : ISAL_ZLIB)
        betweenMembers = false
    }

    /// Steps over the zero bytes at the head of the input read so far.
    private func skipZeroBytes() {
        while state.pointee.avail_in > 0 && state.pointee.next_in.pointee == 0 {
            state.pointee.next_in += 1
            state.pointee.avail_in -= 1
        }
    }

    private func refill() throws {
        let count = try upstream.read(into: input)
        state.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        state.pointee.avail_in = UInt32(count)
        upstreamEnded = count == 0
    }

    /// zlib's words for the same faults, which investigators' tools also print.
    private static func reason(_ rc: Int32) -> String {
        switch rc {
        case ISAL_INVALID_BLOCK: return "invalid block"
        case ISAL_INVALID_SYMBOL: return "invalid code"
        case ISAL_INVALID_LOOKBACK: return "invalid distance too far back"
        case ISAL_INVALID_WRAPPER: return "incorrect header check"
        case ISAL_UNSUPPORTED_METHOD: return "unknown compression method"
        case ISAL_INCORRECT_CHECKSUM: return "incorrect data check"
        case ISAL_NEED_DICT: return "needs a preset dictionary"
        default: return "inflate error \(rc)"
        }
    }
}
