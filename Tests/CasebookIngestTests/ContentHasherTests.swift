@testable import CasebookIngest
import XCTest

/// Content hashes are stored in every row and compared with those of later files, so the
/// value for given content must never change, whatever the implementation does to be fast.
final class ContentHasherTests: XCTestCase {
    /// The hash as first defined: each field's length and number, then its bytes as
    /// little-endian words, the last one assembled byte by byte.
    private func reference(_ fields: [[UInt8]]) -> Int64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func mix(_ value: UInt64) {
            state = (state ^ value) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 32
        }
        for (field, bytes) in fields.enumerated() {
            mix(UInt64(field) | 0x200 | (UInt64(bytes.count) << 16))
            var word: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                word |= UInt64(byte) << (8 * UInt64(index % 8))
                if index % 8 == 7 { mix(word); word = 0 }
            }
            mix(word)
        }
        var h = state
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int64(bitPattern: h)
    }

    private func hash(_ fields: [[UInt8]]) -> Int64 {
        var hasher = ContentHasher()
        for (field, bytes) in fields.enumerated() {
            bytes.withUnsafeBytes { hasher.add(field: field, bytes: $0) }
        }
        return hasher.value
    }

    func testEveryLengthHashesAsFirstDefined() {
        for count in 0...40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ count) }
            XCTAssertEqual(hash([bytes]), reference([bytes]), "\(count) bytes")
            XCTAssertEqual(hash([bytes, Array(bytes.reversed()), []]), reference([bytes, Array(bytes.reversed()), []]), "\(count) bytes")
        }
        // One value written down, so that the reference cannot drift with the implementation.
        XCTAssertEqual(hash([Array("ex-0000000001".utf8), Array("a prompt of some length".utf8)]), 5_799_130_529_809_291_195)
    }
}
