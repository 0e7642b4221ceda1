#if canImport(Glibc)
import Glibc
#endif

/// Parsers for the value types of the input contract, working on raw UTF-8
/// bytes so that the hot path allocates nothing.
enum ValueParsing {

    // MARK: - Calendar

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    // MARK: - Integers

    /// A base-10 integer that fits in 64 bits: optional minus sign, digits, nothing else; or
    /// such a whole number written as a float (`812.0`, as pandas writes an integer column
    /// with a gap), which is that number.
    static func integer(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var index = 0
        let negative = bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        let digitsStart = index
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "."), index > digitsStart, index + 1 < bytes.count,
               bytes[(index + 1)...].allSatisfy({ $0 == UInt8(ascii: "0") }) {
                return value
            }
            guard c >= 48, c <= 57 else { return nil }
            let digit = Int64(c - 48)
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit)
                                             : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        return value
    }

    /// Why a value that is not an int is not one, where its form tells: the reject then says
    /// what to change rather than only what was expected.
    static func integerProblem(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        let unsigned = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        for separator in [",", "_", "'", " ", "\u{00A0}", "\u{202F}"] {
            let groups = unsigned.components(separatedBy: separator)
            if groups.count > 1, (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }),
               groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) {
                return "written with thousands separators (1,234 or 1 234); the field takes the digits alone"
            }
        }
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) {
            return "a number with a fraction; the field takes whole numbers"
        }
        if unsigned.allSatisfy({ $0.isASCII && $0.isNumber }) && !unsigned.isEmpty {
            return "too large for 64 bits"
        }
        return nil
    }

    // MARK: - IP addresses

    /// Hands `body` the canonical text of an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes
    /// IPv4). A strict dotted quad is its own canonical text, so it is handed over as it is,
    /// with no String built: most addresses in an export are IPv4.
    ///
    /// An address written with its port, as load balancers and proxies log the client
    /// (`1.2.3.4:5678`, `[2001:db8::1]:443`), or in brackets alone, is that address: the
    /// record's identity and its links are the address's, and the source line keeps the port.
    /// So is an address padded with blanks (a fixed-width export), and one written as a
    /// network of one host (`1.2.3.4/32`, `2001:db8::1/128`, as PostgreSQL writes `cidr`).
    /// - Returns: false, without calling `body`, when `bytes` is not an address.
    static func withCanonicalIP(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let bytes = hostAddress(trimmingBlanks(value))
        if ipv4(bytes) != nil {
            body(bytes)
            return true
        }
        let address = bytes.contains(UInt8(ascii: "[")) || bytes.contains(UInt8(ascii: ".")) ? addressBeforePort(bytes) : nil
        if let address, ipv4(address) != nil {
            body(address)
            return true
        }
        guard var text = canonicalIPv6(address ?? bytes) else { return false }
        text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        return true
    }

    /// The value without the spaces and tabs around it, which fixed-width exports pad with.
    static func trimmingBlanks(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else { return bytes }
        return UnsafeRawBufferPointer(rebasing: bytes[first...last])
    }

    /// The address of a network of one host (`/32` after IPv4, `/128` after IPv6); the text
    /// as it is otherwise, which a wider prefix then fails as an address.
    private static func hostAddress(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return bytes }
        let prefix = String(decoding: bytes[(slash + 1)...], as: UTF8.self)
        let address = UnsafeRawBufferPointer(rebasing: bytes[..<slash])
        let isIPv6 = address.contains(UInt8(ascii: ":"))
        return prefix == (isIPv6 ? "128" : "32") ? address : bytes
    }

    /// The address of `1.2.3.4:port`, `[v6]:port` or `[v6]`; nil for any other text.
    private static func addressBeforePort(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[(close + 1)...])
            guard rest.isEmpty || (rest.first == UInt8(ascii: ":") && isPort(UnsafeRawBufferPointer(rebasing: rest.dropFirst()))) else { return nil }
            let inside = UnsafeRawBufferPointer(rebasing: bytes[1..<close])
            return inside.contains(UInt8(ascii: ":")) ? inside : nil
        }
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")),
              isPort(UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)...])) else { return nil }
        let address = UnsafeRawBufferPointer(rebasing: bytes[..<colon])
        return ipv4(address) != nil ? address : nil
    }

    /// A TCP or UDP port: 1 to 5 digits, at most 65535.
    private static func isPort(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard (1...5).contains(bytes.count), bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return false }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 48) } <= 65535
    }

    /// Why a value that is not an address is not one, where an export's usual forms tell:
    /// the reject's detail then says what to change rather than only what was expected.
    static func ipProblem(_ value: UnsafeRawBufferPointer) -> String? {
        let bytes = trimmingBlanks(value)
        if let slash = bytes.lastIndex(of: UInt8(ascii: "/")), slash > 0 {
            let prefix = bytes[(slash + 1)...]
            if (1...3).contains(prefix.count), prefix.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                return "a network in CIDR notation (/\(String(decoding: prefix, as: UTF8.self))), not one client's address; a single host is /32 (IPv4) or /128 (IPv6)"
            }
        }
        if bytes.contains(UInt8(ascii: ",")) {
            return "a list of addresses (as an X-Forwarded-For header holds, the client's usually first); the field takes one address"
        }
        if bytes.contains(UInt8(ascii: "%")) && bytes.contains(UInt8(ascii: ":")) {
            return "an IPv6 address with a zone (%...), which names an address on one host's own link, not a client's"
        }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.count == 4, bytes.allSatisfy({ $0 == UInt8(ascii: ".") || ($0 >= 48 && $0 <= 57) }),
           parts.contains(where: { $0.count > 1 && $0.first == 48 }) {
            return "a part of the dotted quad starts with 0 (as in 010.1.2.3), which some tools read as octal and others as decimal; write each part without leading zeros"
        }
        return nil
    }

    /// Canonical text of an IPv6 address; an IPv4-mapped one becomes IPv4.
    private static func canonicalIPv6(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 2, bytes.count < 46, bytes.contains(UInt8(ascii: ":")) else { return nil }
        var text = [CChar](repeating: 0, count: 48)
        for (i, c) in bytes.enumerated() {
            guard c != 0, c != UInt8(ascii: "%") else { return nil }
            text[i] = CChar(bitPattern: c)
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        let octets = withUnsafeBytes(of: &address) { Array($0) }
        if octets[0..<10].allSatisfy({ $0 == 0 }) && octets[10] == 0xff && octets[11] == 0xff {
            return formatIPv4((UInt32(octets[12]) << 24) | (UInt32(octets[13]) << 16) | (UInt32(octets[14]) << 8) | UInt32(octets[15]))
        }
        var output = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &address, &output, socklen_t(output.count)) != nil else { return nil }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Strict dotted quad: four parts 0-255, no leading zeros (which some tools read as octal).
    static func ipv4(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count >= 7, bytes.count <= 15 else { return nil }
        var result: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var parts = 0
        var leadingZero = false
        for c in bytes {
            if c == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                result = (result << 8) | part
                parts += 1
                part = 0
                digits = 0
                leadingZero = false
            } else if c >= 48, c <= 57 {
                guard !leadingZero, digits < 3 else { return nil }
                if digits == 0 && c == 48 { leadingZero = true }
                part = part * 10 + UInt32(c - 48)
                digits += 1
                guard part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return (result << 8) | part
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
    }
}
