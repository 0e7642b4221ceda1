import Foundation

/// Reads another source on a thread of its own, a few chunks ahead of the caller.
///
/// An ingest's parser thread would otherwise also read and inflate gzip (about half its time);
/// with this in between, inflating overlaps parsing. The stream is the same: the same
/// bytes in the same order, and an error the upstream throws after some bytes comes after
/// those bytes, on the next read.
///
/// Call `close` when done with it (its thread holds it until the stream ends or `close`).
/// Only for sources whose reads end (a regular file): `close` waits for the reading
/// thread, which a pipe could keep blocked forever.
public final class ReadAheadSource: ByteSource, @unchecked Sendable {
    private struct Chunk {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0
        /// The upstream's `consumedBytes` once this chunk was filled.
        var consumed: Int64 = 0
        /// Set on the chunk that ends the stream: nil for a clean end.
        var error: Error?
        var isLast = false
    }

    private let upstream: ByteSource
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var free: [UnsafeMutableRawBufferPointer]
    private var filled: [Chunk] = []
    private var closing = false
    private var running = true
    private var threadCPU = 0.0

    // The caller's side only.
    private var current: Chunk?
    private var position = 0
    private var pendingError: Error?
    private var ended = false
    public private(set) var consumedBytes: Int64 = 0

    /// - Parameters:
    ///   - chunkBytes: bytes handed over at a time; the reading thread keeps at most `depth` of them.
    public init(upstream: ByteSource, chunkBytes: Int = 256 << 10, depth: Int = 4) {
        self.upstream = upstream
        free = (0..<depth).map { _ in .allocate(byteCount: chunkBytes, alignment: 16) }
        consumedBytes = upstream.consumedBytes
        Thread.detachNewThread { [self] in fill() }
    }

    deinit {
        current.map { $0.buffer.deallocate() }
        for chunk in filled { chunk.buffer.deallocate() }
        for buffer in free { buffer.deallocate() }
    }

    /// Stops the reading thread and waits for it; afterwards the upstream may be used again.
    /// - Returns: the CPU time the reading thread used, in seconds.
    @discardableResult
    public func close() -> Double {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        condition.broadcast()
        while running { condition.wait() }
        return threadCPU
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while current == nil || position == current!.count {
            if let pendingError { throw pendingError }
            if ended { return 0 }
            nextChunk()
        }
        let chunk = current!
        let count = min(buffer.count, chunk.count - position)
        buffer.baseAddress!.copyMemory(from: chunk.buffer.baseAddress! + position, byteCount: count)
        position += count
        return count
    }

    /// Gives the finished chunk back and waits for the next one.
    private func nextChunk() {
        condition.lock()
        if let done = current {
            free.append(done.buffer)
            condition.broadcast()
        }
        while filled.isEmpty { condition.wait() }
        let chunk = filled.removeFirst()
        condition.unlock()
        current = chunk
        position = 0
        consumedBytes = chunk.consumed
        if chunk.isLast {
            ended = true
            pendingError = chunk.error
        }
    }

    /// The reading thread: fills free chunks until the stream ends, breaks, or `close` is called.
    private func fill() {
        defer {
            let cpu = ThreadCPU.seconds()
            condition.lock()
            threadCPU = cpu
            running = false
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while free.isEmpty && !closing { condition.wait() }
            if closing { condition.unlock(); return }
            var chunk = Chunk(buffer: free.removeLast())
            condition.unlock()
            do {
                while chunk.count < chunk.buffer.count {
                    let count = try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.buffer[chunk.count...]))
                    if count == 0 { chunk.isLast = true; break }
                    chunk.count += count
                }
            } catch {
                chunk.error = error
                chunk.isLast = true
            }
            chunk.consumed = upstream.consumedBytes
            condition.lock()
            filled.append(chunk)
            condition.broadcast()
            condition.unlock()
            if chunk.isLast { return }
        }
    }
}
