/// Gives a stream whose lines end in a carriage return alone (classic Mac OS, and the "CSV
/// (Macintosh)" Excel for Mac still offers) with line feeds instead; any other stream as it is.
///
/// Records are cut at line feeds, so such a file was one line: its header swallowed every
/// row. Which kind of file it is, is told by its first line break, within its first 64 KiB.
public final class LineBreakSource: ByteSource {
    private let upstream: ByteSource
    /// The stream, its first line read ahead once the first read asks for it.
    private var lines: PrefixedSource?
    private var carriageReturnsEndLines = false

    public init(upstream: ByteSource) { self.upstream = upstream }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        let source = try lines ?? decide()
        let count = try source.read(into: buffer)
        if carriageReturnsEndLines {
            for index in 0..<count where buffer[index] == 0x0D { buffer[index] = 0x0A }
        }
        return count
    }

    /// Reads up to the byte after the first line break (at most 64 KiB): a carriage return
    /// not followed by a line feed ends this stream's lines.
    private func decide() throws -> PrefixedSource {
        var scanned = 0
        var lineBreak: Int?
        let source = try PrefixedSource(reading: upstream, limit: 64 << 10) { head in
            if lineBreak == nil {
                lineBreak = head[scanned...].firstIndex { $0 == 0x0A || $0 == 0x0D }
                scanned = head.count
            }
            // The byte after a carriage return tells CR LF from CR alone.
            guard let found = lineBreak else { return false }
            return head[found] == 0x0A || found + 1 < head.count
        }
        let head = source.head
        if let found = lineBreak, head[found] == 0x0D {
            // A carriage return last in a stream that ended there ends its one line.
            carriageReturnsEndLines = found + 1 < head.count ? head[found + 1] != 0x0A : source.ended
        }
        lines = source
        return source
    }
}
