import CasebookIO
import Foundation

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
/// Every shared attribute (card, IP, address block, user agent, email domain, chargeback
/// BIN) is weighed by what it is and, when more than a few accounts share it, by what its
/// crowd looks like (`CrowdJudge`): a hub shared by strangers (a VPN exit, a carrier NAT,
/// the official SDK, a public prompt template) weighs nothing, an operator's own pool weighs
/// the same whether it has 5 accounts or 20,000. Prompt templates and synchronized activity
/// are compared pairwise among candidates found by MinHash buckets; succession (an account
/// stops, another starts within hours on the same address or template) is its own signal.
/// A pair is linked when its summed weight reaches the threshold; clusters are the connected
/// components of the linked pairs (union-find over account indexes), and the links that
/// joined them are kept with all their evidence.
struct Linker {
    let features: AccountFeatures
    let parameters: LinkParameters
    let judge: CrowdJudge

    /// Attribute id → (signal, value, weight); per account, the sorted ids of its weighted attributes.
    private(set) var attributeSignal: [String] = []
    private(set) var attributeValue: [String] = []
    private(set) var attributeWeight: [Double] = []
    private var attributeMembers: [[Int32]] = []
    /// The crowd's verdict for attributes shared by more than a few accounts.
    private var attributeCrowd: [CrowdJudge.Crowd?] = []
    private var accountAttributes: [[Int32]] = []
    private var emailSequencePairs: Set<UInt64> = []
    /// The phrases of each template that are not generic (wording accounts of many kinds use).
    private var specificPhrases: [[UInt64]] = []
    /// Whether an account's template is mostly its own wording: at least half of its phrases
    /// (and `templateMinSpecificPhrases`) are specific.
    private var ownWording: [Bool] = []
    /// Accounts with near-identical templates, grouped (union-find roots), and each group's crowd.
    private var templateGroup: [Int32] = []
    private var templateGroupSize: [Int32: Int] = [:]
    private var templateGroupCrowd: [Int32: CrowdJudge.Crowd] = [:]
    /// Within a template group, the schedule each account keeps (see `assignSchedules`); -1 when
    /// its hours cannot tell.
    private var scheduleOf: [Int32] = []
    private var scheduleSize: [Int32: Int] = [:]
    /// The crowd of each schedule of more than a few accounts: one operator's accounts on a
    /// template several operators use.
    private var scheduleCrowd: [Int32: CrowdJudge.Crowd] = [:]
    private var templateBuckets: [[Int32]] = []
    /// The largest MinHash bucket each account's template fell in: how many templates look like it.
    private var templateReach: [Int] = []
    /// Succession pairs and what each succession was.
    private(set) var successions: [UInt64: String] = [:]
    /// In a case file of one kind of account (`CrowdJudge.uniformIdentity`), the values shared by
    /// more than a few accounts that weighed nothing.
    private(set) var uncontrasted: [UncontrastedValue] = []

    init(features: AccountFeatures, parameters: LinkParameters) {
        self.features = features
        self.parameters = parameters
        judge = CrowdJudge(features: features, parameters: parameters)
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
        let crowdKinds = Set(parameters.crowdIPKinds)
        for account in 0..<features.count {
            for card in Set(features.cards[account]) { add("card", card, account) }
            for bin in Set(features.chargebackBINs[account]) { add("chargeback_bin", bin, account) }
            var nets = Set<String>()
            for ip in features.ipKeys[account] {
                let kind = features.ipKind[ip]
                if let kind, crowdKinds.contains(kind) { continue }
                add("ip", String(ip), account)
                if parameters.isUsersOwnAddress(kind: kind), let text = features.ipText[ip], let net = IPBlock.block(of: text) {
                    nets.insert(net)
                }
            }
            for net in nets.sorted() { add("ip_net", net, account) }
            for agent in features.userAgentKeys[account] { add("user_agent", String(agent), account) }
            if let domain = features.emails[account].flatMap(EmailText.domain) {
                if !freeMail.contains(domain) { add("email_domain", domain, account) }
            }
        }
        attributeMembers = members
        attributeSignal = signals
        attributeValue = values
        attributeCrowd = Array(repeating: nil, count: members.count)
        attributeWeight = Array(repeating: 0, count: members.count)
        for id in members.indices where members[id].count >= 2 {
            if members[id].count <= parameters.smallCrowdAccounts {
                attributeWeight[id] = smallWeight(signals[id], values[id])
            } else if !isResidential(signals[id], values[id]) {
                // A residential address shared by a crowd is a proxy exit: a hub whoever rents it.
                let crowd = judge.judge(members[id], excluding: Self.impliedTrait[signals[id]])
                if signals[id] == "card" {
                    // One payment instrument on many accounts is one payer unless its accounts are as
                    // varied as strangers (a test card, a processor's placeholder fingerprint); a file
                    // with nothing to compare them with shows no such variety.
                    guard crowd.coherence >= parameters.coherentCrowd / 2 || judge.lacksContrast(crowd) else {
                        noteUncontrasted(id)
                        continue
                    }
                } else {
                    guard crowd.isOneOperator else {
                        noteUncontrasted(id)
                        continue
                    }
                    attributeCrowd[id] = crowd
                }
                attributeWeight[id] = crowdWeight(signals[id])
            }
        }
        accountAttributes = Array(repeating: [], count: features.count)
        for (id, list) in members.enumerated() where attributeWeight[id] > 0 {
            for account in list { accountAttributes[Int(account)].append(Int32(id)) }
        }
        emailSequencePairs = Self.emailSequences(features.emails, freeMail: freeMail, maxGap: parameters.emailSequenceMaxGap,
                                                 minRun: parameters.emailSequenceMinRun)
        buildTemplates()
        findSuccessions()
    }

    /// Records a crowd's value that weighed nothing when the case file is of one kind of account.
    private mutating func noteUncontrasted(_ id: Int) {
        guard judge.uniformIdentity.count >= 2 else { return }
        uncontrasted.append(UncontrastedValue(signal: attributeSignal[id], value: displayValue(id), accounts: attributeMembers[id].count))
    }

    /// The trait each signal's sharers agree on by construction.
    static let impliedTrait: [String: CrowdJudge.Trait] = ["user_agent": .client, "email_domain": .emailDomain, "card": .bin,
                                                           "chargeback_bin": .bin]

    private func isResidential(_ signal: String, _ value: String) -> Bool {
        signal == "ip" && Int64(value).flatMap { features.ipKind[$0] } == "residential"
    }

    /// The weight of a value a few accounts share.
    private func smallWeight(_ signal: String, _ value: String) -> Double {
        switch signal {
        case "card": return parameters.cardWeight
        case "chargeback_bin": return parameters.chargebackBINWeight
        case "ip": return isResidential(signal, value) ? parameters.residentialIPWeight : parameters.ipWeight
        case "user_agent": return parameters.userAgentWeight
        case "email_domain": return parameters.emailDomainWeight
        default: return 0  // an address block shared by a few accounts: neighbours on a cloud, not evidence
        }
    }

    /// The weight of a value a coherent crowd shares (between members that fit it).
    private func crowdWeight(_ signal: String) -> Double {
        switch signal {
        case "card": return parameters.cardWeight
        case "chargeback_bin": return parameters.chargebackBINWeight
        case "ip": return parameters.crowdIPWeight
        case "ip_net": return parameters.ipNetWeight
        case "user_agent": return parameters.userAgentWeight
        case "email_domain": return parameters.emailDomainWeight
        default: return 0
        }
    }

    /// Which templates are mostly their accounts' own wording; groups of near-identical templates.
    private mutating func buildTemplates() {
        var accountsOfPhrase: [UInt64: [Int32]] = [:]
        for (account, phrases) in features.templatePhrases.enumerated() {
            for phrase in phrases { accountsOfPhrase[phrase, default: []].append(Int32(account)) }
        }
        var generic = Set<UInt64>()
        for (phrase, accounts) in accountsOfPhrase where accounts.count > parameters.commonPhraseMinAccounts {
            if judge.kinds(accounts) > parameters.commonPhraseMaxKinds { generic.insert(phrase) }
        }
        specificPhrases = features.templatePhrases.map { phrases in
            let kept = generic.isEmpty ? phrases : phrases.filter { !generic.contains($0) }
            return kept.count >= parameters.templateMinSpecificPhrases ? kept : []
        }
        ownWording = zip(specificPhrases, features.templatePhrases).map { specific, all in
            !specific.isEmpty && specific.count * 2 >= all.count
        }
        let templatePhrases = features.templatePhrases
        templateBuckets = MinHash.buckets(templatePhrases, minimumSize: parameters.templateMinSpecificPhrases)
        templateReach = Array(repeating: 0, count: features.count)
        for bucket in templateBuckets { for account in bucket { templateReach[Int(account)] = max(templateReach[Int(account)], bucket.count) } }
        var groups = UnionFind(count: features.count)
        for bucket in templateBuckets {
            for i in 1..<bucket.count {
                for (a, b) in [(bucket[0], bucket[i]), (bucket[i - 1], bucket[i])]
                where MinHash.jaccard(templatePhrases[Int(a)], templatePhrases[Int(b)]) >= parameters.templateMinJaccard {
                    groups.union(a, b)
                }
            }
        }
        templateGroup = (0..<features.count).map { groups.find(Int32($0)) }
        var membersOfGroup: [Int32: [Int32]] = [:]
        for account in 0..<features.count where !features.templatePhrases[account].isEmpty {
            membersOfGroup[templateGroup[account], default: []].append(Int32(account))
        }
        scheduleOf = Array(repeating: -1, count: features.count)
        var schedules: Int32 = 0
        for (group, members) in membersOfGroup {
            templateGroupSize[group] = members.count
            if members.count > parameters.smallCrowdAccounts { templateGroupCrowd[group] = judge.judge(members) }
            if members.count > 1 { assignSchedules(members, numbering: &schedules) }
        }
    }

    /// Splits the accounts of one template group by the hours they work. Two operators on one
    /// bought or public template each keep their own bursts; one account pair rarely has the
    /// hours to tell (28 active hours each in 45 days share less than one by chance), but an
    /// account against the pooled hours of an operator's other accounts does. Accounts with the
    /// most hours go first: an account joins the schedule whose hours its own fall in far more
    /// often than chance (`scheduleFit`), the best one if several; an account that can be judged
    /// (`synchronyEligible`) and joins none starts a schedule of its own. One with too few hours
    /// joins only a schedule several accounts already keep, else stays unjudged (-1).
    /// Schedules of several accounts that fit each other are then joined.
    private mutating func assignSchedules(_ members: [Int32], numbering: inout Int32) {
        let ordered = members.sorted {
            let x = features.activeHours[Int($0)].count, y = features.activeHours[Int($1)].count
            return x != y ? x > y : $0 < $1
        }
        var schedules: [(id: Int32, hours: [UInt32], members: [Int32])] = []
        for account in ordered {
            let hours = features.activeHours[Int(account)]
            let judged = synchronyEligible(Int(account))
            var best: Int?
            var bestLift = 0.0
            for index in schedules.indices.prefix(parameters.scheduleMaxCandidates)
            where judged || schedules[index].members.count > 1 {
                if let lift = scheduleFit(hours, within: schedules[index].hours), lift > bestLift { best = index; bestLift = lift }
            }
            if let best {
                schedules[best].hours = Self.mergedHours(schedules[best].hours, hours)
                schedules[best].members.append(account)
                scheduleOf[Int(account)] = schedules[best].id
            } else if judged {
                schedules.append((numbering, hours, [account]))
                scheduleOf[Int(account)] = numbering
                numbering += 1
            }
        }
        // Two accounts of one operator with too few hours between them to tell may each have
        // started a schedule, and each gathered part of the operator: schedules kept by several
        // accounts whose pooled hours fit join the larger.
        schedules.sort { $0.members.count > $1.members.count }
        var kept: [(id: Int32, hours: [UInt32], members: [Int32])] = []
        for schedule in schedules {
            if schedule.members.count > 1,
               let target = kept.indices.prefix(parameters.scheduleMaxCandidates).first(where: {
                   kept[$0].members.count > 1 && scheduleFit(schedule.hours, within: kept[$0].hours) != nil
               }) {
                kept[target].hours = Self.mergedHours(kept[target].hours, schedule.hours)
                kept[target].members += schedule.members
                for account in schedule.members { scheduleOf[Int(account)] = kept[target].id }
            } else {
                kept.append(schedule)
            }
        }
        for schedule in kept {
            scheduleSize[schedule.id] = schedule.members.count
            if schedule.members.count > parameters.smallCrowdAccounts { scheduleCrowd[schedule.id] = judge.judge(schedule.members) }
        }
    }

    /// How many times more often an account's hours fall in a schedule's hours than chance (the
    /// schedule's share of the hours between the account's first and last), when that is at least
    /// `scheduleMinLift` and chance would give that many at most `scheduleMaxChance` (a Chernoff
    /// bound: accounts active at random hours rarely pass however many hours they have); else nil.
    func scheduleFit(_ hours: [UInt32], within schedule: [UInt32]) -> Double? {
        guard let first = hours.first, let last = hours.last else { return nil }
        let from = schedule.lowerBound(of: first), to = schedule.lowerBound(of: last + 1)
        let chance = Double(to - from) / (Double(last) - Double(first) + 1)
        // Hours in the schedule needed for the lift: most accounts compared fall short at once.
        let needed = parameters.scheduleMinLift * chance * Double(hours.count)
        guard chance > 0, needed <= Double(hours.count) else { return nil }
        var inside = 0, i = 0, j = from
        while i < hours.count && j < to {
            if hours[i] == schedule[j] { inside += 1; i += 1; j += 1 } else if hours[i] < schedule[j] { i += 1 } else { j += 1 }
        }
        let share = Double(inside) / Double(hours.count)
        guard share < 1 || chance < 1, share / chance >= parameters.scheduleMinLift,
              rareByChance(share: share, of: hours.count, chance: chance) else { return nil }
        return share / chance
    }

    /// Whether chance, at `chance` a try, would give `share` of `trials` tries at most
    /// `scheduleMaxChance` of the time: P(at least that many) <= exp(-trials * KL(share || chance))
    /// (a Chernoff bound). For `share` above `chance`.
    private func rareByChance(share: Double, of trials: Int, chance: Double) -> Bool {
        var divergence = share * log(share / chance)
        if share < 1 { divergence += (1 - share) * log((1 - share) / (1 - chance)) }
        return Double(trials) * divergence >= -log(parameters.scheduleMaxChance)
    }

    static func mergedHours(_ x: [UInt32], _ y: [UInt32]) -> [UInt32] {
        var merged: [UInt32] = []
        merged.reserveCapacity(x.count + y.count)
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if j == y.count || (i < x.count && x[i] < y[j]) { merged.append(x[i]); i += 1 }
            else if i == x.count || y[j] < x[i] { merged.append(y[j]); j += 1 }
            else { merged.append(x[i]); i += 1; j += 1 }
        }
        return merged
    }

    /// Why two accounts' near-identical template is, or is not, counted as one operator's: the
    /// evidence says which, so an investigator reading a weak template link knows what weakened it.
    private enum TemplateVerdict {
        case theirs
        /// Other accounts use it too, as strangers pasting a public template do.
        case widelyUsed
        /// The two keep schedules of their own: two operators on one template.
        case twoSchedules
        /// One works in bursts, the other around the clock: two operators' tooling.
        case burstsAgainstTheClock

        var evidenceNote: String? {
            switch self {
            case .theirs: nil
            case .widelyUsed: "a template strangers use too"
            case .twoSchedules: "a template used on two schedules that do not coincide"
            case .burstsAgainstTheClock: "a template sent in bursts by one, around the clock by the other"
            }
        }
    }

    /// Whether two accounts' near-identical template is one operator's, and if not, why not.
    private func templateVerdict(_ a: Int, _ b: Int) -> TemplateVerdict {
        if burstsAgainstTheClock(a, b) { return .burstsAgainstTheClock }
        let group = templateGroup[a], sameGroup = group == templateGroup[b]
        // A pair alone decides about schedules when the group could not (see `keepSchedulesApart`).
        let x = scheduleOf[a]
        let sameSchedule = sameGroup && x >= 0 && x == scheduleOf[b]
        if keepSchedulesApart(a, b) || (!sameSchedule && keepDifferentSchedules(a, b)) { return .twoSchedules }
        return contextMakesTemplateTheirs(a, b, group: group, sameGroup: sameGroup, sameSchedule: sameSchedule) ? .theirs : .widelyUsed
    }

    /// For two accounts whose schedules do not tell them apart: whether what surrounds their
    /// template (its users, its wording, their country, client and hours) makes it one operator's.
    private func contextMakesTemplateTheirs(_ a: Int, _ b: Int, group: Int32, sameGroup: Bool, sameSchedule: Bool) -> Bool {
        let x = scheduleOf[a]
        if sameGroup {
            // A few accounts on one template: theirs if no other template looks like it, every
            // prompt they send is from it (a person pasting a public template also writes prompts
            // of their own), most of its phrases are not wording others use, and they share a
            // country and a client (one operator's tooling).
            if (templateGroupSize[group] ?? 0) <= parameters.smallCrowdAccounts,
               max(templateReach[a], templateReach[b]) <= 2 * parameters.smallCrowdAccounts,
               judge.sameCountryOrUnknown(a, b), judge.sameClientOrUnknown(a, b),
               ownWording[a], ownWording[b],
               features.untemplatedShare(a) <= parameters.templateMaxUntemplatedShare,
               features.untemplatedShare(b) <= parameters.templateMaxUntemplatedShare { return true }
            // A crowd alike in client and hours can be people pasting one public template at
            // work; an operator sends its template in nearly every request, they write much of
            // what they send themselves.
            let sendsMostlyTemplate = max(features.untemplatedShare(a), features.untemplatedShare(b))
                <= parameters.templateCrowdMaxUntemplatedShare
            if let crowd = templateGroupCrowd[group] {
                if sendsMostlyTemplate && crowd.isOneOperator && judge.pairFits(a, b, crowd) { return true }
                // Strangers pasting one public template: however alike two of them happen to be
                // (one country, one popular client), the template is not theirs.
                if crowd.coherence < parameters.coherentCrowd / 2 { return false }
            }
            // Several operators on one template: each one's accounts keep their own schedule.
            if sendsMostlyTemplate, sameSchedule, let crowd = scheduleCrowd[x], crowd.isOneOperator, judge.pairFits(a, b, crowd) {
                return true
            }
        }
        // Agreement that chance gives some pair among the many users of a widely used template
        // (two strangers of one country on one popular client) is no evidence: the bits needed
        // grow with the number of pairs among the accounts whose templates look like theirs.
        let lookalikes = Double(max(templateReach[a], templateReach[b], 2))
        return judge.contextBits(a, b) >= parameters.templateContextBits + log2(lookalikes * (lookalikes - 1) / 2)
    }

    /// An account that stops and one that starts within hours after it, on the same address or
    /// block, or with the same operator's template: one operator replacing a banned account.
    private mutating func findSuccessions() {
        let gap = Int64(parameters.successionMaxGapHours) * 3_600_000
        // Only an account that was in use for a while and then stopped before the data ends can be
        // succeeded (an account seen once has not "stopped").
        let dataEnd = features.lastSeen.filter { $0 != .min }.max() ?? 0
        let minimumLife = Int64(parameters.successionMinActiveHours) * 3_600_000
        func scan(_ members: [Int32], on place: String, crowd: CrowdJudge.Crowd?) {
            let active = members.map(Int.init).filter { account in features.isSeenInTime(account) && (crowd.map { judge.fits(account, $0) } ?? true) }
            guard active.count >= 2 else { return }
            let byEnd = active.sorted { features.lastSeen[$0] < features.lastSeen[$1] }
            let ends = byEnd.map { features.lastSeen[$0] }
            for b in active {
                let start = features.firstSeen[b]
                // The latest account to stop at or before b's first exchange.
                var low = 0, high = ends.count
                while low < high {
                    let middle = (low + high) / 2
                    if ends[middle] <= start { low = middle + 1 } else { high = middle }
                }
                guard low > 0 else { continue }
                let a = byEnd[low - 1]
                guard a != b, start - ends[low - 1] <= gap, ends[low - 1] - features.firstSeen[a] >= minimumLife,
                      dataEnd - ends[low - 1] >= minimumLife, crowd.map({ judge.pairFits(a, b, $0) }) ?? true else { continue }
                let key = Self.pairKey(Int32(a), Int32(b))
                if successions[key] == nil {
                    let minutes = (start - ends[low - 1]) / 60_000
                    successions[key] = "\(features.accountIDs[b]) began \(minutes / 60) h \(minutes % 60) min after \(features.accountIDs[a]) stopped, on \(place)"
                }
            }
        }
        for id in attributeMembers.indices where attributeWeight[id] > 0 {
            switch attributeSignal[id] {
            case "ip", "ip_net": scan(attributeMembers[id], on: displayValue(id), crowd: attributeCrowd[id])
            default: continue
            }
        }
        var membersOfGroup: [Int32: [Int32]] = [:]
        for account in 0..<features.count where !features.templatePhrases[account].isEmpty {
            membersOfGroup[templateGroup[account], default: []].append(Int32(account))
        }
        for (group, members) in membersOfGroup where members.count >= 2 {
            let crowd = templateGroupCrowd[group]
            if let crowd, !crowd.isOneOperator { continue }
            scan(members, on: "the same prompt template", crowd: crowd)
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

    /// Every pair worth scoring: sharers of a weighted attribute (for a crowd, those that fit it),
    /// email sequences, successions, and accounts whose templates or active hours fall in the same
    /// MinHash bucket.
    func candidatePairs() -> Set<UInt64> {
        var pairs = emailSequencePairs
        pairs.formUnion(successions.keys)
        for (id, members) in attributeMembers.enumerated() where attributeWeight[id] > 0 {
            if let crowd = attributeCrowd[id] {
                // A crowd: a star and a chain keep every fitting sharer reachable without n² pairs.
                let fitting = members.filter { judge.fits(Int($0), crowd) }
                if fitting.count >= 2 { addBucket(fitting, to: &pairs) }
            } else if members.count > parameters.smallCrowdAccounts {
                // A card on many accounts: the same star and chain, never n² pairs.
                addBucket(members, to: &pairs)
            } else {
                for i in 0..<members.count { for j in (i + 1)..<members.count { pairs.insert(Self.pairKey(members[i], members[j])) } }
            }
        }
        for bucket in templateBuckets { addBucket(bucket, to: &pairs) }
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

    /// Two accounts active in the same hours: most of their hours shared (Jaccard), or far more
    /// shared hours than two independent schedules over the same span would give (accounts that
    /// each take part in some of one operator's bursts share few hours but many times chance).
    private func synchrony(_ a: Int, _ b: Int, byLift: Bool) -> String? {
        let (shared, expected) = coactivity(a, b)
        let x = features.activeHours[a], y = features.activeHours[b]
        let jaccard = Double(shared) / Double(x.count + y.count - shared)
        if jaccard >= parameters.synchronyMinJaccard { return String(format: "%.2f of active hours shared", jaccard) }
        guard byLift else { return nil }
        let lift = Double(shared) / expected
        guard shared >= parameters.synchronyMinSharedHours, lift >= parameters.synchronyMinLift else { return nil }
        return String(format: "%d active hours shared, %.1f times what independent schedules would share", shared, lift)
    }

    /// Hours both accounts were active, and how many two independent schedules of their sizes
    /// over the same span would share.
    private func coactivity(_ a: Int, _ b: Int) -> (shared: Int, expected: Double) {
        let x = features.activeHours[a], y = features.activeHours[b]
        guard let xFirst = x.first, let yFirst = y.first else { return (0, 0) }
        var i = 0, j = 0, shared = 0
        while i < x.count && j < y.count {
            if x[i] == y[j] { shared += 1; i += 1; j += 1 } else if x[i] < y[j] { i += 1 } else { j += 1 }
        }
        let span = Double(max(x.last!, y.last!) - min(xFirst, yFirst) + 1)
        return (shared, Double(x.count) * Double(y.count) / span)
    }

    /// Two accounts on one template that the schedules judged over its whole group put apart:
    /// different schedules, at least one of them kept by several accounts (accounts active at
    /// random hours each stay alone, and are not kept apart by it).
    private func keepSchedulesApart(_ a: Int, _ b: Int) -> Bool {
        let x = scheduleOf[a], y = scheduleOf[b]
        return templateGroup[a] == templateGroup[b] && x >= 0 && y >= 0 && x != y
            && max(scheduleSize[x] ?? 0, scheduleSize[y] ?? 0) > 1
    }

    /// Two accounts that each work in bursts, with enough hours to tell, whose bursts do not
    /// coincide: whatever template they share, they keep two schedules (two operators).
    private func keepDifferentSchedules(_ a: Int, _ b: Int) -> Bool {
        guard synchronyEligible(a), synchronyEligible(b) else { return false }
        let (shared, expected) = coactivity(a, b)
        return expected >= 1 && Double(shared) < 2 * expected
    }

    /// One account that works in bursts and one that works around the clock: two ways of running
    /// accounts, so two operators' tooling, however alike their templates (an operator that gives
    /// each account a template of its own writes, now and then, one like another operator's).
    private func burstsAgainstTheClock(_ a: Int, _ b: Int) -> Bool {
        (synchronyEligible(a) && worksAroundTheClock(b)) || (synchronyEligible(b) && worksAroundTheClock(a))
    }

    /// Active in most hours of its span, with no hour of the day favoured: a machine that never stops.
    private func worksAroundTheClock(_ account: Int) -> Bool {
        let hours = features.activeHours[account]
        guard hours.count >= parameters.synchronyMinActiveHours, let first = hours.first, let last = hours.last else { return false }
        return Double(hours.count) / Double(last - first + 1) > parameters.synchronyMaxActiveShare && judge.aroundTheClock(account)
    }

    /// Two accounts on one template in one schedule that more than a few accounts keep: the only
    /// pairs whose hours are compared across countries (when their days coincide, `daysCoincide`).
    private func keepOneSchedule(_ a: Int, _ b: Int, template: Double) -> Bool {
        let x = scheduleOf[a]
        return template >= parameters.templateMinJaccard && x >= 0 && x == scheduleOf[b] && templateGroup[a] == templateGroup[b]
            && (scheduleSize[x] ?? 0) > parameters.smallCrowdAccounts
    }

    /// Whether two accounts share an hour on far more of their days than their hours of the day
    /// explain. Strangers of neighbouring countries, or of one office, keep one working day; an
    /// operator's bursts move from day to day, and its accounts' hours with them.
    /// - Returns: what the pair's days show, for the evidence; nil when they do not coincide.
    private func daysCoincide(_ a: Int, _ b: Int) -> String? {
        let (days, matching, chance) = Self.dayCoincidence(features.activeHours[a], features.activeHours[b])
        guard days > 0, chance > 0 else { return nil }
        let share = Double(matching) / Double(days)
        guard share >= parameters.synchronyMinDayLift * chance, rareByChance(share: share, of: days, chance: chance) else { return nil }
        return String(format: "an hour shared on %d of %d days, %.1f times what their hours of the day give", matching, days, share / chance)
    }

    /// On the days both accounts were active (the latest 256 of them): how many days they were,
    /// on how many the two shared an hour, and the chance that a day of one shares an hour with
    /// a day of the other taken at random among those days.
    static func dayCoincidence(_ x: [UInt32], _ y: [UInt32]) -> (days: Int, matching: Int, chance: Double) {
        /// Each day's active hours as a mask, days ascending (the hours are sorted).
        func days(_ hours: [UInt32]) -> [(day: UInt32, mask: UInt32)] {
            var result: [(day: UInt32, mask: UInt32)] = []
            for hour in hours {
                let day = hour / 24, bit = UInt32(1) << (hour % 24)
                if result.last?.day == day { result[result.count - 1].mask |= bit } else { result.append((day, bit)) }
            }
            return result
        }
        let dx = days(x), dy = days(y)
        var masksX: [UInt32] = [], masksY: [UInt32] = []
        var i = dx.count - 1, j = dy.count - 1
        while i >= 0 && j >= 0 && masksX.count < 256 {
            if dx[i].day == dy[j].day { masksX.append(dx[i].mask); masksY.append(dy[j].mask); i -= 1; j -= 1 }
            else if dx[i].day > dy[j].day { i -= 1 } else { j -= 1 }
        }
        guard !masksX.isEmpty else { return (0, 0, 0) }
        let matching = zip(masksX, masksY).filter { $0 & $1 != 0 }.count
        var countsX: [UInt32: Int] = [:], countsY: [UInt32: Int] = [:]
        for mask in masksX { countsX[mask, default: 0] += 1 }
        for mask in masksY { countsY[mask, default: 0] += 1 }
        var coinciding = 0
        for (maskX, n) in countsX { for (maskY, m) in countsY where maskX & maskY != 0 { coinciding += n * m } }
        return (masksX.count, matching, Double(coinciding) / Double(masksX.count * masksX.count))
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
                // A crowd's value counts between sharers that fit it; an address a few accounts share
                // counts between accounts of one country (a home, an office), not from two countries
                // (one exit of a proxy pool or VPN rented by both).
                let fitting = attributeCrowd[id].map { judge.pairFits(Int(a), Int(b), $0) }
                    ?? (attributeSignal[id] != "ip" || judge.sameCountryOrUnknown(Int(a), Int(b)))
                if fitting && usedTogether(a, b, attribute: id) {
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
        var templateNotTheirs = false
        // Half alike may be only the vocabulary many operators share: a merely similar template
        // counts when the wording that is not generic is alike as well.
        if template >= parameters.templateMinJaccard
            || (template >= parameters.similarTemplateMinJaccard
                && MinHash.jaccard(specificPhrases[Int(a)], specificPhrases[Int(b)]) >= parameters.similarTemplateMinJaccard) {
            let weight: Double
            var value = String(format: "%.2f of recurring phrases shared", template)
            if template < parameters.templateMinJaccard {
                weight = parameters.similarTemplateWeight
            } else if let note = templateVerdict(Int(a), Int(b)).evidenceNote {
                weight = parameters.publicTemplateWeight
                value += " (\(note))"
                templateNotTheirs = true
            } else {
                weight = parameters.templateWeight
            }
            found.append(Evidence(signal: "prompt_template", value: value, weight: weight))
        }
        // Schedules are compared between accounts of one country: two operators' bursts overlap by
        // chance. Across countries, only accounts that keep one schedule of many on one template
        // (an operator spreading its accounts over countries), and only when their days coincide.
        // Two accounts whose template group keeps them apart share hours only by chance. Among the
        // many users of a public template, some pair of one country shares a few daytime hours at
        // several times the chance of evenly spread hours, and people of one office keep one
        // working day: for them, only most hours shared counts, on days that coincide.
        if synchronyEligible(Int(a)) && synchronyEligible(Int(b)), !keepSchedulesApart(Int(a), Int(b)) {
            let sameCountry = judge.sameCountryOrUnknown(Int(a), Int(b))
            if sameCountry || keepOneSchedule(Int(a), Int(b), template: template),
               let together = synchrony(Int(a), Int(b), byLift: !templateNotTheirs) {
                let needsDays = !sameCountry || templateNotTheirs
                let days = needsDays ? daysCoincide(Int(a), Int(b)) : nil
                if !needsDays || days != nil {
                    let value = [together, sameCountry ? nil : "from two countries", days].compactMap { $0 }.joined(separator: "; ")
                    found.append(Evidence(signal: "synchronized_activity", value: value, weight: parameters.synchronyWeight))
                }
            }
        }
        if let succession = successions[Self.pairKey(a, b)] {
            found.append(Evidence(signal: "succession", value: succession, weight: parameters.successionWeight))
        }
        return found
    }

    /// For an address or block: whether the two accounts used it within the overlap window
    /// (an address handed to another household weeks later is not shared use). Other signals: true.
    private func usedTogether(_ a: Int32, _ b: Int32, attribute id: Int) -> Bool {
        let slack = Int64(parameters.ipOverlapDays) * 86_400_000
        switch attributeSignal[id] {
        case "ip":
            guard let ip = Int64(attributeValue[id]) else { return false }
            return features.usedTogether(Int(a), Int(b), ip: ip, slack: slack)
        case "ip_net":
            guard let x = blockUse(Int(a), attributeValue[id]), let y = blockUse(Int(b), attributeValue[id]) else { return false }
            return x.first <= y.last + slack && y.first <= x.last + slack
        default:
            return true
        }
    }

    /// When an account first and last used any address in `block`.
    private func blockUse(_ account: Int, _ block: String) -> (first: Int64, last: Int64)? {
        var first = Int64.max, last = Int64.min
        for (position, ip) in features.ipKeys[account].enumerated() {
            guard let text = features.ipText[ip], IPBlock.block(of: text) == block else { continue }
            first = min(first, features.ipFirstSeen[account][position])
            last = max(last, features.ipLastSeen[account][position])
        }
        return first <= last ? (first, last) : nil
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

extension Array where Element: Comparable {
    /// The index of the first element not below `value`, in an ascending array.
    func lowerBound(of value: Element) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
