import Crypto

/// SHA-256 of a whole file, streamed: provenance names every input by its content.
public enum FileDigest {
    /// The SHA-256 of the file's first `length` bytes (the whole file when nil).
    public static func sha256(path: String, length: Int64? = nil) throws -> String {
        let source = try FileSource(path: path, limit: length)
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return hex(hasher.finalize())
    }

    /// SHA-256 of bytes in memory, in hex.
    public static func sha256(bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Passes bytes through while hashing them: for a stream (standard input) that cannot be
/// read twice, and for a file that may have changed since it was hashed.
public final class HashingSource: ByteSource {
    private let upstream: ByteSource
    private var hasher = SHA256()
    public private(set) var totalBytes: Int64 = 0

    public init(upstream: ByteSource) { self.upstream = upstream }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try upstream.read(into: buffer)
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        totalBytes += Int64(count)
        return count
    }

    /// The SHA-256 of everything read so far, in hex.
    public func digest() -> String { FileDigest.hex(hasher.finalize()) }

    /// Reads and hashes what the reader left (it stops at damage), then gives the SHA-256 of
    /// every byte the upstream gave.
    public func digestToEnd() throws -> String {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
        return digest()
    }
}
