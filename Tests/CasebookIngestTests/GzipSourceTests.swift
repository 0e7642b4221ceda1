import CasebookIO
import Foundation
import XCTest

/// What `GzipSource` must make of whole, concatenated, wrapped and damaged streams,
/// whatever the sizes in which the bytes arrive.
final class GzipSourceTests: XCTestCase {
    /// Hands out fixed bytes `piece` at a time, then ends.
    private final class Pieces: ByteSource {
        let bytes: [UInt8]
        let piece: Int
        private(set) var consumedBytes: Int64 = 0

        init(_ bytes: [UInt8], piece: Int) {
            self.bytes = bytes
            self.piece = piece
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let offset = Int(consumedBytes)
            let count = min(buffer.count, piece, bytes.count - offset)
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            consumedBytes += Int64(count)
            return count
        }
    }

    /// Upstream pieces that put member and header boundaries everywhere: single bytes, odd sizes, whole buffers.
    private static let pieceSizes = [1, 2, 7, 4_093, 1 << 18, 1 << 22]

    /// Inflates `compressed` with output buffers of varying size; the error that ended the stream, if any.
    private func inflate(_ compressed: [UInt8], piece: Int) -> ([UInt8], Error?) {
        drain(GzipSource(upstream: Pieces(compressed, piece: piece), path: "t.gz"), largestRead: 69_997)
    }

    private func text(_ lines: Int, seed: Int) -> [UInt8] {
        var result = ""
        for i in 0..<lines {
            result += #"{"exchange_id":"x\#(seed)-\#(i)","account_id":"a\#(i % 37)","ts":\#(1_768_465_800 + i * seed)}"# + "\n"
        }
        return Array(result.utf8)
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "gzip-source-\(UUID().uuidString).gz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = try OutputFile(path: path, gzipLevel: 6)
        try out.write(String(decoding: bytes, as: UTF8.self))
        try out.finish()
        return try Array(Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Bytes compressed by Python's zlib in the given wrapper (`wbits` as zlib takes it).
    private func python(_ bytes: [UInt8], wbits: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, zlib; c = zlib.compressobj(6, zlib.DEFLATED, \(wbits)); "
            + "sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read()) + c.flush())"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return Array(data)
    }

    func testOneMemberInflatesWhateverThePieceSizes() throws {
        let plain = text(20_000, seed: 1)
        let compressed = try gzip(plain)
        for piece in Self.pieceSizes {
            let (out, error) = inflate(compressed, piece: piece)
            XCTAssertNil(error, "piece \(piece)")
            XCTAssertEqual(out, plain, "piece \(piece)")
        }
    }

    func testConcatenatedMembersAreOneStream() throws {
        let parts = [text(5_000, seed: 2), text(1, seed: 3), [], text(3_000, seed: 4)]
        let compressed = try parts.flatMap { try gzip($0) }
        for piece in Self.pieceSizes {
            let (out, error) = inflate(compressed, piece: piece)
            XCTAssertNil(error, "piece \(piece)")
            XCTAssertEqual(out, parts.flatMap { $0 }, "piece \(piece)")
        }
    }

    func testAZlibWrappedStreamAndAnEmptyFileAreRead() throws {
        let plain = text(4_000, seed: 5)
        let wrapped = try python(plain, wbits: 15)
        XCTAssertEqual(wrapped.first, 0x78)
        for piece in Self.pieceSizes {
            let (out, error) = inflate(wrapped, piece: piece)
            XCTAssertNil(error, "piece \(piece)")
            XCTAssertEqual(out, plain, "piece \(piece)")
        }
        let (out, error) = inflate([], piece: 1)
        XCTAssertNil(error)
        XCTAssertEqual(out, [])
    }

    func testATruncatedStreamKeepsWhatCameBeforeAndSaysSo() throws {
        let plain = text(20_000, seed: 6)
        let compressed = try gzip(plain)
        for cut in [1, 9, compressed.count / 2, compressed.count - 4] {
            for piece in [1, 4_093, 1 << 22] where piece > 1 || cut < 100 || cut == compressed.count - 4 {
                let (out, error) = inflate(Array(compressed.prefix(cut)), piece: piece)
                guard case .gzipTruncated? = error as? FileError else { XCTFail("cut \(cut) piece \(piece): \(String(describing: error))"); continue }
                XCTAssertEqual(Array(plain.prefix(out.count)), out, "cut \(cut) piece \(piece): a prefix of the text")
                if cut == compressed.count / 2 { XCTAssertGreaterThan(out.count, plain.count / 3) }
            }
        }
    }

    func testAFlippedChecksumOrTrailingGarbageIsCorruptAfterTheWholeText() throws {
        let plain = text(20_000, seed: 7)
        let compressed = try gzip(plain)
        var flipped = compressed
        flipped[flipped.count - 6] ^= 0xFF
        let garbage = compressed + Array("not gzip".utf8)
        for damaged in [flipped, garbage] {
            for piece in [7, 1 << 22] {
                let (out, error) = inflate(damaged, piece: piece)
                guard case .gzipCorrupt? = error as? FileError else { XCTFail("piece \(piece): \(String(describing: error))"); continue }
                XCTAssertEqual(out, plain, "piece \(piece): every byte before the damage")
            }
        }
    }

    func testZeroPaddingAfterTheLastMemberIsNoDamageButBytesAfterItAre() throws {
        // What tape and block devices (and `gzip -d`, which skips them) leave after a stream.
        let parts = [text(3_000, seed: 9), text(2_000, seed: 10)]
        let members = try parts.flatMap { try gzip($0) }
        let padded = members + [UInt8](repeating: 0, count: 70_001)
        let paddedBetween = try gzip(parts[0]) + [UInt8](repeating: 0, count: 512) + gzip(parts[1]) + [0, 0]
        for stream in [padded, paddedBetween] {
            for piece in [1, 7, 4_093, 1 << 22] where piece > 1 || stream.count < 10_000 {
                let (out, error) = inflate(stream, piece: piece)
                XCTAssertNil(error, "piece \(piece)")
                XCTAssertEqual(out, parts.flatMap { $0 }, "piece \(piece)")
            }
        }
        for piece in [7, 1 << 22] {
            let (out, error) = inflate(members + [0, 0, 0, 0x41, 0, 0], piece: piece)
            guard case .gzipCorrupt? = error as? FileError else { XCTFail("piece \(piece): \(String(describing: error))"); continue }
            XCTAssertEqual(out, parts.flatMap { $0 }, "piece \(piece): every byte before the damage")
        }
        // A file of zeros alone is no gzip stream.
        let (_, error) = inflate([UInt8](repeating: 0, count: 64), piece: 4_093)
        XCTAssertNotNil(error)
    }

    func testBadDataIsCorruptWithAnOffsetInsideTheFile() throws {
        let compressed = try gzip(text(20_000, seed: 8))
        var damaged = compressed
        for i in compressed.count / 2..<(compressed.count / 2 + 64) { damaged[i] = 0xFF }
        let (_, error) = inflate(damaged, piece: 4_093)
        guard case let .gzipCorrupt(_, offset, reason)? = error as? FileError else { return XCTFail("\(String(describing: error))") }
        XCTAssertGreaterThan(offset, 0)
        XCTAssertLessThanOrEqual(offset, Int64(compressed.count))
        XCTAssertFalse(reason.isEmpty)
        let (_, header) = inflate([0x1F, 0x8B, 0x09, 0x00] + compressed.dropFirst(4), piece: 4_093)
        guard case .gzipCorrupt? = header as? FileError else { return XCTFail("an unknown method: \(String(describing: header))") }
    }
}
