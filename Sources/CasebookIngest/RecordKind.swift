/// The four record kinds of the input contract and their fields.
public enum RecordKind: String, CaseIterable, Sendable {
    case accounts, payments, ips, exchanges

    /// The kind a file name announces (`exchanges-000.jsonl.gz` is exchanges), if any.
    public static func fromFileName(_ name: String) -> RecordKind? {
        allCases.first { name.hasPrefix($0.rawValue) }
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

    /// Format and compression from a file name: `.csv`, `.jsonl`, either with `.gz`.
    public static func fromFileName(_ name: String) -> (InputFormat, gzip: Bool)? {
        let gzip = name.hasSuffix(".gz")
        let base = gzip ? String(name.dropLast(3)) : name
        if base.hasSuffix(".csv") { return (.csv, gzip) }
        if base.hasSuffix(".jsonl") || base.hasSuffix(".ndjson") { return (.jsonl, gzip) }
        return nil
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
