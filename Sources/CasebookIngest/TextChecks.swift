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

    /// Byte ranges that look like a full card number: 13 to 19 digits, optionally
    /// grouped by single spaces or dashes, passing the Luhn check.
    static func cardNumberRanges(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var index = 0
        let count = bytes.count
        while index < count {
            guard isDigit(bytes[index]) else { index += 1; continue }
            // A maximal run of digits joined by single separators.
            let start = index
            var digits: [UInt8] = []
            var end = index
            while end < count {
                let c = bytes[end]
                if isDigit(c) {
                    digits.append(c - 48)
                    end += 1
                } else if (c == UInt8(ascii: " ") || c == UInt8(ascii: "-")) && end + 1 < count && isDigit(bytes[end + 1]) {
                    end += 1
                } else {
                    break
                }
            }
            if (13...19).contains(digits.count) && passesLuhn(digits) {
                found.append(start..<end)
            }
            index = end
        }
        return found
    }

    static func containsCardNumber(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Cheap pre-check: most records have no run of 13 digits at all.
        var digitsInRun = 0
        for c in bytes {
            if isDigit(c) {
                digitsInRun += 1
                if digitsInRun >= 13 { return !cardNumberRanges(bytes).isEmpty }
            } else if c != UInt8(ascii: " ") && c != UInt8(ascii: "-") {
                digitsInRun = 0
            }
        }
        return false
    }

    /// `bytes` with every digit of every card number replaced by `*` except the last four.
    static func maskingCardNumbers(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var masked = Array(bytes)
        for range in cardNumberRanges(bytes) {
            var digitsLeft = range.reduce(0) { $0 + (isDigit(bytes[$1]) ? 1 : 0) }
            for i in range where isDigit(masked[i]) {
                if digitsLeft > 4 { masked[i] = UInt8(ascii: "*") }
                digitsLeft -= 1
            }
        }
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
