import CasebookIO

/// A stream of bytes held in memory, giving at most `readLimit` bytes a read, as a pipe or a
/// network file system may.
final class BytesInMemory: ByteSource {
    private let bytes: [UInt8]
    private let readLimit: Int
    private var position = 0

    init(_ bytes: [UInt8], readLimit: Int = .max) {
        self.bytes = bytes
        self.readLimit = readLimit
    }

    var consumedBytes: Int64 { Int64(position) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, readLimit, bytes.count - position)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<(position + count)])) }
        position += count
        return count
    }
}
