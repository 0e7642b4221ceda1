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

/// `count` bytes of no pattern a compressor could use, the same for the same `seed`.
func patternlessBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}
