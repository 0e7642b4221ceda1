import CasebookIO
import Crypto
import Foundation

/// What `--redact` replaces: e-mail addresses, IP addresses, the text of prompts (and the
/// responses to them). Values become keyed pseudonyms, the same value always the same
/// pseudonym in every file of a bundle, so shared values still show as shared.
public struct RedactionProfile: Sendable, Equatable {
    public var emails = false
    public var ips = false
    public var prompts = false

    public init() {}

    public var isEmpty: Bool { !emails && !ips && !prompts }
    public var names: [String] { [emails ? "emails" : nil, ips ? "ips" : nil, prompts ? "prompts" : nil].compactMap { $0 } }

    /// `emails,ips,prompts` (any of them, any order).
    public init(parsing text: String) throws {
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            switch name {
            case "emails": emails = true
            case "ips": ips = true
            case "prompts": prompts = true
            default: throw ExportError.usage("unknown redaction '\(name)'; expected emails, ips or prompts, separated by commas")
            }
        }
    }
}

/// Makes pseudonyms with HMAC-SHA-256 under the signing key's redaction key, and finds
/// addresses inside free text (notes, `extra` fields, audit payloads, link evidence).
final class Redactor {
    let profile: RedactionProfile
    private let key: SymmetricKey

    init(profile: RedactionProfile, key: SymmetricKey) {
        self.profile = profile
        self.key = key
    }

    private func tag(_ kind: String, _ value: String, length: Int) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array((kind + "\u{0}" + value).utf8), using: key)
        return code.prefix(length / 2).map { String(format: "%02x", $0) }.joined()
    }

    /// `u0a1b2c3d4e5f@d9f8e7d6c5b4a.invalid`: the domain has its own pseudonym, so accounts
    /// on one domain still share it.
    func email(_ value: String) -> String {
        guard let at = value.lastIndex(of: "@") else { return "u" + tag("email", value, length: 12) + "@redacted.invalid" }
        return "u" + tag("email", value.lowercased(), length: 12) + "@" + domain(String(value[value.index(after: at)...]))
    }

    func domain(_ value: String) -> String { "d" + tag("domain", value.lowercased(), length: 12) + ".invalid" }

    func ip(_ value: String) -> String { "ip-" + tag("ip", value, length: 16) }

    func prompt(_ value: String) -> String { "[prompt redacted " + tag("prompt", value, length: 16) + "]" }

    func response(_ value: String) -> String { "[response redacted " + tag("response", value, length: 16) + "]" }

    // MARK: Prompts quoted in free text

    /// Hashes of every window of 4 to 16 bytes of the free text (notes, findings, audit
    /// payloads), by window length: a prompt can be quoted there only if its first bytes are.
    private var windows: [Int: Set<UInt64>] = [:]
    /// Exported prompts (and responses) that free text quotes, longest first when replaced.
    private var quoted = Set<String>()
    private static let shortestQuote = 4, window = 16

    /// Prepares to find prompts quoted in `texts` (call before the exchanges are copied).
    func expectQuotes(in texts: [String]) {
        guard profile.prompts else { return }
        for text in texts {
            let bytes = Array(text.utf8)
            for length in Self.shortestQuote...Self.window where bytes.count >= length {
                var set = windows[length, default: []]
                for start in 0...(bytes.count - length) { set.insert(Self.hash(bytes[start..<(start + length)])) }
                windows[length] = set
            }
        }
    }

    /// Called with each exported prompt or response: remembers it if free text quotes it.
    func noteQuotable(_ value: String, in texts: () -> [String]) {
        guard profile.prompts, value.utf8.count >= Self.shortestQuote, !windows.isEmpty else { return }
        let bytes = value.utf8.prefix(Self.window)
        guard windows[bytes.count]?.contains(Self.hash(bytes)) == true else { return }
        if texts().contains(where: { $0.contains(value) }) { quoted.insert(value) }
    }

    private static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return hash
    }

    /// Free text with every e-mail address and every IP address in it replaced (as the
    /// profile says), and with prompts it quotes replaced. Addresses are found by their
    /// shape, not looked up, so one that was never in a structured field is caught too.
    func scrub(_ text: String) -> String {
        var text = text
        for value in quoted.sorted(by: { $0.utf8.count > $1.utf8.count }) where text.contains(value) {
            text = text.replacingOccurrences(of: value, with: prompt(value))
        }
        guard profile.emails || profile.ips else { return text }
        var out = ""
        var token = ""
        func flush() {
            guard !token.isEmpty else { return }
            out += replacement(for: token) ?? token
            token = ""
        }
        for scalar in text.unicodeScalars {
            if Self.isTokenScalar(scalar) {
                token.unicodeScalars.append(scalar)
            } else {
                flush()
                out.unicodeScalars.append(scalar)
            }
        }
        flush()
        return out
    }

    private static func isTokenScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "@", ":", "_", "%", "+", "-": return true
        default: return false
        }
    }

    private func replacement(for token: String) -> String? {
        // Trailing sentence punctuation is not part of an address.
        var core = Substring(token)
        while let last = core.last, last == "." || last == ":" || last == "-" { core = core.dropLast() }
        let tail = token.dropFirst(core.count)
        let value = String(core)
        if profile.emails, value.contains("@"), Self.looksLikeEmail(value) { return email(value) + tail }
        if profile.ips, Self.isIPAddress(value) { return ip(value) + tail }
        if profile.ips, let colon = value.lastIndex(of: ":"), Self.isIPAddress(String(value[..<colon])),
           value[value.index(after: colon)...].allSatisfy(\.isNumber) {
            return ip(String(value[..<colon])) + value[colon...] + tail
        }
        if profile.emails, value.contains("."), !value.contains("@"), domainsSeen.contains(value.lowercased()) { return domain(value) + tail }
        return nil
    }

    /// Domains of redacted addresses: where they stand alone (a link's `email_domain`
    /// evidence, a note) they are replaced too.
    private(set) var domainsSeen = Set<String>()

    func noteDomain(ofEmail value: String) {
        if let domain = EmailText.domain(of: value) { domainsSeen.insert(domain.lowercased()) }
    }

    static func looksLikeEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
    }

    static func isIPAddress(_ value: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return value.withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }
}

public enum ExportError: Error, CustomStringConvertible {
    case usage(String)
    case notFound(String)
    case output(String)

    public var description: String {
        switch self {
        case let .usage(text), let .notFound(text), let .output(text): return text
        }
    }

    public var isNotFound: Bool { if case .notFound = self { return true } else { return false } }
}
