/// Byte-level checks on input text: UTF-8 validity, card numbers, content hashing.
enum TextChecks {

    // MARK: - UTF-8

    /// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { return true }
        while index < count {
            // ASCII fast path, eight bytes at a time.
            while index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= lower, second <= upper else { return false }
            for offset in 2..<max(2, length) {
                let c = bytes[index + offset]
                guard c >= 0x80, c <= 0xBF else { return false }
            }
            index += length
        }
        return true
    }

    // MARK: - Card numbers

    /// Byte ranges of `bytes` that hold what looks like a full card number: 13 to 19
    /// digits passing the Luhn check, the digits possibly full-width (or any Unicode
    /// decimal digit), written as JSON escapes (`\u0034`) when `jsonEscapes`, and
    /// separated by any run of white space (line breaks and the invisible spaces
    /// included), dashes, dots, slashes or underscores. A run with a single dot is a
    /// decimal number: only its whole part is checked, so an epoch time with a fraction
    /// is no card but a card column written as a float (`4111111111111111.0`) is; in
    /// scientific notation (`4.111111111111111E15`, as Java writes doubles) its digits are.
    /// In a run of grouped digits, every stretch of whole groups is checked, so a card
    /// cannot hide behind extra digits (`4111 1111 1111 1111 123`, a card and its CVV), and
    /// the run is searched on after each card found, so a second card in it is found too.
    static func cardNumberRanges(_ bytes: UnsafeRawBufferPointer, jsonEscapes: Bool = false) -> [Range<Int>] {
        let units = CardUnit.decode(bytes, jsonEscapes: jsonEscapes)
        var found: [Range<Int>] = []
        var index = 0
        while index < units.count {
            guard units[index].digit != nil else { index += 1; continue }
            // A maximal run of digit groups joined by separator runs.
            var groups: [[Int]] = [[index]]
            var separators: [Int] = []
            var end = index + 1
            while end < units.count {
                if units[end].digit != nil {
                    if units[end - 1].digit != nil { groups[groups.count - 1].append(end) } else { groups.append([end]) }
                    end += 1
                } else if units[end].isSeparator {
                    var next = end
                    while next < units.count && units[next].isSeparator { separators.append(next); next += 1 }
                    guard next < units.count, units[next].digit != nil else { break }
                    end = next
                } else {
                    break
                }
            }
            let isDecimal = groups.count == 2 && separators.count == 1 && units[separators[0]].isDot
            let hasExponent = end < units.count && units[end].isExponentMark
            let checked = !isDecimal ? groups : hasExponent ? [groups[0] + groups[1]] : [groups[0]]
            found += cardStretches(checked, units)
            index = end
        }
        return found
    }

    /// The byte ranges of the stretches of whole groups that read as card numbers: the first
    /// one, then the first among the groups after it, and so on. A stretch holds at most 19
    /// digits, so a run of n groups costs at most 19n checks, however its digits fall.
    private static func cardStretches(_ groups: [[Int]], _ units: [CardUnit]) -> [Range<Int>] {
        var stretches: [Range<Int>] = []
        var first = 0
        scan: while first < groups.count {
            // Luhn sums of the digits so far with every other digit doubled, from the first
            // (`sums.1`) or from the second (`sums.0`): the check of any length is one of them.
            var sums = (0, 0)
            var count = 0
            for last in first..<groups.count {
                for position in groups[last] {
                    let digit = Int(units[position].digit!)
                    let doubled = digit < 5 ? 2 * digit : 2 * digit - 9
                    sums = count % 2 == 0 ? (sums.0 + digit, sums.1 + doubled) : (sums.0 + doubled, sums.1 + digit)
                    count += 1
                }
                if count > 19 { break }
                // The last digit is never doubled: the one before it is, and so on to the left.
                if count >= 13 && (count % 2 == 1 ? sums.0 : sums.1) % 10 == 0 {
                    stretches.append(units[groups[first][0]].bytes.lowerBound..<units[groups[last].last!].bytes.upperBound)
                    first = last + 1
                    continue scan
                }
            }
            first += 1
        }
        return stretches
    }

    /// `cardNumberRanges`, after a cheap pre-check: a card needs 13 digits, each at least one
    /// ASCII digit, escape or non-ASCII byte.
    static func cardNumberCandidates(_ bytes: UnsafeRawBufferPointer, jsonEscapes: Bool = false) -> [Range<Int>] {
        var candidates = 0
        for c in bytes where isDigit(c) || c >= 0x80 || c == UInt8(ascii: "\\") { candidates += 1 }
        return candidates >= 13 ? cardNumberRanges(bytes, jsonEscapes: jsonEscapes) : []
    }

    /// `bytes` with every digit of every card number replaced by `*` except the last four
    /// (an escaped or full-width digit becomes one `*`). Masked again until nothing changes:
    /// a card's last four left in clear may begin another card with the digits after it
    /// (`1234 5678 9012 4111 1111 1111 1111`, where the first four groups pass the Luhn check too).
    /// Text built to chain such cards on and on gets every digit of its cards masked after a
    /// few rounds, so that masking stays linear in its length.
    static func maskingCardNumbers(_ bytes: UnsafeRawBufferPointer, jsonEscapes: Bool = false) -> [UInt8] {
        var masked = Array(bytes)
        for round in 1...8 {
            guard let again = masked.withUnsafeBytes({ maskingOnce($0, jsonEscapes: jsonEscapes, keepingLastFour: round < 8) }) else { break }
            masked = again
        }
        return masked
    }

    /// `bytes` with the card numbers `cardNumberRanges` finds masked; nil when it finds none.
    private static func maskingOnce(_ bytes: UnsafeRawBufferPointer, jsonEscapes: Bool, keepingLastFour: Bool) -> [UInt8]? {
        let ranges = cardNumberRanges(bytes, jsonEscapes: jsonEscapes)
        guard !ranges.isEmpty else { return nil }
        let units = CardUnit.decode(bytes, jsonEscapes: jsonEscapes)
        var masked: [UInt8] = []
        masked.reserveCapacity(bytes.count)
        var copied = 0
        for range in ranges {
            masked.append(contentsOf: bytes[copied..<range.lowerBound])
            let inside = units.filter { range.contains($0.bytes.lowerBound) }
            var digitsLeft = inside.filter { $0.digit != nil }.count
            let shown = keepingLastFour ? 4 : 0
            for unit in inside {
                if unit.digit != nil && digitsLeft > shown {
                    masked.append(UInt8(ascii: "*"))
                } else {
                    masked.append(contentsOf: bytes[unit.bytes])
                }
                if unit.digit != nil { digitsLeft -= 1 }
            }
            copied = range.upperBound
        }
        masked.append(contentsOf: bytes[copied...])
        return masked
    }

    static func passesLuhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if position % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}

/// One character of a record as the card-number check sees it, with the bytes it came from.
private struct CardUnit {
    let digit: UInt8?
    let isSeparator: Bool
    let isDot: Bool
    /// `e` or `E`, which after a decimal number starts its exponent.
    let isExponentMark: Bool
    let bytes: Range<Int>

    /// Decodes UTF-8 leniently (a bad byte is an ordinary character) and, for JSON, `\u` and white-space escapes.
    static func decode(_ bytes: UnsafeRawBufferPointer, jsonEscapes: Bool) -> [CardUnit] {
        var units: [CardUnit] = []
        units.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let start = index
            var scalar: UInt32
            if jsonEscapes && bytes[index] == UInt8(ascii: "\\") && index + 1 < bytes.count {
                let escaped = bytes[index + 1]
                index += 2
                switch escaped {
                case UInt8(ascii: "u"):
                    guard let high = hex4(bytes, index) else { scalar = 0; break }
                    index += 4
                    scalar = high
                    if (0xD800...0xDBFF).contains(high), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                       bytes[index + 1] == UInt8(ascii: "u"), let low = hex4(bytes, index + 2), (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                case UInt8(ascii: "t"): scalar = 0x09
                case UInt8(ascii: "n"): scalar = 0x0A
                case UInt8(ascii: "r"): scalar = 0x0D
                case UInt8(ascii: "f"): scalar = 0x0C
                case UInt8(ascii: "/"): scalar = 0x2F
                default: scalar = 0
                }
            } else {
                (scalar, index) = utf8Scalar(bytes, index)
            }
            units.append(CardUnit(scalar: scalar, bytes: start..<index))
        }
        return units
    }

    init(scalar: UInt32, bytes: Range<Int>) {
        self.bytes = bytes
        isDot = scalar == 0x2E || scalar == 0xFF0E
        isExponentMark = scalar == 0x65 || scalar == 0x45
        if scalar >= 0x30 && scalar <= 0x39 {
            digit = UInt8(scalar - 0x30)
        } else if scalar >= 0x80, let unicode = Unicode.Scalar(scalar), unicode.properties.numericType == .decimal,
                  let value = unicode.properties.numericValue {
            digit = UInt8(value)
        } else {
            digit = nil
        }
        switch scalar {
        case 0x09...0x0D, 0x20, 0x2D, 0x2E, 0x2F, 0x5F, 0x85, 0xA0, 0xAD, 0x1680, 0x180E, 0x2000...0x200D,
             0x2010...0x2015, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x2212, 0x3000, 0xFEFF, 0xFF0D, 0xFF0E, 0xFF0F,
             0xFF3F:
            isSeparator = true
        default:
            isSeparator = false
        }
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let c = bytes[at + offset]
            let nibble: UInt8
            switch c {
            case 0x30...0x39: nibble = c - 0x30
            case 0x41...0x46: nibble = c - 0x37
            case 0x61...0x66: nibble = c - 0x57
            default: return nil
            }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }

    /// The scalar starting at `index` and the index after it; an invalid byte reads as U+FFFD alone.
    private static func utf8Scalar(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> (UInt32, Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (UInt32(lead), index + 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, index + length <= bytes.count else { return (0xFFFD, index + 1) }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let c = bytes[index + offset]
            guard c & 0xC0 == 0x80 else { return (0xFFFD, index + 1) }
            value = value << 6 | UInt32(c & 0x3F)
        }
        return (value, index + length)
    }
}

/// A 64-bit fingerprint of a record's parsed content, for telling an identical
/// re-delivery from a conflicting one. Eight bytes per step, seeded per field.
struct ContentHasher {
    private(set) var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func mix(_ value: UInt64) {
        state = (state ^ value) &* 0xFF51_AFD7_ED55_8CCD
        state ^= state >> 32
    }

    mutating func add(field: Int, int value: Int64) {
        mix(UInt64(field) | 0x100)
        mix(UInt64(bitPattern: value))
    }

    mutating func add(field: Int, bytes: UnsafeRawBufferPointer) {
        mix(UInt64(field) | 0x200 | (UInt64(bytes.count) << 16))
        var index = 0
        guard let base = bytes.baseAddress else { return }
        while index + 8 <= bytes.count {
            mix(base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        mix(tail)
    }

    /// The final value as SQLite stores it (a signed 64-bit integer).
    var value: Int64 {
        var h = state
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return Int64(bitPattern: h)
    }
}
