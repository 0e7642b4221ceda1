/// The timestamps web servers and HTTP write, read when a value is neither RFC 3339 nor an
/// epoch number: exchanges exported from an API gateway's logs keep them.
///
/// - `01/Feb/2026:10:00:00 +0000`: the common log format of Apache and nginx (`$time_local`);
/// - `Sun, 01 Feb 2026 10:00:00 GMT`: RFC 1123 and RFC 2822 (HTTP's `Date`, JavaScript's
///   `toUTCString()`, mail), the weekday optional, seconds optional.
///
/// The month is a name, so day and month cannot be confused, and the zone is written: `GMT`,
/// `UT`, `UTC`, `Z` or a numeric offset. A weekday that is not the date's is a contradiction
/// and rejected, as are two-digit years and the letter zones of RFC 822 (`EST`).
enum LogTimestamps {
    /// UTC milliseconds, the sentence that says why such a value is not a time, or nil when
    /// the text is not in one of these forms.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> TimestampRules.Parsed? {
        guard bytes.count <= 40, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let words = text.split(separator: " ")
        if words.count == 2, words[0].count >= 19, words[0].dropFirst(2).first == "/" || words[0].dropFirst(1).first == "/" {
            return commonLogFormat(date: words[0], zone: words[1], text: text)
        }
        return rfc2822(words, text: text)
    }

    /// `DD/Mon/YYYY:HH:MM:SS` then the offset.
    private static func commonLogFormat(date: Substring, zone: Substring, text: String) -> TimestampRules.Parsed? {
        let parts = date.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let clock = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 4, clock[0].count == 4 else { return nil }
        return time(day: parts[0], month: parts[1], year: clock[0], hour: clock[1], minute: clock[2], second: clock[3],
                    zone: zone, weekday: nil, text: text)
    }

    /// `[Day,] DD Mon YYYY HH:MM[:SS] zone`.
    private static func rfc2822(_ words: [Substring], text: String) -> TimestampRules.Parsed? {
        var rest = words[...]
        var weekday: Substring?
        if let first = rest.first, first.hasSuffix(",") {
            weekday = first.dropLast()
            rest = rest.dropFirst()
        }
        guard rest.count == 5 else { return nil }
        let values = Array(rest)
        let clock = values[3].split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 2 || clock.count == 3, values[2].count == 4 else { return nil }
        return time(day: values[0], month: values[1], year: values[2], hour: clock[0], minute: clock[1],
                    second: clock.count == 3 ? clock[2] : "00", zone: values[4], weekday: weekday, text: text)
    }

    private static func time(day: Substring, month: Substring, year: Substring, hour: Substring, minute: Substring,
                             second: Substring, zone: Substring, weekday: Substring?, text: String) -> TimestampRules.Parsed? {
        func number(_ digits: Substring, _ counts: ClosedRange<Int>) -> Int? {
            guard counts.contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(digits)
        }
        guard let monthNumber = months.firstIndex(of: month.lowercased()).map({ $0 + 1 }),
              let day = number(day, 1...2), let year = number(year, 4...4), let hour = number(hour, 2...2),
              let minute = number(minute, 2...2), let second = number(second, 2...2),
              let offsetMinutes = offset(zone) else { return nil }
        guard year >= 1, day >= 1, day <= ValueParsing.daysInMonth(year: year, month: monthNumber),
              hour <= 23, minute <= 59, second <= 60 else {
            return .invalid("\"\(text)\" is not a date and time of the calendar")
        }
        let days = ValueParsing.daysFromCivil(year: year, month: monthNumber, day: day)
        if let weekday {
            let actual = weekdays[((days % 7) + 11) % 7]
            guard weekday.lowercased() == actual.lowercased() else {
                return .invalid("\"\(text)\" says \(weekday), but that date is a \(actual)")
            }
        }
        // A leap second (:60) is counted as the last millisecond of its minute, as in RFC 3339 text.
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes) * 60
        return .milliseconds(seconds * 1000 + (second == 60 ? 999 : 0))
    }

    /// Minutes east of UTC for `GMT`, `UT`, `UTC`, `Z` or `+HHMM` / `-HHMM`.
    private static func offset(_ zone: Substring) -> Int? {
        if ["GMT", "UT", "UTC", "Z"].contains(zone.uppercased()) { return 0 }
        let bytes = Array(zone.utf8)
        guard bytes.count == 5, let offset = bytes.withUnsafeBytes({ TimestampRules.offsetMinutes($0, from: 0) }),
              offset.end == 5 else { return nil }
        return offset.minutes
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    /// From 1970-01-01, a Thursday: day 0 is index 4.
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
}
