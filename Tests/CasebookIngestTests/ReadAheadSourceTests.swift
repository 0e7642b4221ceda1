import CasebookIO
import Foundation
import XCTest

final class ReadAheadSourceTests: XCTestCase {
    /// Hands out known bytes in pieces of varying size, then ends or fails; counts its reads.
    private final class PieceSource: ByteSource, @unchecked Sendable {
        let bytes: [UInt8]
        let failure: FileError?
        private var offset = 0
        private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        private let lock = NSLock()
        private var reads = 0
        var readCount: Int { lock.withLock { reads } }
        var consumedBytes: Int64 { Int64(offset) }

        /// - Parameter endless: starts over at the end instead of ending.
        init(count: Int, failure: FileError? = nil, endless: Bool = false) {
            bytes = patternlessBytes(count, seed: 12_345)
            self.failure = failure
            self.endless = endless
        }

        private let endless: Bool

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            lock.withLock { reads += 1 }
            if offset == bytes.count {
                if endless { offset = 0 } else if let failure { throw failure } else { return 0 }
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1
            let piece = 1 + Int(state >> 33) % 3_000
            let count = min(buffer.count, bytes.count - offset, piece)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            return count
        }
    }

    func testItHandsOutTheSameBytesInOrder() throws {
        let upstream = PieceSource(count: 1_000_003)
        let source = ReadAheadSource(upstream: upstream, chunkBytes: 1_000, depth: 2)
        defer { source.close() }
        let (bytes, error) = drain(source, largestRead: 4_999)
        XCTAssertNil(error)
        XCTAssertTrue(bytes == upstream.bytes, "\(bytes.count) bytes handed out of \(upstream.bytes.count)")
        XCTAssertEqual(source.consumedBytes, 1_000_003)
        XCTAssertEqual(drain(source, largestRead: 4_999).0.count, 0, "the end stays the end")
    }

    func testAnErrorComesAfterEveryByteBeforeIt() throws {
        let damage = FileError.gzipCorrupt(path: "x.gz", compressedOffset: 77, reason: "invalid block type")
        let upstream = PieceSource(count: 10_000, failure: damage)
        let source = ReadAheadSource(upstream: upstream, chunkBytes: 4_096, depth: 3)
        defer { source.close() }
        let (bytes, error) = drain(source, largestRead: 4_999)
        XCTAssertTrue(bytes == upstream.bytes, "\(bytes.count) bytes handed out before the error, of \(upstream.bytes.count)")
        XCTAssertEqual((error as? FileError)?.description, damage.description)
        XCTAssertNotNil(drain(source, largestRead: 4_999).1, "the error stays")
    }

    func testCloseStopsTheReadingThread() throws {
        let upstream = PieceSource(count: 50_000, endless: true)
        let source = ReadAheadSource(upstream: upstream, chunkBytes: 1_000, depth: 2)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 1)
        defer { buffer.deallocate() }
        XCTAssertEqual(try source.read(into: buffer), 100)
        source.close()
        let reads = upstream.readCount
        usleep(50_000)
        XCTAssertEqual(upstream.readCount, reads, "the upstream was read after close")
    }
}
