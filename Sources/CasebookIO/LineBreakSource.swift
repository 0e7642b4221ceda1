/// Gives a stream whose lines end in a carriage return alone (classic Mac OS, and the "CSV
/// (Macintosh)" Excel for Mac still offers) with line feeds instead; any other stream as it is.
///
/// Records are cut at line feeds, so such a file was one line: its header swallowed every
/// row. Which kind of file it is, is told by its first line break, within its first 64 KiB.
public final class LineBreakSource: ByteSource {
    private let upstream: ByteSource
    /// The bytes read to tell the line breaks, given out first.
    private var head: [UInt8] = []
    private var headStart = 0
    /// An error the upstream gave while the head was read, given after the head.
    private var failure: Error?
    private var decided = false
    private var carriageReturnsEndLines = false

    public init(upstream: ByteSource) { self.upstream = upstream }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if !decided { try decide() }
        let count: Int
        if headStart < head.count {
            count = min(buffer.count, head.count - headStart)
            head.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[headStart..<(headStart + count)])) }
            headStart += count
        } else if let failure {
            self.failure = nil
            throw failure
        } else {
            count = try upstream.read(into: buffer)
        }
        if carriageReturnsEndLines {
            for index in 0..<count where buffer[index] == 0x0D { buffer[index] = 0x0A }
        }
        return count
    }

    /// Reads up to the byte after the first line break (at most 64 KiB): a carriage return
    /// not followed by a line feed ends this stream's lines.
    private func decide() throws {
        decided = true
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var filled = 0, scanned = 0
        var lineBreak: Int?
        var ended = false
        while filled < chunk.count {
            do {
                let read = try chunk.withUnsafeMutableBytes { try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
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
            if lineBreak == nil {
                lineBreak = chunk[scanned..<filled].firstIndex { $0 == 0x0A || $0 == 0x0D }
                scanned = filled
            }
            if let found = lineBreak, chunk[found] == 0x0A || found + 1 < filled { break }
        }
        head = Array(chunk[..<filled])
        if let found = lineBreak, head[found] == 0x0D {
            // A carriage return last in a stream that ended there ends its one line.
            carriageReturnsEndLines = found + 1 < head.count ? head[found + 1] != 0x0A : ended
        }
    }
}
