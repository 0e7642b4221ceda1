import Foundation

/// How an ingest reads timestamps: RFC 3339 and the forms databases write, or epoch
/// numbers in a given unit, and the zone of a timestamp written without an offset.
///
/// Part of a file's identity (`source_files.read_options`): the same bytes read with
/// another unit or zone give other facts, so they are another file.
public struct TimestampRules: Sendable, Equatable {
    public enum EpochUnit: String, CaseIterable, Sendable {
        case s, ms, us
    }

    public let epochUnit: EpochUnit
    /// The zone of timestamps written without an offset; nil rejects them.
    public let zone: TimeZone?

    public init(epochUnit: EpochUnit = .s, zone: TimeZone? = nil) {
        self.epochUnit = epochUnit
        self.zone = zone
    }

    /// "" for the defaults, else e.g. "epoch_unit=ms;timezone=Europe/Paris".
    public var identity: String {
        var parts: [String] = []
        if epochUnit != .s { parts.append("epoch_unit=\(epochUnit.rawValue)") }
        if let zone { parts.append("timezone=\(zone.identifier)") }
        return parts.joined(separator: ";")
    }

    /// `UTC`, `Z`, a fixed offset (`+01:00`, `-0530`) or an IANA name (`Europe/Paris`).
    public static func zone(named name: String) -> TimeZone? {
        if name == "UTC" || name == "Z" { return TimeZone(identifier: "UTC") }
        let bytes = Array(name.utf8)
        if let offset = bytes.withUnsafeBytes({ offsetMinutes($0, from: 0) }), offset.end == bytes.count {
            return TimeZone(secondsFromGMT: offset.minutes * 60)
        }
        return name.contains("/") ? TimeZone(identifier: name) : nil
    }

    /// A timestamp as UTC milliseconds, or the sentence saying why it is not one.
    enum Parsed: Equatable {
        case milliseconds(Int64)
        case invalid(String)
    }

    static let expected = "expected an RFC 3339 timestamp (or `YYYY-MM-DD HH:MM:SS` with an offset, or a web log's or HTTP's date) or a Unix epoch number"
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
    static let earliest: Int64 = -62_135_596_800_000
    static let latest: Int64 = 253_402_300_799_999

    func parse(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        guard let first = bytes.first else { return .invalid(Self.expected) }
        let parsed: Parsed
        if first == UInt8(ascii: "-") || (Self.isDigit(first) && !(bytes.count >= 10 && bytes[4] == UInt8(ascii: "-"))) {
            parsed = epoch(bytes)
        } else {
            parsed = text(bytes)
        }
        // The forms of web server logs and HTTP, tried only when the contract's forms fail.
        if case .invalid = parsed, let logged = LogTimestamps.parse(bytes) { return logged }
        if parsed == .invalid(Self.expected), let form = Self.spreadsheetForm(bytes) { return .invalid("\(Self.quoted(bytes)) \(form)") }
        return parsed
    }

    /// What a value that spreadsheets and reports write is, where its shape tells: a date alone,
    /// or a date in a locale's order, which the value itself cannot settle.
    private static func spreadsheetForm(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        func digits(_ part: Substring, _ counts: ClosedRange<Int>) -> Bool {
            counts.contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber }
        }
        let date = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let dashed = date.split(separator: "-", omittingEmptySubsequences: false)
        if date == text[...], dashed.count == 3, digits(dashed[0], 4...4), digits(dashed[1], 2...2), digits(dashed[2], 2...2) {
            return "is a date without a time of day; the field takes a date and time, as \(date)T00:00:00Z"
        }
        for separator: Character in ["/", "."] {
            let parts = date.split(separator: separator, omittingEmptySubsequences: false)
            if parts.count == 3, digits(parts[0], 1...2), digits(parts[1], 1...2), digits(parts[2], 2...4) {
                return "is a date in a locale's order (01/02/2026 is 1 February in most of the world and January 2 in the US), "
                    + "which the value cannot settle; export it as RFC 3339, year first: YYYY-MM-DDTHH:MM:SSZ"
            }
        }
        return nil
    }

    // MARK: - Epoch numbers

    /// `1700000000`, `1700000000.25`, `-3.5`, `1.7e9` in the rule's unit.
    private func epoch(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var whole: Int64 = 0
        var digits = 0
        while index < bytes.count, Self.isDigit(bytes[index]) {
            guard digits < 18 else { return .invalid("the epoch number \(Self.quoted(bytes)) is outside the years 0001-9999") }
            whole = whole * 10 + Int64(bytes[index] - 48)
            index += 1
            digits += 1
        }
        guard digits > 0 else { return .invalid(Self.expected) }
        // The fraction in millionths of the unit.
        guard var fraction = Self.fraction(bytes, at: &index, firstDigitWorth: 100_000) else { return .invalid(Self.expected) }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            // Exponent notation is rare: let the standard library parse it.
            guard let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite, abs(value) < 1e18 else {
                return .invalid(Self.expected)
            }
            whole = Int64(abs(value).rounded(.down))
            fraction = Int64(((abs(value) - Double(whole)) * 1_000_000).rounded(.down))
        } else if index != bytes.count {
            return .invalid(Self.expected)
        }
        if let problem = implausible(whole) { return .invalid("the epoch number \(Self.quoted(bytes)) \(problem)") }
        let magnitude: Int64
        switch epochUnit {
        case .s: magnitude = whole * 1000 + fraction / 1000
        case .ms: magnitude = whole
        case .us: magnitude = whole / 1000
        }
        let value = negative ? -magnitude : magnitude
        guard (Self.earliest...Self.latest).contains(value) else {
            return .invalid("the epoch number \(Self.quoted(bytes)) is outside the years 0001-9999")
        }
        return .milliseconds(value)
    }

    /// Why a whole epoch magnitude only makes sense in another unit, if it does.
    private func implausible(_ whole: Int64) -> String? {
        switch epochUnit {
        case .s where whole >= 100_000_000_000:
            return "is not plausible as seconds since 1970 (it would be after the year 5000); it looks like milliseconds or microseconds: ingest with --epoch-unit ms or us"
        case .ms where whole >= 100_000_000_000_000:
            return "is not plausible as milliseconds since 1970; it looks like microseconds: ingest with --epoch-unit us"
        case .ms where whole > 0 && whole < 100_000_000_000:
            return "as milliseconds is in 1970-1973; it looks like seconds: ingest without --epoch-unit ms"
        case .us where whole >= 100_000_000_000_000_000:
            return "is not plausible as microseconds since 1970 (nanoseconds are not read)"
        case .us where whole > 0 && whole < 100_000_000_000_000:
            return "as microseconds is in 1970-1973; it looks like seconds or milliseconds: ingest with another --epoch-unit"
        default:
            return nil
        }
    }

    // MARK: - Text

    /// `2026-01-15T08:30:00Z`, `2026-01-15 09:30:00.250+01`, `...+0100`, `...+01:00`, `... UTC`,
    /// or without an offset when the rule names a zone. Seconds may be left out (`08:30Z`, as
    /// Java's `toString()` writes a time on the minute), and an RFC 9557 suffix may follow
    /// (`+01:00[Europe/Paris]`, as Java writes a ZonedDateTime): the offset decides.
    private func text(_ written: UnsafeRawBufferPointer) -> Parsed {
        guard let suffix = Self.suffixStart(written) else { return .invalid(Self.expected) }
        let b = UnsafeRawBufferPointer(rebasing: written[..<suffix])
        guard b.count >= 16 else { return .invalid(Self.expected) }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                guard Self.isDigit(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let year = number(0, 4), b[4] == UInt8(ascii: "-"),
              let month = number(5, 2), b[7] == UInt8(ascii: "-"),
              let day = number(8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let hour = number(11, 2), b[13] == UInt8(ascii: ":"),
              let minute = number(14, 2)
        else { return .invalid(Self.expected) }
        var second = 0
        var index = 16
        if index < b.count, b[index] == UInt8(ascii: ":") {
            guard b.count >= 19, let seconds = number(17, 2) else { return .invalid(Self.expected) }
            second = seconds
            index = 19
        }
        guard year >= 1 else { return .invalid("the year 0000 is outside the years 0001-9999") }
        guard (1...12).contains(month), day >= 1, day <= ValueParsing.daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { return .invalid("\(Self.quoted(b)) is not a date and time of the calendar") }
        // ISO 8601 allows a comma before the fraction, and log4j's, logback's and Python's logging
        // write one (`2026-01-15 08:30:00,250`); only after the seconds.
        let comma = index == 19 && index < b.count && b[index] == UInt8(ascii: ",")
        guard index == 19 || index == b.count || b[index] != UInt8(ascii: "."),
              let fraction = Self.fraction(b, at: &index, firstDigitWorth: 100, commaToo: comma) else { return .invalid(Self.expected) }
        let milliseconds = Int(fraction)
        let days = ValueParsing.daysFromCivil(year: year, month: month, day: day)
        // A leap second (:60) is counted as the last millisecond of its minute.
        let secondsOfDay = hour * 3600 + minute * 60 + min(second, 59)
        let leapAdjust = second == 60 ? 999 - milliseconds : 0
        let local = Int64(days) * 86_400 + Int64(secondsOfDay)
        guard let offsetSeconds = zoneOffset(b, from: index, localSeconds: local) else {
            if index == b.count {
                return .invalid("\(Self.quoted(b)) has no time zone offset; add one (Z, +01:00) or ingest with --timezone")
            }
            return .invalid(Self.expected)
        }
        return .milliseconds((local - offsetSeconds) * 1000 + Int64(milliseconds + leapAdjust))
    }

    /// Where an RFC 9557 suffix (`[Europe/Paris]`, `[u-ca=iso8601]`, one or more bracketed tags)
    /// starts: the end when there is none, nil when brackets are there but are no such suffix.
    private static func suffixStart(_ b: UnsafeRawBufferPointer) -> Int? {
        // Without a closing bracket last there is no suffix; a stray `[` is then left to fail as the offset.
        guard b.last == UInt8(ascii: "]") else { return b.count }
        guard let open = b.firstIndex(of: UInt8(ascii: "[")) else { return nil }
        var index = open
        while index < b.count {
            guard b[index] == UInt8(ascii: "[") else { return nil }
            let start = index + 1
            index = start
            while index < b.count, b[index] != UInt8(ascii: "]"), b[index] != UInt8(ascii: "[") { index += 1 }
            guard index < b.count, b[index] == UInt8(ascii: "]"), index > start else { return nil }
            index += 1
        }
        return open
    }

    /// The offset in seconds written from `index` to the end, or the rule's zone when none is written.
    private func zoneOffset(_ b: UnsafeRawBufferPointer, from start: Int, localSeconds: Int64) -> Int64? {
        var index = start
        if index == b.count {
            guard let zone else { return nil }
            // The zone's offset at that local time (a DST gap or overlap takes the offset before it).
            let guess = Date(timeIntervalSince1970: TimeInterval(localSeconds))
            let offset = zone.secondsFromGMT(for: guess.addingTimeInterval(-TimeInterval(zone.secondsFromGMT(for: guess))))
            return Int64(offset)
        }
        if b[index] == UInt8(ascii: " ") { index += 1 }
        let rest = UnsafeRawBufferPointer(rebasing: b[index...])
        if rest.count == 1 && (rest[0] == UInt8(ascii: "Z") || rest[0] == UInt8(ascii: "z")) { return 0 }
        if rest.elementsEqual("UTC".utf8) || rest.elementsEqual("GMT".utf8) { return 0 }
        guard let offset = Self.offsetMinutes(b, from: index),
              offset.end == b.count || Self.isZoneAbbreviation(UnsafeRawBufferPointer(rebasing: b[offset.end...])) else { return nil }
        return Int64(offset.minutes) * 60
    }

    /// ` UTC`, ` CET`, ` PST` after a numeric offset, as Go's `time.Time` prints itself
    /// (`2026-01-15 08:30:00 +0000 UTC`): the offset decides, the letters name it.
    private static func isZoneAbbreviation(_ b: UnsafeRawBufferPointer) -> Bool {
        b.count >= 2 && b.count <= 7 && b[0] == UInt8(ascii: " ")
            && b.dropFirst().allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
    }

    /// `+HH`, `+HHMM` or `+HH:MM` (or `-`) at `start`: minutes east of UTC and where it ends.
    static func offsetMinutes(_ b: UnsafeRawBufferPointer, from start: Int) -> (minutes: Int, end: Int)? {
        guard start + 3 <= b.count, b[start] == UInt8(ascii: "+") || b[start] == UInt8(ascii: "-"),
              isDigit(b[start + 1]), isDigit(b[start + 2]) else { return nil }
        let sign = b[start] == UInt8(ascii: "+") ? 1 : -1
        let hours = Int(b[start + 1] - 48) * 10 + Int(b[start + 2] - 48)
        var index = start + 3
        var minutes = 0
        if index < b.count {
            if b[index] == UInt8(ascii: ":") { index += 1 }
            guard index + 2 <= b.count, isDigit(b[index]), isDigit(b[index + 1]) else { return nil }
            minutes = Int(b[index] - 48) * 10 + Int(b[index + 1] - 48)
            index += 2
        }
        guard hours <= 23, minutes <= 59 else { return nil }
        return (sign * (hours * 60 + minutes), index)
    }

    /// An optional `.digits` (or `,digits` when `commaToo`) at `index`, worth `firstDigitWorth`
    /// for the first digit, a tenth of that for the next, and so on (digits past the precision
    /// count nothing); nil for a bare dot.
    static func fraction(_ b: UnsafeRawBufferPointer, at index: inout Int, firstDigitWorth: Int64, commaToo: Bool = false) -> Int64? {
        guard index < b.count, b[index] == UInt8(ascii: ".") || (commaToo && b[index] == UInt8(ascii: ",")) else { return 0 }
        index += 1
        let start = index
        var value: Int64 = 0
        var worth = firstDigitWorth
        while index < b.count, isDigit(b[index]) {
            value += Int64(b[index] - 48) * worth
            worth /= 10
            index += 1
        }
        return index > start ? value : nil
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// The value as text for a sentence, shortened so a huge field cannot flood the rejects table.
    private static func quoted(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(40), as: UTF8.self)
        return "\"" + (bytes.count > 40 ? text + "…" : text) + "\""
    }
}
