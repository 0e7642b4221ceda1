/// Values that exports write where they know nothing: `unknown`, `N/A`, `-`, `NULL` (and
/// MySQL's `\N`), a BIN of `000000`, a country of `XX`, an address of `0.0.0.0`, a mailbox
/// at `example.com`, a time of 1970-01-01T00:00:00Z.
/// Every account the export knew nothing about shares them, so they say nothing about who
/// runs which account: linking reads them as absent. The case file keeps them as written.
public enum Placeholder {
    /// Text that stands for "no value": a word for nothing, or one character repeated
    /// (`0000`, `xxxx`, `****`, `----`), after trimming spaces and ignoring letter case.
    public static func isPlaceholder(_ text: String) -> Bool {
        let trimmed = text.trimmingSpaces().lowercased()
        guard let first = trimmed.first else { return true }
        if words.contains(trimmed) { return true }
        return repeatable.contains(first) && trimmed.allSatisfy { $0 == first }
    }

    /// A country code for "unknown": a placeholder, or an ISO 3166 code reserved for users
    /// that exports use for it (`ZZ`, `XX`). `NA` is Namibia's code, not "not available".
    public static func isPlaceholderCountry(_ code: String) -> Bool {
        let upper = code.trimmingSpaces().uppercased()
        return upper == "ZZ" || (upper != "NA" && isPlaceholder(code))
    }

    /// An address that is no client's: unspecified (`0.0.0.0`, `::`), loopback (`127.0.0.0/8`,
    /// `::1`) or the broadcast address, in the canonical text ingest stores.
    public static func isPlaceholderIP(_ canonical: String) -> Bool {
        canonical == "0.0.0.0" || canonical == "::" || canonical == "::1" || canonical == "255.255.255.255"
            || canonical.hasPrefix("127.")
    }

    /// An email address that is no mailbox: a placeholder, or one at a domain reserved for
    /// examples and tests (RFC 2606: `example.com`, `*.invalid`, `*.test`, `*.localhost`).
    public static func isPlaceholderEmail(_ address: String) -> Bool {
        if isPlaceholder(address) { return true }
        guard let domain = EmailText.domain(of: address.lowercased()) else { return false }
        return reservedDomains.contains(domain) || reservedSuffixes.contains { domain.hasSuffix($0) }
    }

    /// An instant exports write where they know no time: the Unix epoch (a 0 written for no
    /// value, or -1, in seconds or milliseconds), the zero times of .NET and Go (0001-01-01), Windows (1601-01-01), Excel
    /// (1899-12-30) and SQL Server (1753-01-01, 1900-01-01), and the "never" of 9999-12-31 and of
    /// 32-bit time (2038-01-19T03:14:07Z). Each is to the second, in UTC.
    public static func isPlaceholderTime(milliseconds: Int64) -> Bool {
        // Every time between the epoch and 2038 is a real one: no lookup for the rows of a case file.
        if milliseconds > 0 && milliseconds < 2_147_483_647_000 { return false }
        return placeholderTimes.contains(milliseconds) || milliseconds == 253_402_300_799_999
    }

    /// How linking names an exchange time it places nowhere: a placeholder (`isPlaceholderTime`)
    /// by its value, and any time before 1970, which no exchange with a model's API can have
    /// (a clock or a sign error writes it), as `before 1970`; nil for a time to place.
    public static func unplacedExchangeTime(milliseconds: Int64) -> String? {
        if milliseconds > 0 && milliseconds < 2_147_483_647_000 { return nil }
        if isPlaceholderTime(milliseconds: milliseconds) { return TimestampText.rfc3339(milliseconds) }
        return milliseconds < 0 ? timeBefore1970 : nil
    }

    /// How `unplacedExchangeTime` names a time before 1970.
    public static let timeBefore1970 = "before 1970"

    private static let placeholderTimes: Set<Int64> = [
        0, -1, -1_000, -62_135_596_800_000, -11_644_473_600_000, -2_209_161_600_000, -6_847_804_800_000, -2_208_988_800_000,
        253_402_214_400_000, 253_402_300_799_000, 2_147_483_647_000,
    ]

    private static let words: Set<String> = [
        "unknown", "unk", "n/a", "na", "n.a.", "none", "null", "nil", "nan", "undefined", "missing",
        "not available", "not_available", "redacted", "masked", "?", "??", "???",
        // MySQL's NULL in a CSV export, Excel's, C's and pandas' printed nulls.
        "\\n", "#n/a", "(null)", "<null>", "<na>",
    ]
    private static let repeatable: Set<Character> = ["0", "x", "*", "-", "#", ".", "_"]
    private static let reservedDomains: Set<String> = [
        "example.com", "example.net", "example.org", "example", "invalid", "test", "localhost",
    ]
    private static let reservedSuffixes = [".example", ".invalid", ".test", ".localhost"]
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
