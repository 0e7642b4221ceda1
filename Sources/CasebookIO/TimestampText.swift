/// Milliseconds since 1970 written as the input contract and the case file's views write
/// them: `2026-01-05T13:45:12.345Z`, UTC, proleptic Gregorian calendar.
public enum TimestampText {
    /// Years 0001 to 9999, the range ingest accepts: within it the text is exactly what
    /// SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch')` gives.
    public static let supported: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// The text for `milliseconds` in `supported`.
    public static func rfc3339(_ milliseconds: Int64) -> String {
        var out: [UInt8] = []
        append(milliseconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the text for `milliseconds` in `supported` (built digit by digit: formatting
    /// through String took most of the time of writing a million exchanges).
    public static func append(_ milliseconds: Int64, to out: inout [UInt8]) {
        precondition(supported.contains(milliseconds), "timestamp outside years 0001-9999")
        let days = Int(floorDiv(milliseconds, 86_400_000))
        let msOfDay = Int(milliseconds - Int64(days) * 86_400_000)
        let (year, month, day) = civil(daysSinceEpoch: days)
        digits(year, 4, &out)
        out.append(UInt8(ascii: "-"))
        digits(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        digits(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2, &out)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3, &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `value` (not negative, at most `width` digits) zero-padded to `width` digits.
    private static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// H. Hinnant's civil_from_days: (year, month, day) of a day counted from 1970-01-01.
    public static func civil(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
