import CasebookIO

/// Reads `source` to its end with reads of varying size, up to `largestRead` bytes (a reader
/// asks for whatever room its buffer has left); the bytes and the error that ended the stream, if any.
func drain(_ source: ByteSource, largestRead: Int) -> ([UInt8], Error?) {
    var out: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: largestRead + 1, alignment: 1)
    defer { buffer.deallocate() }
    var size = 1
    do {
        while true {
            size = size * 7 % largestRead + 1
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))
            if count == 0 { return (out, nil) }
            out += buffer[0..<count]
        }
    } catch {
        return (out, error)
    }
}
