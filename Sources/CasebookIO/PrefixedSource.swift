/// A stream's first bytes, read to tell what the stream is (its encoding, its line breaks),
/// given out first, then the rest of the stream.
final class PrefixedSource: ByteSource {
    /// The bytes read ahead.
    let head: [UInt8]
    /// Whether the stream ended within them.
    let ended: Bool
    private var headStart = 0
    private let upstream: ByteSource
    /// The error the stream broke with while the head was read, given after the head.
    private var failure: Error?

    /// Reads `upstream` until `enough` says its first bytes tell what is needed, `limit` bytes
    /// are read, or it ends. A stream that breaks within them still gives them before its error;
    /// one that breaks before any byte throws at once.
    init(reading upstream: ByteSource, limit: Int, until enough: (ArraySlice<UInt8>) -> Bool) throws {
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        var ended = false
        while filled < limit {
            do {
                let read = try bytes.withUnsafeMutableBytes { try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
                if read == 0 {
                    ended = true
                    break
                }
                filled += read
            } catch {
                if filled == 0 { throw error }
                failure = error
                break
            }
            if enough(bytes[..<filled]) { break }
        }
        head = Array(bytes[..<filled])
        self.ended = ended
        self.upstream = upstream
    }

    var consumedBytes: Int64 { upstream.consumedBytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard headStart == head.count else {
            let count = min(buffer.count, head.count - headStart)
            head.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[headStart..<(headStart + count)])) }
            headStart += count
            return count
        }
        if let failure { throw failure }
        return try upstream.read(into: buffer)
    }
}
