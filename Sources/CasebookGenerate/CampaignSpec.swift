/// The size and shape of a synthetic campaign.
public struct CampaignSpec: Sendable {
    public var seed: UInt64 = 1
    public var benignAccounts: Int
    public var fraudAccounts: Int
    public var exchanges: Int
    public var days: Int = 45
    /// Share of exchanges made by fraudulent accounts (see `setFraudAccountShare`).
    public var fraudShare: Double = 0.75
    /// The largest operator, in accounts (hydras draw their sizes up to it).
    public var maxOperatorAccounts: Int = 2_000
    /// Exchanges per output file (`exchanges-000.jsonl.gz`, ...).
    public var shardSize: Int = 1_000_000
    /// Plant malformed records (bad timestamps, broken JSON, a card number, conflicts) to exercise the reject log.
    public var faults: Bool = false
    /// First day of the campaign window: 2026-01-05T00:00:00Z.
    public var startMilliseconds: Int64 = 1_767_571_200_000

    public init(benignAccounts: Int, fraudAccounts: Int, exchanges: Int) {
        self.benignAccounts = benignAccounts
        self.fraudAccounts = fraudAccounts
        self.exchanges = exchanges
    }

    /// Makes `share` of `accounts` fraudulent (an investigator's suspect slice can be mostly fraud).
    /// A fraudulent account sends about twelve times the requests of a benign one, so the share of
    /// exchanges follows; the largest operator can grow to half the fraudulent accounts.
    public mutating func setFraudAccountShare(_ share: Double, accounts: Int) {
        fraudAccounts = min(accounts - 1, max(5, Int((Double(accounts) * share).rounded())))
        benignAccounts = accounts - fraudAccounts
        let f = Double(fraudAccounts) / Double(accounts)
        fraudShare = 12 * f / (12 * f + (1 - f))
        maxOperatorAccounts = max(maxOperatorAccounts, min(20_000, fraudAccounts / 2))
    }

    public static let presetNames = ["demo", "small", "campaign"]
    /// Bounds that keep every count and id far from integer overflow.
    public static let maxAccounts = 10_000_000
    public static let maxExchanges = 10_000_000_000

    /// `demo`: seconds to make and load; `small`: a realistic test bed; `campaign`: the reported scale
    /// (about 25,000 fraudulent accounts, 28.8 million exchanges over 45 days).
    public static func preset(_ name: String) -> CampaignSpec? {
        switch name {
        case "demo":
            var spec = CampaignSpec(benignAccounts: 1_600, fraudAccounts: 400, exchanges: 60_000)
            spec.faults = true
            return spec
        case "small": return CampaignSpec(benignAccounts: 8_000, fraudAccounts: 2_000, exchanges: 500_000)
        case "campaign":
            var spec = CampaignSpec(benignAccounts: 100_000, fraudAccounts: 25_000, exchanges: 28_800_000)
            spec.maxOperatorAccounts = 5_000
            return spec
        default: return nil
        }
    }

    var hours: Int { days * 24 }
    var endMilliseconds: Int64 { startMilliseconds + Int64(hours) * 3_600_000 }
}
