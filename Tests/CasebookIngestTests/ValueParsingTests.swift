@testable import CasebookIngest
import CasebookIO
import Foundation
import XCTest

final class ValueParsingTests: XCTestCase {
    private func ms(_ text: String, _ rules: TimestampRules = TimestampRules()) -> Int64? {
        if case let .milliseconds(value) = parse(text, rules) { return value }
        return nil
    }

    private func parse(_ text: String, _ rules: TimestampRules = TimestampRules()) -> TimestampRules.Parsed {
        Array(text.utf8).withUnsafeBytes { rules.parse($0) }
    }

    func testTimestampsInTheFormsDatabasesWrite() {
        let expected: Int64 = 1_769_940_000_000  // 2026-02-01T10:00:00Z
        for text in ["2026-02-01 10:00:00+00", "2026-02-01 10:00:00+00:00", "2026-02-01 10:00:00+0000",
                     "2026-02-01 11:00:00+01", "2026-02-01 10:00:00 UTC", "2026-02-01T10:00:00Z", "2026-02-01 10:00:00 +00:00",
                     "2026-02-01 05:30:00-0430"] {
            XCTAssertEqual(ms(text), expected, text)
        }
        XCTAssertEqual(ms("2026-02-01 10:00:00.123456+00"), expected + 123)
        // No offset: rejected with a sentence, or read in the zone the ingest names.
        guard case let .invalid(why) = parse("2026-02-01 10:00:00") else { return XCTFail() }
        XCTAssertTrue(why.contains("--timezone"), why)
        XCTAssertEqual(ms("2026-02-01 10:00:00", TimestampRules(zone: TimestampRules.zone(named: "UTC"))), expected)
        XCTAssertEqual(ms("2026-02-01 11:00:00", TimestampRules(zone: TimestampRules.zone(named: "Europe/Paris"))), expected)
        XCTAssertEqual(ms("2026-07-01 12:00:00", TimestampRules(zone: TimestampRules.zone(named: "Europe/Paris"))),
                       1_782_900_000_000, "summer time is +02:00")
        XCTAssertEqual(ms("2026-02-01 12:00:00", TimestampRules(zone: TimestampRules.zone(named: "+02:00"))), expected)
        XCTAssertNil(TimestampRules.zone(named: "Mars/Olympus"))
    }

    /// Java's `toString()` leaves out zero seconds (`2026-02-01T10:00Z`, one record in sixty) and
    /// a ZonedDateTime adds its zone (`…+01:00[Europe/Paris]`, RFC 9557); the offset decides.
    func testTimestampsAsJavaWritesThem() {
        let expected: Int64 = 1_769_940_000_000  // 2026-02-01T10:00:00Z
        for text in ["2026-02-01T10:00Z", "2026-02-01T11:00+01:00", "2026-02-01T10:00:00Z[UTC]", "2026-02-01T11:00+01:00[Europe/Paris]",
                     "2026-02-01T11:00:00+01:00[!Europe/Paris][u-ca=iso8601]", "2026-02-01 10:00 UTC"] {
            XCTAssertEqual(ms(text), expected, text)
        }
        XCTAssertEqual(ms("2026-02-01T10:00:00.5Z[Etc/UTC]"), expected + 500)
        XCTAssertEqual(ms("2026-02-01T10:00", TimestampRules(zone: TimestampRules.zone(named: "UTC"))), expected)
        for bad in ["2026-02-01T10:00:00Z[", "2026-02-01T10:00:00Z[]", "2026-02-01T10:00:00Z[UTC", "2026-02-01T10:00:00Z]",
                    "2026-02-01T10:00:00Z[a[b]]", "2026-02-01T10:00.5Z", "2026-02-01T10:0Z", "2026-02-01T10:00Zjunk", "2026-02-01T10Z"] {
            XCTAssertNil(ms(bad), bad)
        }
        guard case let .invalid(why) = parse("2026-02-01T10:00:00[Europe/Paris]") else { return XCTFail() }
        XCTAssertTrue(why.contains("no time zone offset"), why)
    }

    /// ISO 8601 lets a comma come before the fraction; log4j, logback and Python's logging write one.
    func testAFractionAfterACommaAsLoggersWriteIt() {
        let utc = TimestampRules(zone: TimestampRules.zone(named: "UTC"))
        XCTAssertEqual(ms("2026-02-01 10:00:00,123", utc), 1_769_940_000_123)
        XCTAssertEqual(ms("2026-02-01T10:00:00,5Z"), 1_769_940_000_500)
        for bad in ["2026-02-01T10:00,5Z", "2026-02-01T10:00:00,Z", "2026-02-01T10:00:00,,1Z", "2026-02-01T10:00:00.1,2Z"] {
            XCTAssertNil(ms(bad), bad)
        }
    }

    /// Go prints a `time.Time` with its offset and the zone's letters; BigQuery and others write ` GMT`.
    /// A date alone, or a date in a locale's order (as a spreadsheet shows it), is refused
    /// saying what it is, not only what was expected.
    func testADateAloneOrInALocalesOrderIsToldAsSuch() {
        for (text, start) in [("2026-02-01", "\"2026-02-01\" is a date without a time of day; the field takes a date and time, as 2026-02-01T00:00:00Z"),
                              ("02/01/2026 10:00", "\"02/01/2026 10:00\" is a date in a locale's order"),
                              ("1.2.26", "\"1.2.26\" is a date in a locale's order"),
                              ("01/02/2026", "\"01/02/2026\" is a date in a locale's order")] {
            guard case let .invalid(why) = parse(text) else { XCTFail(text); continue }
            XCTAssertTrue(why.hasPrefix(start), why)
            // An example date would itself pick one of the readings the value cannot settle.
            if start.contains("locale") { XCTAssertTrue(why.hasSuffix("export it as RFC 3339, year first: YYYY-MM-DDTHH:MM:SSZ"), why) }
        }
        for other in ["2026-02-01 junk", "2026-2-1", "1/2", "yesterday", "1.5.3.4"] {
            XCTAssertEqual(parse(other), .invalid(TimestampRules.expected), other)
        }
    }

    func testTimestampsAsGoPrintsThemAndInGMT() {
        XCTAssertEqual(ms("2026-02-01 10:00:00 +0000 UTC"), 1_769_940_000_000)
        XCTAssertEqual(ms("2026-02-01 11:00:00.5 +0100 CET"), 1_769_940_000_500)
        XCTAssertEqual(ms("2026-02-01 10:00:00 GMT"), 1_769_940_000_000)
        for bad in ["2026-02-01 10:00:00 +0000 U2C", "2026-02-01 10:00:00 +0000UTC", "2026-02-01 10:00:00 +0000 ", "2026-02-01 10:00:00 CET",
                    "2026-02-01 10:00:00 +0000 Europe/Paris"] {
            XCTAssertNil(ms(bad), bad)
        }
    }

    /// Exchanges exported from an API gateway's logs keep the logs' times: the common log format
    /// of Apache and nginx, and the RFC 1123 / RFC 2822 dates of HTTP and JavaScript.
    func testTimestampsAsWebLogsAndHTTPWriteThem() {
        let expected: Int64 = 1_769_940_000_000  // 2026-02-01T10:00:00Z, a Sunday
        for text in ["01/Feb/2026:10:00:00 +0000", "01/Feb/2026:11:00:00 +0100", "01/feb/2026:04:30:00 -0530",
                     "Sun, 01 Feb 2026 10:00:00 GMT", "Sun, 1 Feb 2026 10:00:00 UTC", "01 Feb 2026 10:00:00 +0000",
                     "Sun, 01 Feb 2026 11:00 +0100", "sun, 01 FEB 2026 10:00:00 Z", "Sun,  01 Feb 2026 10:00:00 UT"] {
            XCTAssertEqual(ms(text), expected, text)
        }
        XCTAssertEqual(ms("Wed, 31 Dec 1969 23:00:00 GMT"), -3_600_000)
        XCTAssertEqual(ms("31/Dec/2016:23:59:60 +0000"), 1_483_228_799_999)
        for bad in ["01/Feb/2026:10:00:00", "01/Feb/26:10:00:00 +0000", "01/Feb/2026 10:00:00 +0000", "01/Fev/2026:10:00:00 +0000",
                    "Sun, 01 Feb 2026 10:00:00 EST", "Sun, 01 Feb 26 10:00:00 GMT", "Sun 01 Feb 2026 10:00:00 GMT",
                    "Sun, 01 Feb 2026 10:00:00", "Sun, 01 Feb 2026 10:00:00 +01", "01 02 2026 10:00:00 GMT"] {
            XCTAssertNil(ms(bad), bad)
        }
        guard case let .invalid(wrongDay) = parse("Mon, 01 Feb 2026 10:00:00 GMT"),
              case let .invalid(noDate) = parse("30/Feb/2026:10:00:00 +0000") else { return XCTFail() }
        XCTAssertEqual(wrongDay, "\"Mon, 01 Feb 2026 10:00:00 GMT\" says Mon, but that date is a Sun")
        XCTAssertEqual(noDate, "\"30/Feb/2026:10:00:00 +0000\" is not a date and time of the calendar")
    }

    func testEpochUnitsAndImplausibleValues() {
        XCTAssertEqual(ms("1769940000000", TimestampRules(epochUnit: .ms)), 1_769_940_000_000)
        XCTAssertEqual(ms("1769940000000123", TimestampRules(epochUnit: .us)), 1_769_940_000_000)
        XCTAssertEqual(ms("1769940000000.5", TimestampRules(epochUnit: .ms)), 1_769_940_000_000)
        // Milliseconds read as seconds would land 56,000 years ahead: refused, naming the unit to use.
        guard case let .invalid(why) = parse("1769940000000") else { return XCTFail() }
        XCTAssertTrue(why.contains("--epoch-unit ms"), why)
        guard case let .invalid(seconds) = parse("1769940000", TimestampRules(epochUnit: .ms)) else { return XCTFail() }
        XCTAssertTrue(seconds.contains("looks like seconds"), seconds)
        for bad in ["0000-01-01T00:00:00Z", "99999999999999999999", "-99999999999"] {
            guard case let .invalid(why) = parse(bad) else { return XCTFail(bad) }
            XCTAssertTrue(why.contains("0001-9999") || why.contains("plausible"), "\(bad): \(why)")
        }
        XCTAssertEqual(ms("0001-01-01T00:00:00Z"), -62_135_596_800_000)
        XCTAssertEqual(ms("9999-12-31T23:59:59.999Z"), 253_402_300_799_999)
    }

    func testTimestampsInEveryContractForm() {
        XCTAssertEqual(ms("2026-01-15T08:30:00Z"), 1_768_465_800_000)
        XCTAssertEqual(ms("2026-01-15T09:30:00.250+01:00"), 1_768_465_800_250)
        XCTAssertEqual(ms("2026-01-15t08:30:00.1z"), 1_768_465_800_100)
        XCTAssertEqual(ms("2026-01-15T03:00:00-05:30"), 1_768_465_800_000)
        XCTAssertEqual(ms("1768465800"), 1_768_465_800_000)
        XCTAssertEqual(ms("1768465800.25"), 1_768_465_800_250)
        XCTAssertEqual(ms("1.7684658e9"), 1_768_465_800_000)
        XCTAssertEqual(ms("-1.5"), -1_500)
        XCTAssertEqual(ms("2024-02-29T00:00:00Z"), 1_709_164_800_000)
        XCTAssertEqual(ms("1969-12-31T23:59:59Z"), -1_000)
    }

    func testTimestampsThatAreNotContractTimestamps() {
        for bad in ["", "yesterday", "2026-01-15", "2026-01-15T08:30:00", "2026-01-15T08:30", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                    "2026-01-15T24:00:00Z", "2026-01-15T08:30:00+1:00", "2026-01-15T08:30:00Zjunk", "17e", "1.", "--1",
                    "1 700 000 000", "0x10"] {
            XCTAssertNil(ms(bad), bad)
        }
    }

    private func ip(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { bytes in
            var canonical: String?
            let isAddress = ValueParsing.withCanonicalIP(bytes) { canonical = String(decoding: $0, as: UTF8.self) }
            XCTAssertEqual(isAddress, canonical != nil, text)
            return canonical
        }
    }

    func testIPsAreStoredInOneCanonicalForm() {
        XCTAssertEqual(ip("1.2.3.4"), "1.2.3.4")
        XCTAssertEqual(ip("::ffff:1.2.3.4"), "1.2.3.4")
        XCTAssertEqual(ip("::FFFF:0102:0304"), "1.2.3.4")
        XCTAssertEqual(ip("2001:DB8:0:0:0:0:0:1"), "2001:db8::1")
        XCTAssertEqual(ip("2001:db8::0:1"), "2001:db8::1")
        XCTAssertEqual(ip("::1"), "::1")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 x", "fe80::1%eth0", "2001:db8:::1", "host.example"] {
            XCTAssertNil(ip(bad), bad)
        }
    }

    /// Load balancers and proxies log the client as address and port; the address is the value.
    func testAnAddressWrittenWithItsPortIsTheAddress() {
        XCTAssertEqual(ip("1.2.3.4:5678"), "1.2.3.4")
        XCTAssertEqual(ip("1.2.3.4:65535"), "1.2.3.4")
        XCTAssertEqual(ip("[2001:DB8::1]:443"), "2001:db8::1")
        XCTAssertEqual(ip("[2001:db8::1]"), "2001:db8::1")
        XCTAssertEqual(ip("[::ffff:1.2.3.4]:80"), "1.2.3.4")
        // Without brackets the last group is the address's own, not a port.
        XCTAssertEqual(ip("2001:db8::1:443"), "2001:db8::1:443")
        for bad in ["1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:123456", "1.2.3.4:8a", "01.2.3.4:80", "[1.2.3.4]:80", "[[::1]]",
                    "[::1]:", "[::1]x", "[::1", "::ffff:1.2.3.4:80", "host.example:80", ":80"] {
            XCTAssertNil(ip(bad), bad)
        }
    }

    /// A fixed-width export pads the address with blanks; PostgreSQL writes a `cidr` host as
    /// `1.2.3.4/32`. Both are that one address; a wider network is no client's address.
    func testAPaddedAddressOrANetworkOfOneHostIsTheAddress() {
        let written = [" 1.2.3.4 ": "1.2.3.4", "\t2001:DB8::1  ": "2001:db8::1", "1.2.3.4/32": "1.2.3.4",
                       "2001:DB8::1/128": "2001:db8::1", " 1.2.3.4:80 ": "1.2.3.4"]
        for (text, address) in written {
            XCTAssertEqual(ip(text), address, text)
        }
        for bad in ["10.0.0.0/8", "1.2.3.4/24", "1.2.3.4/128", "2001:db8::/64", "2001:db8::1/32", "/32", "1.2.3.4/32/32",
                    "1.2.3.4/32:80", " ", "1.2.3.4 /32"] {
            XCTAssertNil(ip(bad), bad)
        }
        XCTAssertEqual(ipProblem("10.0.0.0/8"), "a network in CIDR notation (/8), not one client's address; a single host is /32 (IPv4) or /128 (IPv6)")
        XCTAssertEqual(ipProblem(" 2001:db8::/64 ")?.hasPrefix("a network in CIDR notation (/64)"), true)
        for other in ["/32", "1.2.3.4/32:80", "a/b"] {
            XCTAssertNil(ipProblem(other), other)
        }
    }

    private func ipProblem(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { ValueParsing.ipProblem($0) }
    }

    func testARejectedAddressSaysWhatIsWrongWhereTheFormTells() {
        XCTAssertEqual(ipProblem("1.2.3.4, 10.0.0.1")?.hasPrefix("a list of addresses"), true)
        XCTAssertEqual(ipProblem("fe80::1%eth0")?.hasPrefix("an IPv6 address with a zone"), true)
        XCTAssertEqual(ipProblem("010.1.2.3")?.hasPrefix("a part of the dotted quad starts with 0"), true)
        XCTAssertEqual(ipProblem("1.2.3.04")?.hasPrefix("a part of the dotted quad starts with 0"), true)
        for other in ["1.2.3", "host.example", "1.2.3.4.5", "0.0.0.256", "50%"] {
            XCTAssertNil(ipProblem(other), other)
        }
    }

    private func int(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { ValueParsing.integer($0) }
    }

    func testARejectedIntegerSaysWhatIsWrongWhereTheFormTells() {
        func problem(_ text: String) -> String? { Array(text.utf8).withUnsafeBytes { ValueParsing.integerProblem($0) } }
        for grouped in ["1,234", "12,345,678", "-1,234", "1 234", "1_000", "1'000", "1\u{00A0}234"] {
            XCTAssertEqual(problem(grouped)?.hasPrefix("written with thousands separators"), true, grouped)
        }
        XCTAssertEqual(problem("812.5")?.hasPrefix("a number with a fraction"), true)
        XCTAssertEqual(problem("99999999999999999999"), "too large for 64 bits")
        for other in ["1,23", "1,2345", ",123", "12a", "", "1.2.3", "0x10"] { XCTAssertNil(problem(other), other) }
    }

    func testIntegersFitIn64BitsWithNoSeparators() {
        XCTAssertEqual(int("0"), 0)
        XCTAssertEqual(int("-42"), -42)
        XCTAssertEqual(int("9223372036854775807"), Int64.max)
        XCTAssertEqual(int("-9223372036854775808"), Int64.min)
        for bad in ["", "-", "9223372036854775808", "1,000", "1e3", " 1", "+1", "1.5", "1.", ".0", "1.0.0", "-.0", "1.00001"] {
            XCTAssertNil(int(bad), bad)
        }
        // pandas writes an integer column with a gap as floats: a whole number is still that number.
        XCTAssertEqual(int("1.0"), 1)
        XCTAssertEqual(int("-3.000"), -3)
        XCTAssertEqual(int("9223372036854775807.0"), Int64.max)
    }

    func testUTF8Validation() {
        func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { TextChecks.isValidUTF8($0) } }
        XCTAssertTrue(valid(Array("plain ascii text that is long enough for the fast path".utf8)))
        XCTAssertTrue(valid(Array("émoji 😀 and עברית and 中文".utf8)))
        XCTAssertFalse(valid([0x61, 0xFF, 0x62]))
        XCTAssertFalse(valid([0xC0, 0xAF]))             // overlong
        XCTAssertFalse(valid([0xED, 0xA0, 0x80]))       // surrogate
        XCTAssertFalse(valid([0xF4, 0x90, 0x80, 0x80])) // past U+10FFFF
        XCTAssertFalse(valid([0xE2, 0x82]))             // cut short
    }

    /// What linking reads as absent: words for nothing, one character repeated, reserved
    /// countries, addresses and mail domains; and not real values that look a little like them.
    func testPlaceholdersAreToldFromValues() throws {
        for text in ["unknown", " N/A ", "NULL", "-", "000000", "xxxx", "****", "", "none", "\\N", "#N/A", "(null)", "<NA>", " \t"] {
            XCTAssertTrue(Placeholder.isPlaceholder(text), text)
        }
        for text in ["fp_0000", "411111", "n/a2", "0x1f", "visa", "\\Nadia", "N"] { XCTAssertFalse(Placeholder.isPlaceholder(text), text) }
        XCTAssertTrue(Placeholder.isPlaceholderCountry("ZZ"))
        XCTAssertTrue(Placeholder.isPlaceholderCountry("xx"))
        XCTAssertFalse(Placeholder.isPlaceholderCountry("GB"))
        XCTAssertFalse(Placeholder.isPlaceholderCountry("NA"), "Namibia")
        XCTAssertTrue(Placeholder.isPlaceholderCountry("N/A"))
        for ip in ["0.0.0.0", "::", "::1", "127.0.0.1", "127.1.2.3", "255.255.255.255"] { XCTAssertTrue(Placeholder.isPlaceholderIP(ip), ip) }
        for ip in ["10.0.0.1", "128.0.0.1", "2001:db8::1"] { XCTAssertFalse(Placeholder.isPlaceholderIP(ip), ip) }
        for email in ["noreply@example.com", "a@EXAMPLE.ORG", "x@shop.test", "unknown"] { XCTAssertTrue(Placeholder.isPlaceholderEmail(email), email) }
        for email in ["a@gmail.com", "b@example.co.uk", "someone"] { XCTAssertFalse(Placeholder.isPlaceholderEmail(email), email) }
        let rules = TimestampRules()
        for time in ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1601-01-01T00:00:00Z", "1899-12-30 00:00:00+00", "1753-01-01T00:00:00Z",
                     "1900-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999Z", "2038-01-19T03:14:07Z"] {
            XCTAssertTrue(Placeholder.isPlaceholderTime(milliseconds: try XCTUnwrap(ms(time, rules), time)), time)
        }
        XCTAssertTrue(Placeholder.isPlaceholderTime(milliseconds: try XCTUnwrap(ms("-1", rules))))
        XCTAssertTrue(Placeholder.isPlaceholderTime(milliseconds: try XCTUnwrap(ms("-0.001", rules))))
        XCTAssertFalse(Placeholder.isPlaceholderTime(milliseconds: try XCTUnwrap(ms("-2", rules))))
        XCTAssertEqual(Placeholder.unplacedExchangeTime(milliseconds: -2_000), "before 1970")
        XCTAssertEqual(Placeholder.unplacedExchangeTime(milliseconds: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertNil(Placeholder.unplacedExchangeTime(milliseconds: 1_769_940_000_000))
        XCTAssertNil(Placeholder.unplacedExchangeTime(milliseconds: 4_102_444_800_000))  // 2100
        for time in ["1970-01-01T00:00:00.001Z", "1970-01-01T00:00:01Z", "2026-01-01T00:00:00Z", "1900-01-01T00:00:00+01:00", "9999-12-31T23:59:58Z"] {
            XCTAssertFalse(Placeholder.isPlaceholderTime(milliseconds: try XCTUnwrap(ms(time, rules), time)), time)
        }
    }

    func testCardNumbersAreFoundByLengthAndLuhnAndMasked() {
        func ranges(_ text: String) -> Int { Array(text.utf8).withUnsafeBytes { TextChecks.cardNumberRanges($0).count } }
        XCTAssertEqual(ranges("4111111111111111"), 1)
        XCTAssertEqual(ranges("card 4111 1111 1111 1111 leaked"), 1)
        XCTAssertEqual(ranges("5500-0000-0000-0004"), 1)
        XCTAssertEqual(ranges("4111111111111112"), 0)          // fails Luhn
        XCTAssertEqual(ranges("411111111111"), 0)              // 12 digits
        XCTAssertEqual(ranges("41111111111111111111111"), 0)   // 23 digits
        XCTAssertEqual(ranges("1768465800.4111111111"), 0)     // an epoch time with a fraction
        XCTAssertEqual(ranges("4111111111111111.25"), 1)       // a card written as a float
        XCTAssertEqual(ranges("4.111111111111111e15"), 1)      // … in scientific notation
        XCTAssertEqual(ranges("4111\n1111\r\n1111\n1111"), 1)  // line breaks in a CSV cell
        let escaped = Array(#"4111\n1111\n1111\n1111"#.utf8)
        XCTAssertEqual(escaped.withUnsafeBytes { TextChecks.cardNumberRanges($0, jsonEscapes: true).count }, 1)
        XCTAssertEqual(escaped.withUnsafeBytes { TextChecks.cardNumberRanges($0).count }, 0)  // escapes only in JSON
        XCTAssertEqual(ranges("4111\u{2028}1111_1111\u{200B}1111"), 1)
        XCTAssertEqual(ranges("4111 1111 1111 1111 / 5500 0000 0000 0004"), 2)  // two cards in one run
        XCTAssertEqual(ranges("4111111111111111 123"), 1)                       // a card and its CVV
        XCTAssertEqual(ranges("4111 1111 1111 1111 12"), 1)
        // No stretch of ones passes the Luhn check: a long run is searched in linear time
        // (every pair of groups took minutes for a few thousand).
        XCTAssertEqual(ranges(Array(repeating: "1", count: 50_000).joined(separator: " ")), 0)
        // The search keeps running Luhn sums: a run holds a card exactly when some stretch of
        // its whole groups of 13 to 19 digits passes the check, however the digits are grouped.
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var groups = [""]
            for _ in 0..<Int.random(in: 13...19, using: &random) {
                if !groups[groups.count - 1].isEmpty && Int.random(in: 0..<4, using: &random) == 0 { groups.append("") }
                groups[groups.count - 1] += String(Int.random(in: 0...9, using: &random))
            }
            let stretches = groups.indices.flatMap { first in groups.indices[first...].map { groups[first...$0].joined() } }
            let expected = stretches.contains { (13...19).contains($0.count) && TextChecks.passesLuhn($0.utf8.map { $0 - 48 }) }
            XCTAssertEqual(ranges(groups.joined(separator: " ")) > 0, expected, groups.joined(separator: " "))
        }
        let masked = Array("note: 4111 1111 1111 1111.".utf8).withUnsafeBytes { TextChecks.maskingCardNumbers($0) }
        XCTAssertEqual(String(decoding: masked, as: UTF8.self), "note: **** **** **** 1111.")
    }

    /// The writer's identity cache must give back exactly what was stored, through growth,
    /// for values that share prefixes or lengths, the empty value, and after being emptied.
    func testKeyCacheFindsEveryValueItHolds() {
        var cache = KeyCache()
        // Short values, and long ones that share their first 16 bytes or more.
        let values = [""] + (0..<5_000).map { "acct-\($0)" } + (0..<5_000).map { "acct-\($0)x" }
            + ["0123456789abcdef", "0123456789abcdeg", "0123456789abcdef0", "0123456789abcdef1"]
            + (0..<3_000).map { "Mozilla/5.0 (X11; Linux x86_64) client \($0)" } + (0..<3_000).map { "2001:db8:85a3::8a2e:370:\($0)" }
        func key(_ value: String) -> Int64? { Array(value.utf8).withUnsafeBytes { cache.key(for: $0) } }
        for (index, value) in values.enumerated() {
            XCTAssertNil(key(value), value)
            Array(value.utf8).withUnsafeBytes { cache.insert($0, key: Int64(index) * 7) }
        }
        XCTAssertEqual(cache.count, values.count)
        for (index, value) in values.enumerated() { XCTAssertEqual(key(value), Int64(index) * 7, value) }
        XCTAssertNil(key("acct-5000"))
        XCTAssertNil(key("acct-1y"))
        XCTAssertNil(key("0123456789abcdef2"))
        XCTAssertNil(key("Mozilla/5.0 (X11; Linux x86_64) client 3000"))
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        XCTAssertNil(key("acct-1"))
        Array("acct-1".utf8).withUnsafeBytes { cache.insert($0, key: 42) }
        XCTAssertEqual(key("acct-1"), 42)
    }

    /// The many-bytes-at-a-time scans must find exactly what a byte-by-byte loop finds, at
    /// every position in and across words: JSON written with them reads back as the input.
    func testByteScansAgreeWithByteLoops() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab é,\"\\\n\r\t\u{1}x".utf8)
        for length in 0..<40 {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                let text = String(decoding: bytes, as: UTF8.self)
                var json: [UInt8] = []
                Array(text.utf8).withUnsafeBytes { JSONText.appendString($0, to: &json) }
                let decoded = try JSONSerialization.jsonObject(with: Data(json), options: .fragmentsAllowed) as? String
                XCTAssertEqual(decoded, text)
                let naive = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
                XCTAssertEqual(bytes.withUnsafeBytes { ByteScan.containsCSVSpecial($0) }, naive)
            }
        }
        // Mostly plain text, so the vector scan runs over whole chunks before it finds a byte.
        let sparse: [UInt8] = Array(String(repeating: "plain text ", count: 6).utf8) + [0x22, 0x5C, 0x0A, 0x1F, 0x7F, 0xC3, 0xA9]
        var mismatches: [String] = []
        for length in 0..<70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in sparse.randomElement(using: &generator)! }
                for start in 0...length {
                    let naive = bytes[start...].firstIndex { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } ?? length
                    let found = bytes.withUnsafeBytes { ByteScan.firstJSONSpecial($0, from: start) }
                    if found != naive, mismatches.count < 5 { mismatches.append("\(bytes) from \(start): \(found), not \(naive)") }
                }
            }
        }
        XCTAssertEqual(mismatches, [])
        for value in [Int64.min, Int64.min + 1, -10, -1, 0, 7, 10, 1_769_940_000_000, Int64.max] {
            var out: [UInt8] = []
            JSONText.appendInteger(value, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(value))
        }
    }
}
