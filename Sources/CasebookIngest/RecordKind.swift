import Foundation
/// The four record kinds of the input contract and their fields.
public enum RecordKind: String, CaseIterable, Sendable {
    case accounts, payments, ips, exchanges

    /// The kind a file name announces (`exchanges-000.jsonl.gz` is exchanges), if any, in any
    /// letter case (`Accounts.CSV`, as Windows tools and some warehouses name their exports).
    public static func fromFileName(_ name: String) -> RecordKind? {
        let lowered = name.lowercased()
        return allCases.first { lowered.hasPrefix($0.rawValue) }
    }

    var fields: [FieldSpec] {
        switch self {
        case .accounts: return AccountField.specs
        case .payments: return PaymentField.specs
        case .ips: return IPField.specs
        case .exchanges: return ExchangeField.specs
        }
    }
}

public enum InputFormat: String, CaseIterable, Sendable {
    case csv, jsonl

    /// Format and compression from a file name: `.csv`, `.tsv` (CSV separated by tabs),
    /// `.jsonl`, `.ndjson` or `.json`, each with `.gz` or not, in any letter case (`.CSV` as
    /// Windows tools write it). BigQuery and Snowflake name their JSON Lines exports `.json`;
    /// a `.json` file that is one array or objects printed over many lines is told so by its
    /// first line, with the command that converts it.
    public static func fromFileName(_ name: String) -> (InputFormat, gzip: Bool)? {
        let lowered = name.lowercased()
        let gzip = lowered.hasSuffix(".gz")
        let base = gzip ? String(lowered.dropLast(3)) : lowered
        if base.hasSuffix(".csv") || base.hasSuffix(".tsv") { return (.csv, gzip) }
        if base.hasSuffix(".jsonl") || base.hasSuffix(".ndjson") || base.hasSuffix(".json") { return (.jsonl, gzip) }
        return nil
    }

    /// Whether a file's name says its cells are separated by tabs (`.tsv`, `.tsv.gz`).
    static func isTabSeparated(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered.hasSuffix(".tsv") || lowered.hasSuffix(".tsv.gz")
    }

    /// For a file in a format casebook does not read (Parquet, another compression), a
    /// sentence saying so with a command that streams it in; nil for any other name.
    public static func foreignFormatAdvice(path: String, kind: RecordKind?) -> String? {
        let lowered = path.lowercased()
        let kindText = kind?.rawValue ?? "KIND"
        if lowered.hasSuffix(".parquet") {
            return "Parquet is not read; stream it in as CSV: duckdb -c \"COPY (SELECT * FROM \(Self.sqlQuoted(path))) TO '/dev/stdout' (FORMAT csv, HEADER)\" | casebook ingest --kind \(kindText) --format csv -"
        }
        guard let compression = OtherCompression.allCases.first(where: { lowered.hasSuffix($0.suffix) }) else { return nil }
        let inner = fromFileName(String(path.dropLast(compression.suffix.count)))?.0.rawValue ?? "FORMAT"
        return "only gzip compression is read; stream it in: \(compression.command) \(shellQuoted(path)) | casebook ingest --kind \(kindText) --format \(inner) -"
    }

    /// For a file whose first bytes are another compression than gzip, whatever its name
    /// (`exchanges.csv.gz` written by `xz`), a sentence saying so with a command that streams
    /// it in; nil for any other content.
    static func foreignCompressionAdvice(path: String, head: [UInt8], kind: RecordKind, format: InputFormat) -> String? {
        guard let compression = OtherCompression.allCases.first(where: { $0.starts(head) }) else { return nil }
        return "its content is \(compression.name)-compressed, and only gzip compression is read; stream it in: "
            + "\(compression.command) \(shellQuoted(path)) | casebook ingest --kind \(kind.rawValue) --format \(format.rawValue) -"
    }

    /// Compressions that are told, by name or by their first bytes, so as to say how to stream them in.
    private enum OtherCompression: CaseIterable {
        case zstd, bzip2, xz, lz4, zip

        var name: String { "\(self)" }

        /// The file name's ending, the command that writes the content to standard output, and
        /// the first bytes of such a file.
        private var traits: (suffix: String, command: String, magic: [UInt8]) {
            switch self {
            case .zstd: return (".zst", "zstd -dc", [0x28, 0xB5, 0x2F, 0xFD])
            case .bzip2: return (".bz2", "bzip2 -dc", Array("BZh".utf8))
            case .xz: return (".xz", "xz -dc", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
            case .lz4: return (".lz4", "lz4 -dc", [0x04, 0x22, 0x4D, 0x18])
            case .zip: return (".zip", "unzip -p", [0x50, 0x4B, 0x03, 0x04])
            }
        }
        var suffix: String { traits.suffix }
        var command: String { traits.command }

        /// Whether a file starting with `head` is of this compression (bzip2's block size digit too).
        func starts(_ head: [UInt8]) -> Bool {
            head.starts(with: traits.magic) && (self != .bzip2 || (head.count > 3 && (0x31...0x39).contains(head[3])))
        }
    }

    /// `text` as one shell word.
    static func shellQuoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._/+-=:,@%".unicodeScalars.contains($0)) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `text` as an SQL string literal inside the double-quoted shell argument above.
    private static func sqlQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\"", with: "\\\"") + "'"
    }
}

enum FieldType { case string, timestamp, ip, int }

struct FieldSpec {
    let name: String
    let type: FieldType
    let required: Bool
    let nameBytes: [UInt8]

    init(_ name: String, _ type: FieldType, required: Bool = false) {
        self.name = name
        self.type = type
        self.required = required
        nameBytes = Array(name.utf8)
    }
}

// Field positions per kind: the order of the contract, used as slot indexes.

enum AccountField {
    static let accountID = 0, createdAt = 1, email = 2, orgID = 3, country = 4, signupIP = 5, status = 6, plan = 7
    static let specs = [
        FieldSpec("account_id", .string, required: true), FieldSpec("created_at", .timestamp, required: true),
        FieldSpec("email", .string), FieldSpec("org_id", .string), FieldSpec("country", .string),
        FieldSpec("signup_ip", .ip), FieldSpec("status", .string), FieldSpec("plan", .string),
    ]
}

enum PaymentField {
    static let accountID = 0, fingerprint = 1, type = 2, brand = 3, bin = 4, last4 = 5, country = 6,
               billingPostal = 7, firstUsed = 8, lastUsed = 9, chargebacks = 10
    static let specs = [
        FieldSpec("account_id", .string, required: true), FieldSpec("fingerprint", .string, required: true),
        FieldSpec("type", .string), FieldSpec("brand", .string), FieldSpec("bin", .string),
        FieldSpec("last4", .string), FieldSpec("country", .string), FieldSpec("billing_postal", .string),
        FieldSpec("first_used", .timestamp), FieldSpec("last_used", .timestamp), FieldSpec("chargebacks", .int),
    ]
}

enum IPField {
    static let ip = 0, asn = 1, asOrg = 2, country = 3, city = 4, kind = 5
    static let specs = [
        FieldSpec("ip", .ip, required: true), FieldSpec("asn", .int), FieldSpec("as_org", .string),
        FieldSpec("country", .string), FieldSpec("city", .string), FieldSpec("kind", .string),
    ]
}

enum ExchangeField {
    static let exchangeID = 0, accountID = 1, ts = 2, model = 3, apiKeyID = 4, ip = 5, userAgent = 6,
               inputTokens = 7, outputTokens = 8, status = 9, latencyMS = 10, prompt = 11, response = 12
    static let specs = [
        FieldSpec("exchange_id", .string, required: true), FieldSpec("account_id", .string, required: true),
        FieldSpec("ts", .timestamp, required: true), FieldSpec("model", .string), FieldSpec("api_key_id", .string),
        FieldSpec("ip", .ip), FieldSpec("user_agent", .string), FieldSpec("input_tokens", .int),
        FieldSpec("output_tokens", .int), FieldSpec("status", .int), FieldSpec("latency_ms", .int),
        FieldSpec("prompt", .string), FieldSpec("response", .string),
    ]
}
