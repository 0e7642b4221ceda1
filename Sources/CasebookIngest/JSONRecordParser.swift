#if canImport(Glibc)
import Glibc
#endif
import CasebookIO

/// Reads one JSON Lines record (a JSON object on one line) into a `RecordBuilder`.
///
/// A byte-level scanner rather than Foundation's decoders: it validates the
/// whole of JSON's grammar but materialises only the values the contract
/// names, unescaping strings straight into the batch. Nested objects and
/// arrays are validated and kept verbatim for `extra`.
struct JSONRecordParser {
    private var scratch: [UInt8] = []
    /// The (unescaped) names of this record's fields outside the contract, to refuse one named twice.
    private var extraNames: Set<[UInt8]> = []
    private static let maxDepth = 64

    init() { scratch.reserveCapacity(1 << 16) }

    /// Parses `line` (already checked to be valid UTF-8) and feeds the builder.
    mutating func parse(_ line: UnsafeRawBufferPointer, builder: inout RecordBuilder, batch: inout RecordBatch) {
        var index = 0
        extraNames.removeAll(keepingCapacity: true)
        do {
            skipSpace(line, &index)
            guard index < line.count, line[index] == UInt8(ascii: "{") else {
                throw RecordFailure(reason: .badJSON, detail: "expected a JSON object starting with '{'")
            }
            index += 1
            skipSpace(line, &index)
            if index < line.count, line[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace(line, &index)
                    let keyStart = index
                    let key = try stringSpan(line, &index)
                    let keyJSON = UnsafeRawBufferPointer(rebasing: line[keyStart..<index])
                    skipSpace(line, &index)
                    guard index < line.count, line[index] == UInt8(ascii: ":") else {
                        throw RecordFailure(reason: .badJSON, detail: "expected ':' after an object key at byte \(index + 1)")
                    }
                    index += 1
                    skipSpace(line, &index)
                    let valueStart = index
                    // A string is scanned here rather than in `value`, to keep whether it had escapes.
                    var valueEscaped = false
                    let shape: ValueShape?
                    if index < line.count, line[index] == UInt8(ascii: "\"") {
                        valueEscaped = try stringSpan(line, &index).escaped
                        shape = .string
                    } else if index < line.count, line[index] == UInt8(ascii: "N") {
                        // Python's json.dumps writes a missing float as NaN: absent, as null is.
                        try literal("NaN", line, &index)
                        shape = nil
                    } else {
                        shape = try value(line, &index, depth: 1)
                    }
                    let valueJSON = UnsafeRawBufferPointer(rebasing: line[valueStart..<index])
                    try deliver(key: key, keyJSON: keyJSON, valueJSON: valueJSON, shape: shape, escaped: valueEscaped,
                                line: line, builder: &builder, batch: &batch)
                    skipSpace(line, &index)
                    guard index < line.count else {
                        throw RecordFailure(reason: .badJSON, detail: "the object is not closed with '}'")
                    }
                    if line[index] == UInt8(ascii: ",") { index += 1; continue }
                    if line[index] == UInt8(ascii: "}") { index += 1; break }
                    throw RecordFailure(reason: .badJSON, detail: "expected ',' or '}' at byte \(index + 1)")
                }
            }
            skipSpace(line, &index)
            guard index == line.count else {
                throw RecordFailure(reason: .badJSON, detail: "unexpected text after the object at byte \(index + 1)")
            }
        } catch let failure as RecordFailure {
            builder.fail(failure.reason, failure.detail)
        } catch {
            builder.fail(.badJSON, "invalid JSON")
        }
    }

    /// A key's content: the raw bytes between the quotes, or unescaped when it had escapes.
    private struct Span {
        let start: Int
        let end: Int
        let escaped: Bool
    }

    private mutating func deliver(key: Span, keyJSON: UnsafeRawBufferPointer, valueJSON: UnsafeRawBufferPointer,
                                  shape: ValueShape?, escaped: Bool, line: UnsafeRawBufferPointer,
                                  builder: inout RecordBuilder, batch: inout RecordBatch) throws {
        let field: Int?
        if key.escaped {
            scratch.removeAll(keepingCapacity: true)
            try Self.unescape(line, key, into: &scratch)
            field = scratch.withUnsafeBytes { builder.fieldIndex($0) }
        } else {
            field = builder.fieldIndex(UnsafeRawBufferPointer(rebasing: line[key.start..<key.end]))
        }
        if field == nil {
            let name = key.escaped ? scratch : Array(line[key.start..<key.end])
            guard extraNames.insert(name).inserted else {
                throw RecordFailure(reason: .badJSON, detail: "a field outside the contract appears more than once")
            }
        }
        guard let shape else { return }  // null: absent
        guard let field else {
            builder.addExtra(keyJSON: keyJSON, valueJSON: valueJSON)
            return
        }
        if shape == .string {
            let inner = UnsafeRawBufferPointer(rebasing: valueJSON[(valueJSON.startIndex + 1)..<(valueJSON.endIndex - 1)])
            if escaped {
                scratch.removeAll(keepingCapacity: true)
                try Self.unescapeBytes(inner, into: &scratch)
                scratch.withUnsafeBytes { builder.set(field: field, value: $0, shape: .string, batch: &batch) }
            } else {
                builder.set(field: field, value: inner, shape: .string, batch: &batch)
            }
        } else {
            builder.set(field: field, value: valueJSON, shape: shape, batch: &batch)
        }
    }

    // MARK: - Grammar

    @inline(__always)
    private func skipSpace(_ s: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < s.count {
            let c = s[index]
            guard c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A else { return }
            index += 1
        }
    }

    /// Parses one value; nil means JSON null.
    private mutating func value(_ s: UnsafeRawBufferPointer, _ index: inout Int, depth: Int) throws -> ValueShape? {
        guard index < s.count else { throw RecordFailure(reason: .badJSON, detail: "a value is missing at the end of the line") }
        switch s[index] {
        case UInt8(ascii: "\""):
            _ = try stringSpan(s, &index)
            return .string
        case UInt8(ascii: "-"), 48...57:
            try number(s, &index)
            return .number
        case UInt8(ascii: "t"): try literal("true", s, &index); return .boolean
        case UInt8(ascii: "f"): try literal("false", s, &index); return .boolean
        case UInt8(ascii: "n"): try literal("null", s, &index); return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try container(s, &index, depth: depth)
            return .container
        default:
            throw RecordFailure(reason: .badJSON, detail: "unexpected character at byte \(index + 1)")
        }
    }

    private func literal(_ word: StaticString, _ s: UnsafeRawBufferPointer, _ index: inout Int) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= s.count,
              UnsafeRawBufferPointer(rebasing: s[index..<(index + count)]).elementsEqual(
                UnsafeRawBufferPointer(start: word.utf8Start, count: count))
        else { throw RecordFailure(reason: .badJSON, detail: "invalid literal at byte \(index + 1)") }
        index += count
    }

    private func number(_ s: UnsafeRawBufferPointer, _ index: inout Int) throws {
        let start = index
        func digits() -> Int {
            let from = index
            while index < s.count, s[index] >= 48, s[index] <= 57 { index += 1 }
            return index - from
        }
        if s[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        let intDigits = digits()
        guard intDigits > 0, !(intDigits > 1 && s[intStart] == 48) else {
            throw RecordFailure(reason: .badJSON, detail: "invalid number at byte \(start + 1)")
        }
        if index < s.count, s[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw RecordFailure(reason: .badJSON, detail: "invalid number at byte \(start + 1)") }
        }
        if index < s.count, s[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < s.count, s[index] == UInt8(ascii: "+") || s[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw RecordFailure(reason: .badJSON, detail: "invalid number at byte \(start + 1)") }
        }
    }

    private mutating func container(_ s: UnsafeRawBufferPointer, _ index: inout Int, depth: Int) throws {
        guard depth <= Self.maxDepth else {
            throw RecordFailure(reason: .badJSON, detail: "nesting deeper than \(Self.maxDepth) levels")
        }
        let isObject = s[index] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipSpace(s, &index)
        if index < s.count, s[index] == close { index += 1; return }
        while true {
            skipSpace(s, &index)
            if isObject {
                _ = try stringSpan(s, &index)
                skipSpace(s, &index)
                guard index < s.count, s[index] == UInt8(ascii: ":") else {
                    throw RecordFailure(reason: .badJSON, detail: "expected ':' at byte \(index + 1)")
                }
                index += 1
                skipSpace(s, &index)
            }
            _ = try value(s, &index, depth: depth + 1)
            skipSpace(s, &index)
            guard index < s.count else { throw RecordFailure(reason: .badJSON, detail: "an object or array is not closed") }
            if s[index] == UInt8(ascii: ",") { index += 1; continue }
            if s[index] == close { index += 1; return }
            throw RecordFailure(reason: .badJSON, detail: "expected ',' or a closing bracket at byte \(index + 1)")
        }
    }

    /// Scans a string starting at its opening quote; leaves `index` past the closing quote.
    private func stringSpan(_ s: UnsafeRawBufferPointer, _ index: inout Int) throws -> Span {
        guard index < s.count, s[index] == UInt8(ascii: "\"") else {
            throw RecordFailure(reason: .badJSON, detail: "expected a string at byte \(index + 1)")
        }
        let start = index + 1
        var i = start
        var escaped = false
        while i < s.count {
            i = ByteScan.firstJSONSpecial(s, from: i)
            guard i < s.count else { break }
            let c = s[i]
            if c == UInt8(ascii: "\"") {
                index = i + 1
                return Span(start: start, end: i, escaped: escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 2
                continue
            }
            if c < 0x20 { throw RecordFailure(reason: .badJSON, detail: "unescaped control character in a string at byte \(i + 1)") }
            i += 1
        }
        throw RecordFailure(reason: .badJSON, detail: "a string is not closed")
    }

    // Static, as `unescapeBytes`: a method would hold `self` while it appends to `self.scratch`,
    // and the scratch buffer, no longer uniquely referenced, was copied for every escaped string.
    private static func unescape(_ s: UnsafeRawBufferPointer, _ span: Span, into out: inout [UInt8]) throws {
        try unescapeBytes(UnsafeRawBufferPointer(rebasing: s[span.start..<span.end]), into: &out)
    }

    /// Decodes JSON escapes, including surrogate pairs; a lone surrogate is an error.
    private static func unescapeBytes(_ s: UnsafeRawBufferPointer, into out: inout [UInt8]) throws {
        var i = 0
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= s.count else { throw RecordFailure(reason: .badJSON, detail: "incomplete \\u escape") }
            var value: UInt32 = 0
            for c in s[at..<(at + 4)] {
                value <<= 4
                switch c {
                case 48...57: value |= UInt32(c - 48)
                case 65...70: value |= UInt32(c - 55)
                case 97...102: value |= UInt32(c - 87)
                default: throw RecordFailure(reason: .badJSON, detail: "invalid \\u escape")
                }
            }
            return value
        }
        let base = s.baseAddress
        while i < s.count {
            // Copy the run up to the next backslash in one go.
            let run = memchr(base! + i, 0x5C, s.count - i).map { base!.distance(to: UnsafeRawPointer($0)) } ?? s.count
            if run > i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[i..<run])) }
            i = run
            guard i < s.count else { break }
            guard i + 1 < s.count else { throw RecordFailure(reason: .badJSON, detail: "incomplete escape") }
            let e = s[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= s.count, s[i] == UInt8(ascii: "\\"), s[i + 1] == UInt8(ascii: "u") else {
                        throw RecordFailure(reason: .badJSON, detail: "unpaired UTF-16 surrogate in \\u escape")
                    }
                    let low = try hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw RecordFailure(reason: .badJSON, detail: "unpaired UTF-16 surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw RecordFailure(reason: .badJSON, detail: "unpaired UTF-16 surrogate in \\u escape")
                }
                UTF8.encode(Unicode.Scalar(scalar)!) { out.append($0) }
            default:
                throw RecordFailure(reason: .badJSON, detail: "invalid escape sequence")
            }
        }
    }
}
