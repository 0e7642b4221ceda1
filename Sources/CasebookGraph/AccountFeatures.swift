/// What linking and risk scoring need to know of each account. Accounts are numbered
/// densely (`index`), so everything after this is integer arrays. Built through the
/// `add…` methods, by `FeatureReader` from a case file or by hand in tests: the link
/// engine itself never touches SQLite.
struct AccountFeatures {
    var accountKeys: [Int64] = []
    /// Account key → dense index (-1 for none). Account keys are small dense integers, so an
    /// array beats a dictionary on the 29-million-row scan.
    var indexOfKey: [Int32] = []
    var accountIDs: [String] = []
    var createdAt: [Int64?] = []
    var emails: [String?] = []
    var countries: [String?] = []
    /// Whether the account names an organisation (`org_id`): an identity someone answers for.
    var hasOrganisation: [Bool] = []

    /// Attribute lists per account, before weighting: (kind, value) pairs.
    var cards: [[String]] = []
    /// The BIN of each instrument (the first six digits: issuer and product, e.g. one prepaid programme).
    var bins: [[String]] = []
    var chargebackBINs: [[String]] = []
    var ipKeys: [[Int64]] = []
    /// When each account used each of its addresses (ms), aligned with `ipKeys`: an address
    /// shared a year apart (reassigned, or a proxy exit) is not shared use.
    var ipFirstSeen: [[Int64]] = []
    var ipLastSeen: [[Int64]] = []
    var userAgentKeys: [[Int64]] = []

    // Activity
    var exchanges: [Int] = []
    var inputTokens: [Int] = []
    var outputTokens: [Int] = []
    var capableModelExchanges: [Int] = []
    var hostingExchanges: [Int] = []
    var activeHours: [[UInt32]] = []
    /// First and last exchange (ms), and exchanges per day (days since 1970) as (day, count) runs.
    var firstSeen: [Int64] = []
    var lastSeen: [Int64] = []
    var dayCounts: [[(day: Int32, count: Int32)]] = []
    /// Exchanges per hour of the day (UTC), 24 counters per account in one flat array.
    var hourOfDay: [UInt32] = []
    var chargebackInstruments: [Int] = []
    var instruments: [Int] = []

    // Prompts
    var sampledPrompts: [Int] = []
    var coercivePrompts: [Int] = []
    var rubricPrompts: [Int] = []
    /// Each account's template: the phrases that recur in its prompts, all of them. Wording
    /// several operators share (a generator's vocabulary, a bought kit) still tells one
    /// operator's accounts apart from another's when compared whole.
    var templatePhrases: [[UInt64]] = []
    /// Sampled prompts that hold none of the account's template phrases (a person's own prompts).
    var untemplatedPrompts: [Int] = []

    /// The placeholders the reader left out (`Placeholder`), most accounts first: said to the
    /// investigator, as each stands for data the export did not have.
    var placeholders: [PlaceholderUse] = []
    /// Account ids that are another account's id written another way (`FeatureReader.splitIDs`).
    var splitIDs: [SplitID] = []

    var ipText: [Int64: String] = [:]
    var ipKind: [Int64: String] = [:]
    var userAgentText: [Int64: String] = [:]

    var count: Int { accountKeys.count }

    init() {}

    // MARK: - Building

    /// Adds an account; returns its index. Every account comes before any fact about one.
    @discardableResult
    mutating func addAccount(key: Int64, id: String, createdAt: Int64?, email: String?, country: String?, organisation: String? = nil) -> Int {
        accountKeys.append(key)
        accountIDs.append(id)
        self.createdAt.append(createdAt)
        emails.append(email?.lowercased())
        countries.append(country?.uppercased())
        hasOrganisation.append(!(organisation ?? "").isEmpty)
        return accountKeys.count - 1
    }

    /// Sizes every per-account list once the accounts are in.
    mutating func finishAccounts() {
        let n = count
        indexOfKey = Array(repeating: -1, count: Int(accountKeys.max() ?? 0) + 1)
        for (index, key) in accountKeys.enumerated() where key >= 0 { indexOfKey[Int(key)] = Int32(index) }
        cards = Array(repeating: [], count: n)
        bins = Array(repeating: [], count: n)
        chargebackBINs = Array(repeating: [], count: n)
        ipKeys = Array(repeating: [], count: n)
        ipFirstSeen = Array(repeating: [], count: n)
        ipLastSeen = Array(repeating: [], count: n)
        userAgentKeys = Array(repeating: [], count: n)
        exchanges = Array(repeating: 0, count: n)
        inputTokens = Array(repeating: 0, count: n)
        outputTokens = Array(repeating: 0, count: n)
        capableModelExchanges = Array(repeating: 0, count: n)
        hostingExchanges = Array(repeating: 0, count: n)
        activeHours = Array(repeating: [], count: n)
        firstSeen = Array(repeating: .max, count: n)
        lastSeen = Array(repeating: .min, count: n)
        dayCounts = Array(repeating: [], count: n)
        hourOfDay = Array(repeating: 0, count: n * 24)
        chargebackInstruments = Array(repeating: 0, count: n)
        instruments = Array(repeating: 0, count: n)
        sampledPrompts = Array(repeating: 0, count: n)
        coercivePrompts = Array(repeating: 0, count: n)
        rubricPrompts = Array(repeating: 0, count: n)
        templatePhrases = Array(repeating: [], count: n)
        untemplatedPrompts = Array(repeating: 0, count: n)
    }

    /// The share of the account's sampled prompts without its template (0 without a sample).
    func untemplatedShare(_ a: Int) -> Double {
        sampledPrompts[a] == 0 ? 0 : Double(untemplatedPrompts[a]) / Double(sampledPrompts[a])
    }

    /// One payment instrument; `fingerprint` nil when the export gave a placeholder for it.
    mutating func addPayment(account index: Int, fingerprint: String?, bin: String?, chargebacks: Int) {
        if let fingerprint { cards[index].append(fingerprint) }
        if let bin { bins[index].append(bin) }
        instruments[index] += 1
        if chargebacks > 0 {
            chargebackInstruments[index] += 1
            if let bin { chargebackBINs[index].append(bin) }
        }
    }

    mutating func describeIP(key: Int64, text: String, kind: String?) {
        ipText[key] = text
        if let kind { ipKind[key] = kind.lowercased() }
    }

    /// The last hour an exchange can fall in: 9999-12-31T23 UTC, the latest time ingest accepts.
    /// A hand-edited case file is held to it, so hour arithmetic has room and never traps.
    static let lastHour: UInt32 = 70_389_527

    /// One exchange of account `index`. Each account's exchanges come in time order.
    /// `hosting` and `capableModel` say what the address and the model are. An exchange whose
    /// time is unknown (`ts` nil: a placeholder) counts, but places nothing in time, its
    /// address's use included.
    mutating func addExchange(account index: Int, at ts: Int64?, ip: Int64?, userAgent: Int64?, inputTokens input: Int,
                              outputTokens output: Int, hosting: Bool, capableModel: Bool) {
        exchanges[index] += 1
        // Hostile inputs hold counts up to 2^63-1: sums saturate, negatives count as none.
        inputTokens[index] = inputTokens[index].saturatingSum(max(0, input))
        outputTokens[index] = outputTokens[index].saturatingSum(max(0, output))
        if ip != nil && hosting { hostingExchanges[index] += 1 }
        if let agent = userAgent, userAgentKeys[index].last != agent && !userAgentKeys[index].contains(agent) {
            userAgentKeys[index].append(agent)
        }
        if capableModel { capableModelExchanges[index] += 1 }
        guard let ts else { return }
        let hour = min(UInt32(clamping: ts / 3_600_000), Self.lastHour)
        if activeHours[index].last != hour { activeHours[index].append(hour) }
        firstSeen[index] = min(firstSeen[index], ts)
        lastSeen[index] = max(lastSeen[index], ts)
        let day = Int32(clamping: ts >= 0 ? ts / 86_400_000 : (ts + 1) / 86_400_000 - 1)
        if dayCounts[index].last?.day == day {
            dayCounts[index][dayCounts[index].count - 1].count &+= 1
        } else {
            dayCounts[index].append((day, 1))
        }
        let hourOfDayIndex = ts >= 0 ? Int(ts / 3_600_000 % 24) : Int((ts % 86_400_000 + 86_400_000) / 3_600_000 % 24)
        hourOfDay[index * 24 + hourOfDayIndex] &+= 1
        if let ip { noteIP(ip, at: ts, account: index) }
    }

    /// Whether the account has an exchange at a known time, so that `firstSeen` and `lastSeen`
    /// hold times: an account whose exchanges all carry a placeholder time has none.
    func isSeenInTime(_ index: Int) -> Bool { firstSeen[index] <= lastSeen[index] }

    /// After the exchanges: active hours as sorted distinct lists (a clock set back can repeat one).
    mutating func finishExchanges() {
        for index in 0..<count {
            activeHours[index].sort()
            activeHours[index] = activeHours[index].uniqued()
        }
    }
}

extension AccountFeatures {
    func index(ofKey key: Int64) -> Int? {
        guard key >= 0, key < indexOfKey.count, indexOfKey[Int(key)] >= 0 else { return nil }
        return Int(indexOfKey[Int(key)])
    }

    /// Records that `account` used `ip` at `time`. Accounts use few addresses, mostly the
    /// same one again, so a check of the last one and then a short linear search.
    mutating func noteIP(_ ip: Int64, at time: Int64, account: Int) {
        let position: Int
        if ipKeys[account].last == ip {
            position = ipKeys[account].count - 1
        } else if let found = ipKeys[account].firstIndex(of: ip) {
            position = found
        } else {
            ipKeys[account].append(ip)
            ipFirstSeen[account].append(time)
            ipLastSeen[account].append(time)
            return
        }
        if time < ipFirstSeen[account][position] { ipFirstSeen[account][position] = time }
        if time > ipLastSeen[account][position] { ipLastSeen[account][position] = time }
    }

    /// Whether two accounts used `ip` within `slack` milliseconds of each other.
    func usedTogether(_ a: Int, _ b: Int, ip: Int64, slack: Int64) -> Bool {
        guard let i = ipKeys[a].firstIndex(of: ip), let j = ipKeys[b].firstIndex(of: ip) else { return false }
        return ipFirstSeen[a][i] <= ipLastSeen[b][j] + slack && ipFirstSeen[b][j] <= ipLastSeen[a][i] + slack
    }
}

/// Each account's sampled prompts, tallied: the phrases that recur across them become its
/// template; coercion and rubric wording are counted.
struct PromptTallies {
    private let sampler: PromptSampler
    private var tallies: [[UInt32]]
    /// Where each sampled prompt's phrases end in its account's tally.
    private var promptEnds: [[Int32]]

    init(count: Int, parameters: LinkParameters) {
        sampler = PromptSampler(parameters: parameters)
        tallies = Array(repeating: [], count: count)
        promptEnds = Array(repeating: [], count: count)
    }

    mutating func add(_ prompt: String, account: Int, to f: inout AccountFeatures) {
        f.sampledPrompts[account] += 1
        let traits = PromptSampler.traits(prompt)
        if traits.coercive { f.coercivePrompts[account] += 1 }
        if traits.rubric { f.rubricPrompts[account] += 1 }
        tallies[account].append(contentsOf: PromptSampler.distinctPhrases(prompt))
        promptEnds[account].append(Int32(tallies[account].count))
    }

    mutating func finish(into f: inout AccountFeatures) {
        var phrases = Array(repeating: [UInt64](), count: f.count)
        for account in 0..<f.count {
            phrases[account] = sampler.recurringPhrases(tally: tallies[account], prompts: f.sampledPrompts[account])
            if !phrases[account].isEmpty {
                let recurring = Set(phrases[account].map { UInt32(truncatingIfNeeded: $0) })
                var start = 0
                for end in promptEnds[account].map(Int.init) {
                    if !tallies[account][start..<end].contains(where: recurring.contains) { f.untemplatedPrompts[account] += 1 }
                    start = end
                }
            }
            tallies[account] = []
            promptEnds[account] = []
        }
        f.templatePhrases = phrases
    }
}

extension Array where Element: Hashable {
    /// The distinct elements, in first-seen order.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension Int {
    /// `self + other`, or `Int.max` where that would overflow (both are never negative here).
    func saturatingSum(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
