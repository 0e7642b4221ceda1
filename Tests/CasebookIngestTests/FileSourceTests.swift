import CasebookIO
import Foundation
import XCTest

final class FileSourceTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "filesource-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// Bytes of no pattern, `count` of them, in a new file.
    private func file(_ count: Int) throws -> (path: String, bytes: [UInt8]) {
        let bytes = patternlessBytes(count, seed: 99)
        let path = directory + "/input-" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    func testEveryByteInOrderWhateverTheReadSizes() throws {
        // Sizes around page and megabyte bounds, and an empty file.
        for count in [0, 1, 4_095, 4_096, 4_097, (1 << 20) - 1, 1 << 20, (3 << 20) + 4_099] {
            let (path, bytes) = try file(count)
            for largestRead in [1, 4_096, 65_537, 2 << 20] where largestRead > 1 || count < 8_192 {
                let (read, error) = drain(try FileSource(path: path), largestRead: largestRead)
                XCTAssertNil(error)
                XCTAssertEqual(read.count, count, "\(count) bytes read \(largestRead) at most at a time")
                XCTAssertTrue(read == bytes, "\(count) bytes read \(largestRead) at most at a time")
            }
        }
    }

    /// Every byte of Windows-1252 becomes its character in UTF-8, whatever the read sizes: the
    /// same text as Foundation's decoding, and valid UTF-8 for any input.
    func testWindows1252IsGivenAsUTF8WhateverTheReadSizes() throws {
        let (path, bytes) = try file(200_000)
        // The five bytes Windows leaves undefined are read as their own control characters, as WHATWG reads them.
        let undefined: Set<UInt8> = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
        let expected = bytes.flatMap { byte in
            undefined.contains(byte) ? Array(String(UnicodeScalar(byte)).utf8)
                                     : Array((String(data: Data([byte]), encoding: .windowsCP1252) ?? "?").utf8)
        }
        for largestRead in [1, 2, 3, 4_096, 300_000] {
            let (read, error) = drain(Windows1252Source(upstream: try FileSource(path: path)), largestRead: largestRead)
            XCTAssertNil(error)
            XCTAssertTrue(read == expected, "read \(largestRead) at most at a time")
            XCTAssertNotNil(String(validating: read, as: UTF8.self))
        }
    }

    /// UTF-16 in either byte order becomes the UTF-8 of the same text whatever the read sizes
    /// (a code unit or a surrogate pair cut between two reads included), and a unit that is no
    /// character (an unpaired surrogate, a last odd byte) becomes 0xFF, never a character.
    func testUTF16IsGivenAsUTF8WhateverTheReadSizes() throws {
        let text = String(repeating: "account_id,note\r\na1,Grüße € 😀 日本\n", count: 3_000)
        for order in [UTF16Source.ByteOrder.littleEndian, .bigEndian] {
            let encoding: String.Encoding = order == .littleEndian ? .utf16LittleEndian : .utf16BigEndian
            let path = directory + "/utf16-" + UUID().uuidString
            try XCTUnwrap(text.data(using: encoding)).write(to: URL(fileURLWithPath: path))
            for largestRead in [1, 2, 3, 4_096, 300_000] {
                let (read, error) = drain(UTF16Source(upstream: try FileSource(path: path), order: order), largestRead: largestRead)
                XCTAssertNil(error)
                XCTAssertTrue(read == Array(text.utf8), "\(order) read \(largestRead) at most at a time")
            }
        }
        let broken: [UInt8] = [0x61, 0x00, 0x3D, 0xD8, 0x62, 0x00, 0x00, 0xDC, 0x63, 0x00, 0x3D, 0xD8, 0x00, 0xDE, 0x64]
        let path = directory + "/broken-" + UUID().uuidString
        try Data(broken).write(to: URL(fileURLWithPath: path))
        for largestRead in [1, 3, 4_096] {
            let (read, _) = drain(UTF16Source(upstream: try FileSource(path: path), order: .littleEndian), largestRead: largestRead)
            XCTAssertEqual(read, [0x61, 0xFF, 0x62, 0xFF, 0x63] + Array("😀".utf8) + [0xFF], "read \(largestRead) at most at a time")
        }
    }

    /// A byte order mark decides the encoding over the label; without one the label does.
    func testAByteOrderMarkDecidesTheEncoding() throws {
        func decoded(_ bytes: [UInt8], _ encoding: TextEncoding) throws -> [UInt8] {
            let path = directory + "/marked-" + UUID().uuidString
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let (read, error) = drain(TextDecodingSource(upstream: try FileSource(path: path), encoding: encoding), largestRead: 2)
            XCTAssertNil(error)
            return read
        }
        let bom = Array("\u{FEFF}".utf8)
        XCTAssertEqual(try decoded([0xFF, 0xFE, 0xE9, 0x00], .utf8), bom + Array("é".utf8))
        XCTAssertEqual(try decoded([0xFE, 0xFF, 0x00, 0xE9], .windows1252), bom + Array("é".utf8))
        XCTAssertEqual(try decoded(bom + Array("é".utf8), .windows1252), bom + Array("é".utf8))
        XCTAssertEqual(try decoded([0xE9, 0x0A], .windows1252), Array("é\n".utf8))
        XCTAssertEqual(try decoded([0xE9, 0x00], .utf16le), Array("é".utf8))
        XCTAssertEqual(try decoded([0x00, 0xE9], .utf16be), Array("é".utf8))
        XCTAssertEqual(try decoded([0xE9], .utf8), [0xE9])
        XCTAssertEqual(try decoded([], .utf8), [])

        // A stream that breaks after its first byte gives that byte, then the error.
        let (read, error) = drain(TextDecodingSource(upstream: BreakingSource(bytes: [0x61]), encoding: .utf8), largestRead: 8)
        XCTAssertEqual(read, [0x61])
        XCTAssertNotNil(error)
    }

    /// Carriage returns alone end the lines of an old Mac file: they become line feeds, whatever
    /// the read sizes. CR LF and LF files, and a file whose first line is longer than the bytes
    /// looked at, pass as they are.
    func testLinesEndedByCarriageReturnsAloneEndInLineFeeds() throws {
        func through(_ bytes: [UInt8], largestRead: Int) throws -> [UInt8] {
            let path = directory + "/breaks-" + UUID().uuidString
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let (read, error) = drain(LineBreakSource(upstream: try FileSource(path: path)), largestRead: largestRead)
            XCTAssertNil(error)
            return read
        }
        let mac = Array("a,b\r1,\"x\ry\"\r2,z\r".utf8)
        let crlf = Array("a,b\r\n1,\"x\ry\"\r\n".utf8)
        let long = [UInt8](repeating: 0x61, count: 70_000) + Array("\r1\r".utf8)
        for largestRead in [1, 2, 5, 4_096, 300_000] {
            XCTAssertEqual(try through(mac, largestRead: largestRead), Array("a,b\n1,\"x\ny\"\n2,z\n".utf8), "read \(largestRead) at most at a time")
            XCTAssertEqual(try through(crlf, largestRead: largestRead), crlf)
            XCTAssertEqual(try through(Array("a\nb\rc\n".utf8), largestRead: largestRead), Array("a\nb\rc\n".utf8))
            XCTAssertEqual(try through(Array("a,b\r".utf8), largestRead: largestRead), Array("a,b\n".utf8))
            XCTAssertEqual(try through([], largestRead: largestRead), [])
        }
        XCTAssertTrue(try through(long, largestRead: 65_536) == long)

        // A stream that breaks within the bytes looked at gives them, then its error.
        let (read, error) = drain(LineBreakSource(upstream: BreakingSource(bytes: Array("a\rb".utf8))), largestRead: 8)
        XCTAssertEqual(read, Array("a\nb".utf8))
        XCTAssertNotNil(error)
    }

    /// Any bytes, any read sizes: the line breaks are decided by the first one as the reference
    /// below decides, every byte but a converted carriage return comes through, and the UTF-16
    /// decoder gives valid UTF-8 but for the 0xFF it writes for what is no character.
    func testTheReadersGiveWhatTheirRulesSayForAnyBytes() throws {
        for seed in UInt64(1)...40 {
            // Few distinct bytes, so that line breaks, surrogates and marks turn up often.
            let alphabet: [UInt8] = [0x0D, 0x0A, 0x61, 0x00, 0xD8, 0xDC, 0xFF, 0xFE, 0xEF, 0xBB, 0xBF]
            let bytes = patternlessBytes(Int(seed * 97 % 3_000), seed: seed).map { alphabet[Int($0) % alphabet.count] }
            let path = directory + "/any-" + UUID().uuidString
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let firstBreak = bytes.firstIndex { $0 == 0x0A || $0 == 0x0D }
            let carriageReturns = firstBreak.map { bytes[$0] == 0x0D && ($0 + 1 == bytes.count || bytes[$0 + 1] != 0x0A) } ?? false
            let expected = carriageReturns ? bytes.map { $0 == 0x0D ? 0x0A : $0 } : bytes
            for largestRead in [1, 3, 4_096] {
                let (lines, error) = drain(LineBreakSource(upstream: try FileSource(path: path)), largestRead: largestRead)
                XCTAssertNil(error)
                XCTAssertEqual(lines, expected, "seed \(seed), read \(largestRead) at most at a time")
                for order in [UTF16Source.ByteOrder.littleEndian, .bigEndian] {
                    let (text, _) = drain(UTF16Source(upstream: try FileSource(path: path), order: order), largestRead: largestRead)
                    let valid = text.split(separator: 0xFF, omittingEmptySubsequences: false)
                    XCTAssertTrue(valid.allSatisfy { String(validating: $0, as: UTF8.self) != nil }, "seed \(seed)")
                }
            }
        }
    }

    /// Gives its bytes one at a time, then fails.
    private final class BreakingSource: ByteSource {
        private var bytes: [UInt8]
        init(bytes: [UInt8]) { self.bytes = bytes }
        var consumedBytes: Int64 { 0 }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard !bytes.isEmpty else { throw FileError.gzipTruncated(path: "broken") }
            buffer[0] = bytes.removeFirst()
            return 1
        }
    }

    func testALimitAndBytesAppendedAfterOpeningAreNotRead() throws {
        let (path, bytes) = try file((2 << 20) + 17)
        let limited = try FileSource(path: path, limit: 1_500_001)
        XCTAssertTrue(drain(limited, largestRead: 300_000).0 == Array(bytes[0..<1_500_001]))
        XCTAssertEqual(limited.consumedBytes, 1_500_001)

        let source = try FileSource(path: path)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 0x41, count: 3 << 20))
        try handle.close()
        XCTAssertEqual(source.size, Int64(bytes.count))
        XCTAssertTrue(drain(source, largestRead: 1 << 20).0 == bytes)
    }

    func testAnInputReadToItsEndLeavesNoPagesInTheCacheBehindIt() throws {
        let (path, bytes) = try file(20 << 20)
        // Pages that are not yet on disk cannot be dropped: write them out first.
        let descriptor = open(path, O_RDONLY)
        XCTAssertEqual(fsync(descriptor), 0)
        close(descriptor)
        let checked = 16 << 20, pages = checked / sysconf(Int32(_SC_PAGESIZE))
        XCTAssertGreaterThan(try residentPages(path, bytes: checked), pages / 2, "a file just written is in the page cache")

        let (read, error) = drain(try FileSource(path: path, dropsPagesRead: true), largestRead: 1 << 20)
        XCTAssertNil(error)
        XCTAssertTrue(read == bytes)
        let resident = try residentPages(path, bytes: checked)
        if resident >= pages / 8 {
            // A file system in memory (tmpfs) has no other copy to drop its pages for.
            let descriptor = open(path, O_RDONLY)
            _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
            close(descriptor)
            if try residentPages(path, bytes: checked) == resident { throw XCTSkip("this file system keeps every page") }
        }
        XCTAssertLessThan(resident, pages / 8, "the pages read were dropped")
    }

    /// How many of the first `bytes` of the file at `path` are in the page cache (mincore).
    private func residentPages(_ path: String, bytes: Int) throws -> Int {
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let mapping = try XCTUnwrap(mmap(nil, bytes, PROT_READ, MAP_SHARED, descriptor, 0))
        guard mapping != MAP_FAILED else { throw XCTSkip("the file cannot be mapped") }
        defer { munmap(mapping, bytes) }
        var flags = [UInt8](repeating: 0, count: bytes / sysconf(Int32(_SC_PAGESIZE)))
        XCTAssertEqual(mincore(mapping, bytes, &flags), 0)
        return flags.filter { $0 & 1 == 1 }.count
    }
}
