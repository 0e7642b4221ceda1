import CasebookStore

/// What linking and risk scoring need to know of each account, read from the
/// case file in one pass over each fact table. Accounts are numbered densely
/// (`index`), so everything after this is integer arrays.
struct AccountFeatures {
    var accountKeys: [Int64] = []
    /// Account key → dense index (-1 for none). Account keys are small dense integers, so an
    /// array beats a dictionary on the 29-million-row scan.
    var indexOfKey: [Int32] = []
    var accountIDs: [String] = []
    var createdAt: [Int64?] = []
    var emails: [String?] = []

    /// Attribute lists per account, before weighting: (kind, value) pairs.
    var cards: [[String]] = []
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
    var templatePhrases: [[UInt64]] = []

    var ipText: [Int64: String] = [:]
    var ipKind: [Int64: String] = [:]
    var userAgentText: [Int64: String] = [:]

    var count: Int { accountKeys.count }

    static func read(_ database: Database, parameters: LinkParameters, progress: (String) -> Void) throws -> AccountFeatures {
        var f = AccountFeatures()
        progress("reading accounts")
        for row in try database.prepare("SELECT account_pk, account_id, created_at_ms, email FROM account_rows ORDER BY account_pk")
            .rows([], { ($0.int64(0), $0.string(1) ?? "", $0.optionalInt64(2), $0.string(3)) }) {
            f.accountKeys.append(row.0)
            f.accountIDs.append(row.1)
            f.createdAt.append(row.2)
            f.emails.append(row.3?.lowercased())
        }
        let n = f.count
        f.indexOfKey = Array(repeating: -1, count: Int(f.accountKeys.max() ?? 0) + 1)
        for (index, key) in f.accountKeys.enumerated() { f.indexOfKey[Int(key)] = Int32(index) }
        f.cards = Array(repeating: [], count: n)
        f.chargebackBINs = Array(repeating: [], count: n)
        f.ipKeys = Array(repeating: [], count: n)
        f.ipFirstSeen = Array(repeating: [], count: n)
        f.ipLastSeen = Array(repeating: [], count: n)
        f.userAgentKeys = Array(repeating: [], count: n)
        f.exchanges = Array(repeating: 0, count: n)
        f.inputTokens = Array(repeating: 0, count: n)
        f.outputTokens = Array(repeating: 0, count: n)
        f.capableModelExchanges = Array(repeating: 0, count: n)
        f.hostingExchanges = Array(repeating: 0, count: n)
        f.activeHours = Array(repeating: [], count: n)
        f.firstSeen = Array(repeating: .max, count: n)
        f.lastSeen = Array(repeating: .min, count: n)
        f.dayCounts = Array(repeating: [], count: n)
        f.hourOfDay = Array(repeating: 0, count: n * 24)
        f.chargebackInstruments = Array(repeating: 0, count: n)
        f.instruments = Array(repeating: 0, count: n)
        f.sampledPrompts = Array(repeating: 0, count: n)
        f.coercivePrompts = Array(repeating: 0, count: n)
        f.rubricPrompts = Array(repeating: 0, count: n)
        f.templatePhrases = Array(repeating: [], count: n)

        progress("reading payments")
        for (account, fingerprint, bin, chargebacks) in try database.prepare(
            "SELECT account_pk, fingerprint, bin, coalesce(chargebacks, 0) FROM payment_rows"
        ).rows([], { ($0.int64(0), $0.string(1) ?? "", $0.string(2), $0.int(3)) }) {
            guard let index = f.index(ofKey: account) else { continue }
            f.cards[index].append(fingerprint)
            f.instruments[index] += 1
            if chargebacks > 0 {
                f.chargebackInstruments[index] += 1
                if let bin { f.chargebackBINs[index].append(bin) }
            }
        }

        for (key, ip, kind) in try database.prepare("SELECT ip_pk, ip, kind FROM ip_rows")
            .rows([], { ($0.int64(0), $0.string(1) ?? "", $0.string(2)) }) {
            f.ipText[key] = ip
            if let kind { f.ipKind[key] = kind.lowercased() }
        }
        for (key, text) in try database.prepare("SELECT user_agent_pk, text FROM user_agents").rows([], { ($0.int64(0), $0.string(1) ?? "") }) {
            f.userAgentText[key] = text
        }
        for (account, ip) in try database.prepare("SELECT account_pk, signup_ip_pk FROM account_rows WHERE signup_ip_pk IS NOT NULL")
            .rows([], { ($0.int64(0), $0.int64(1)) }) {
            if let index = f.index(ofKey: account) { f.noteIP(ip, at: f.createdAt[index] ?? 0, account: index) }
        }
        let capableModels = Set(try database.prepare("SELECT model_pk, name FROM models").rows([], { ($0.int64(0), $0.string(1) ?? "") })
            .filter { model in parameters.capableModelMarkers.contains { model.1.lowercased().contains($0) } }.map(\.0))
        let hostingKinds: Set<String> = ["hosting", "proxy", "vpn", "tor"]
        // Lookup tables by key (keys are small dense integers) for the 29-million-row loop.
        var isHostingIP = Array(repeating: false, count: Int(f.ipKind.keys.max() ?? 0) + 1)
        for (ip, kind) in f.ipKind where hostingKinds.contains(kind) { isHostingIP[Int(ip)] = true }
        var isCapableModel = Array(repeating: false, count: Int(capableModels.max() ?? 0) + 1)
        for model in capableModels { isCapableModel[Int(model)] = true }
        // SQLite answers this from the covering index exchange_rows_by_account_ts (a twentieth
        // of the table's bytes, without the prompts), in that order without sorting; the ORDER BY
        // makes the order a guarantee rather than a property of the plan.
        let scan = try database.prepare("""
            SELECT account_pk, ts_ms, ip_pk, user_agent_pk, model_pk, input_tokens, output_tokens, exchange_pk FROM exchange_rows
            ORDER BY account_pk, ts_ms
            """)
        var sample: [(rowID: Int64, account: Int32)] = []
        var sampled = Array(repeating: 0, count: n)

        progress("reading exchanges")
        var rows = 0
        while try scan.step() {
            rows += 1
            if rows % 1_000_000 == 0 { progress("reading exchanges: \(rows / 1_000_000) million") }
            guard let index = f.index(ofKey: scan.int64(0)) else { continue }
            let ts = scan.int64(1)
            // The index yields each account's exchanges in time order: its first ones are the sample.
            if sampled[index] < parameters.templateSamplePrompts {
                sample.append((scan.int64(7), Int32(index)))
                sampled[index] += 1
            }
            f.exchanges[index] += 1
            // Hostile inputs hold counts up to 2^63-1: sums saturate, negatives count as none.
            f.inputTokens[index] = f.inputTokens[index].saturatingSum(max(0, scan.int(5)))
            f.outputTokens[index] = f.outputTokens[index].saturatingSum(max(0, scan.int(6)))
            let hour = UInt32(clamping: ts / 3_600_000)
            if f.activeHours[index].last != hour { f.activeHours[index].append(hour) }
            f.firstSeen[index] = min(f.firstSeen[index], ts)
            f.lastSeen[index] = max(f.lastSeen[index], ts)
            let day = Int32(clamping: ts >= 0 ? ts / 86_400_000 : (ts + 1) / 86_400_000 - 1)
            if f.dayCounts[index].last?.day == day {
                f.dayCounts[index][f.dayCounts[index].count - 1].count &+= 1
            } else {
                f.dayCounts[index].append((day, 1))
            }
            f.hourOfDay[index * 24 + Int(hour % 24)] += 1
            if !scan.isNull(2) {
                let ip = scan.int64(2)
                f.noteIP(ip, at: ts, account: index)
                if Int(ip) < isHostingIP.count && isHostingIP[Int(ip)] { f.hostingExchanges[index] += 1 }
            }
            if !scan.isNull(3) {
                let agent = scan.int64(3)
                if f.userAgentKeys[index].last != agent && !f.userAgentKeys[index].contains(agent) { f.userAgentKeys[index].append(agent) }
            }
            if !scan.isNull(4) {
                let model = Int(scan.int64(4))
                if model < isCapableModel.count && isCapableModel[model] { f.capableModelExchanges[index] += 1 }
            }
        }
        scan.reset()
        for index in 0..<n {
            f.activeHours[index].sort()
            f.activeHours[index] = f.activeHours[index].uniqued()
        }
        try f.samplePrompts(database, sample: sample, parameters: parameters, progress: progress)
        return f
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

    /// Each account's first prompts in time (`sample`: their row ids, found during the index
    /// scan), fetched in table order: on a cold cache that is one pass through the file
    /// instead of millions of random reads.
    mutating func samplePrompts(_ database: Database, sample: [(rowID: Int64, account: Int32)], parameters: LinkParameters,
                                progress: (String) -> Void) throws {
        progress("sampling prompts")
        let sampler = PromptSampler(parameters: parameters)
        var tallies = Array(repeating: [UInt32](), count: count)
        let ordered = sample.sorted { $0.rowID < $1.rowID }
        // Walk the table in row-id order from the first sampled row, picking the sampled ones,
        // and seek ahead over long stretches that hold none.
        let walk = try database.prepare("SELECT exchange_pk, prompt FROM exchange_rows WHERE exchange_pk >= ?1 ORDER BY exchange_pk")
        var position = 0
        while position < ordered.count {
            walk.bind(1, ordered[position].rowID)
            var seekAhead = false
            while try walk.step() {
                let rowID = walk.int64(0)
                while position < ordered.count && ordered[position].rowID < rowID { position += 1 }
                guard position < ordered.count else { break }
                guard ordered[position].rowID == rowID else { continue }
                let account = Int(ordered[position].account)
                if let prompt = walk.string(1) {
                    sampledPrompts[account] += 1
                    let traits = PromptSampler.traits(prompt)
                    if traits.coercive { coercivePrompts[account] += 1 }
                    if traits.rubric { rubricPrompts[account] += 1 }
                    tallies[account].append(contentsOf: PromptSampler.distinctPhrases(prompt))
                }
                position += 1
                if position % 500_000 == 0 { progress("sampling prompts: \(position / 1_000) thousand") }
                if position < ordered.count && ordered[position].rowID - rowID > 4_096 {
                    seekAhead = true
                    break
                }
            }
            walk.reset()
            if !seekAhead { break }
        }
        var phrases = Array(repeating: [UInt64](), count: count)
        for account in 0..<count {
            phrases[account] = sampler.recurringPhrases(tally: tallies[account], prompts: sampledPrompts[account])
            tallies[account] = []
        }
        templatePhrases = sampler.withoutCommonPhrases(phrases)
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
