/// One piece of evidence that two accounts share: the signal, the shared value, its weight.
public struct Evidence: Sendable, Equatable {
    public let signal: String
    public let value: String
    public let weight: Double
}

/// A link kept in a cluster's spanning forest.
struct Link {
    let a: Int32
    let b: Int32
    let evidence: [Evidence]
    var score: Double { evidence.reduce(0) { $0 + $1.weight } }
}

/// Turns account features into weighted links and clusters.
///
/// Every shared attribute (card, IP, user agent, email domain, chargeback BIN)
/// is weighted by what it is and by how many accounts share it, so that a hub
/// (a VPN exit, a carrier NAT, the official SDK) weighs nothing. Prompt
/// templates and synchronized activity are compared pairwise among candidates
/// found by MinHash buckets. A pair is linked when its summed weight reaches the
/// threshold; clusters are the connected components of the linked pairs
/// (union-find over account indexes), and the links that joined them are kept
/// with all their evidence.
struct Linker {
    let features: AccountFeatures
    let parameters: LinkParameters

    /// Attribute id → (signal, value, weight); per account, the sorted ids of its weighted attributes.
    private(set) var attributeSignal: [String] = []
    private(set) var attributeValue: [String] = []
    private(set) var attributeWeight: [Double] = []
    private var attributeMembers: [[Int32]] = []
    private var accountAttributes: [[Int32]] = []
    private var emailSequencePairs: Set<UInt64> = []

    init(features: AccountFeatures, parameters: LinkParameters) {
        self.features = features
        self.parameters = parameters
    }

    // MARK: - Attributes

    mutating func buildAttributes() {
        var idByKey: [String: Int32] = [:]
        var members: [[Int32]] = []
        var signals: [String] = []
        var values: [String] = []
        func add(_ signal: String, _ value: String, _ account: Int) {
            let key = signal + "\u{1F}" + value
            let id: Int32
            if let existing = idByKey[key] { id = existing } else {
                id = Int32(members.count)
                idByKey[key] = id
                members.append([])
                signals.append(signal)
                values.append(value)
            }
            if members[Int(id)].last != Int32(account) { members[Int(id)].append(Int32(account)) }
        }
        let freeMail = Set(parameters.freeMailDomains)
        for account in 0..<features.count {
            for card in Set(features.cards[account]) { add("card", card, account) }
            for bin in Set(features.chargebackBINs[account]) { add("chargeback_bin", bin, account) }
            for ip in features.ipKeys[account] { add("ip", String(ip), account) }
            for agent in features.userAgentKeys[account] { add("user_agent", String(agent), account) }
            if let email = features.emails[account], let at = email.lastIndex(of: "@") {
                let domain = String(email[email.index(after: at)...])
                if !freeMail.contains(domain) { add("email_domain", domain, account) }
            }
        }
        attributeMembers = members
        attributeSignal = signals
        attributeValue = values
        attributeWeight = (0..<members.count).map { weight(signal: signals[$0], value: values[$0], accounts: members[$0].count) }
        accountAttributes = Array(repeating: [], count: features.count)
        for (id, list) in members.enumerated() where attributeWeight[id] > 0 {
            for account in list { accountAttributes[Int(account)].append(Int32(id)) }
        }
        emailSequencePairs = Self.emailSequences(features.emails, freeMail: freeMail, maxGap: parameters.emailSequenceMaxGap,
                                                 minRun: parameters.emailSequenceMinRun)
    }

    private func weight(signal: String, value: String, accounts n: Int) -> Double {
        guard n >= 2 else { return 0 }
        switch signal {
        case "card": return n <= parameters.cardMaxAccounts ? parameters.cardWeight : 0
        case "chargeback_bin": return parameters.chargebackBINWeight
        case "ip":
            let kind = Int64(value).flatMap { features.ipKind[$0] }
            if let kind, parameters.crowdIPKinds.contains(kind) { return 0 }
            if kind == "residential" {
                return n <= parameters.residentialMaxAccounts ? parameters.residentialIPWeight : 0
            }
            return n <= parameters.ipMaxAccounts ? parameters.ipWeight : 0
        case "user_agent":
            let share = Double(n) / Double(max(features.count, 1))
            return n <= parameters.userAgentMaxAccounts && share <= parameters.userAgentMaxShare ? parameters.userAgentWeight : 0
        case "email_domain": return n <= parameters.emailDomainMaxAccounts ? parameters.emailDomainWeight : 0
        default: return 0
        }
    }

    /// Pairs of accounts in runs of generated addresses: one stem, nearly consecutive numbers, one
    /// domain that is not a free-mail provider (where such coincidences are common).
    static func emailSequences(_ emails: [String?], freeMail: Set<String>, maxGap: Int, minRun: Int) -> Set<UInt64> {
        var groups: [String: [(Int, Int)]] = [:]
        for (account, email) in emails.enumerated() {
            guard let email, let at = email.lastIndex(of: "@") else { continue }
            let domain = String(email[email.index(after: at)...])
            guard !freeMail.contains(domain) else { continue }
            let local = email[..<at]
            let digits = local.reversed().prefix { $0.isASCII && $0.isNumber }
            guard digits.count >= 2, digits.count < local.count, let number = Int(String(digits.reversed())) else { continue }
            groups[String(local.dropLast(digits.count)) + "@" + domain, default: []].append((number, account))
        }
        var pairs = Set<UInt64>()
        for (_, members) in groups where members.count >= minRun {
            let sorted = members.sorted { $0.0 < $1.0 }
            var runStart = 0
            for i in 1...sorted.count {
                if i < sorted.count && sorted[i].0 - sorted[i - 1].0 <= maxGap { continue }
                if i - runStart >= minRun {
                    for j in (runStart + 1)..<i { pairs.insert(pairKey(Int32(sorted[j - 1].1), Int32(sorted[j].1))) }
                }
                runStart = i
            }
        }
        return pairs
    }

    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        let (low, high) = a < b ? (a, b) : (b, a)
        return UInt64(UInt32(low)) << 32 | UInt64(UInt32(high))
    }

    // MARK: - Candidates and scores

    /// Every pair worth scoring: sharers of a small weighted attribute, email sequences,
    /// and accounts whose templates or active hours fall in the same MinHash bucket.
    func candidatePairs() -> Set<UInt64> {
        var pairs = emailSequencePairs
        for (id, members) in attributeMembers.enumerated() where attributeWeight[id] > 0 {
            if members.count <= parameters.ipMaxAccounts {
                for i in 0..<members.count { for j in (i + 1)..<members.count { pairs.insert(Self.pairKey(members[i], members[j])) } }
            } else {
                // Large shared attributes: a star and a chain keep every sharer reachable without n² pairs.
                for i in 1..<members.count {
                    pairs.insert(Self.pairKey(members[0], members[i]))
                    pairs.insert(Self.pairKey(members[i - 1], members[i]))
                }
            }
        }
        for bucket in MinHash.buckets(features.templatePhrases, minimumSize: parameters.templateMinPhrases) { addBucket(bucket, to: &pairs) }
        let hours = (0..<features.count).map { account -> [UInt64] in
            synchronyEligible(account) ? features.activeHours[account].map(UInt64.init) : []
        }
        for bucket in MinHash.buckets(hours, minimumSize: parameters.synchronyMinActiveHours) { addBucket(bucket, to: &pairs) }
        return pairs
    }

    private func addBucket(_ members: [Int32], to pairs: inout Set<UInt64>) {
        for i in 1..<members.count {
            pairs.insert(Self.pairKey(members[0], members[i]))
            pairs.insert(Self.pairKey(members[i - 1], members[i]))
        }
    }

    private func synchronyEligible(_ account: Int) -> Bool {
        let hours = features.activeHours[account]
        guard hours.count >= parameters.synchronyMinActiveHours, let first = hours.first, let last = hours.last else { return false }
        return Double(hours.count) / Double(last - first + 1) <= parameters.synchronyMaxActiveShare
    }

    /// Everything two accounts share, weighted.
    func evidence(_ a: Int32, _ b: Int32) -> [Evidence] {
        var found: [Evidence] = []
        let left = accountAttributes[Int(a)], right = accountAttributes[Int(b)]
        var i = 0, j = 0
        while i < left.count && j < right.count {
            if left[i] == right[j] {
                let id = Int(left[i])
                if attributeSignal[id] != "ip" || usedTogether(a, b, attribute: id) {
                    found.append(Evidence(signal: attributeSignal[id], value: displayValue(id), weight: attributeWeight[id]))
                }
                i += 1; j += 1
            } else if left[i] < right[j] { i += 1 } else { j += 1 }
        }
        if emailSequencePairs.contains(Self.pairKey(a, b)) {
            found.append(Evidence(signal: "email_sequence", value: "\(features.emails[Int(a)] ?? "") ~ \(features.emails[Int(b)] ?? "")",
                                  weight: parameters.emailSequenceWeight))
        }
        let template = MinHash.jaccard(features.templatePhrases[Int(a)], features.templatePhrases[Int(b)])
        if template >= parameters.similarTemplateMinJaccard {
            let weight = template >= parameters.templateMinJaccard ? parameters.templateWeight : parameters.similarTemplateWeight
            found.append(Evidence(signal: "prompt_template", value: String(format: "%.2f of recurring phrases shared", template),
                                  weight: weight))
        }
        if synchronyEligible(Int(a)) && synchronyEligible(Int(b)) {
            let together = MinHash.jaccard(features.activeHours[Int(a)].map(UInt64.init), features.activeHours[Int(b)].map(UInt64.init))
            if together >= parameters.synchronyMinJaccard {
                found.append(Evidence(signal: "synchronized_activity", value: String(format: "%.2f of active hours shared", together),
                                      weight: parameters.synchronyWeight))
            }
        }
        return found
    }

    private func usedTogether(_ a: Int32, _ b: Int32, attribute id: Int) -> Bool {
        guard let ip = Int64(attributeValue[id]) else { return false }
        return features.usedTogether(Int(a), Int(b), ip: ip, slack: Int64(parameters.ipOverlapDays) * 86_400_000)
    }

    private func displayValue(_ id: Int) -> String {
        let value = attributeValue[id]
        switch attributeSignal[id] {
        case "ip": return Int64(value).flatMap { features.ipText[$0] } ?? value
        case "user_agent": return Int64(value).flatMap { features.userAgentText[$0] } ?? value
        default: return value
        }
    }

    // MARK: - Clusters

    /// Links every candidate pair that passes the threshold; returns the component of each
    /// account and the links that joined components (a spanning forest).
    func cluster(_ candidates: Set<UInt64>) -> (components: [Int32], links: [Link]) {
        var forest = UnionFind(count: features.count)
        var links: [Link] = []
        for key in candidates.sorted() {
            let a = Int32(truncatingIfNeeded: key >> 32), b = Int32(truncatingIfNeeded: key & 0xFFFF_FFFF)
            guard forest.find(a) != forest.find(b) else { continue }
            let found = evidence(a, b)
            let score = found.reduce(0) { $0 + $1.weight }
            guard score >= parameters.threshold else { continue }
            forest.union(a, b)
            links.append(Link(a: a, b: b, evidence: found))
        }
        return ((0..<features.count).map { forest.find(Int32($0)) }, links)
    }
}

/// Disjoint sets over account indexes, with path halving and union by size.
struct UnionFind {
    private var parent: [Int32]
    private var size: [Int32]

    init(count: Int) {
        parent = (0..<count).map(Int32.init)
        size = Array(repeating: 1, count: count)
    }

    mutating func find(_ x: Int32) -> Int32 {
        var x = x
        while parent[Int(x)] != x {
            parent[Int(x)] = parent[Int(parent[Int(x)])]
            x = parent[Int(x)]
        }
        return x
    }

    mutating func union(_ a: Int32, _ b: Int32) {
        var (ra, rb) = (find(a), find(b))
        guard ra != rb else { return }
        if size[Int(ra)] < size[Int(rb)] { swap(&ra, &rb) }
        parent[Int(rb)] = ra
        size[Int(ra)] += size[Int(rb)]
    }
}
