import CasebookIO
import Foundation

/// Tells an operator's accounts from a crowd of strangers by what the accounts sharing a
/// value look like, not by how many they are: a shared address, client, card or template
/// is evidence when its sharers otherwise agree (country, client, sign-up week, daily
/// rhythm, card BIN, email domain) and a hub when they are as varied as the case file
/// itself. Agreement is measured against the case file's own mix of each trait, so an
/// operator that is 85% of the file reads the same as one that is 1%.
struct CrowdJudge {
    /// The traits compared, one value id per account (-1 when unknown).
    enum Trait: Int, CaseIterable {
        case country, client, signupWeek, rhythm, bin, emailDomain

        /// As a reader names it.
        var name: String {
            switch self {
            case .country: return "country"
            case .client: return "client"
            case .signupWeek: return "sign-up week"
            case .rhythm: return "rhythm"
            case .bin: return "card BIN"
            case .emailDomain: return "email domain"
            }
        }
    }

    /// What the sharers of one value look like.
    struct Crowd {
        /// Mean lift over the three most agreed traits, 0 (strangers) to 1 (one operator).
        let coherence: Double
        /// For each trait the crowd agrees on (lift at least `crowdAgreedLift`), the value most of it has.
        let agreed: [(trait: Trait, value: Int32)]
        /// One operator's: coherent, and agreed on at least two traits. Two operators sharing a
        /// provider's block agree on neither's country or client, only on what both have.
        let isOneOperator: Bool
        /// Identity traits (country, client, BIN, email domain) of which at most five values make up
        /// four fifths of the crowd: each operator in it holds one, so two sharers of different
        /// operators differ on one (a trait an operator randomises has many values).
        let notableIdentity: [Trait]
        /// The notable identity traits that take two or more values in the crowd: it may hold more
        /// than one operator, told apart by them, so an account lacking one cannot be placed.
        let mixedIdentity: Set<Trait>
        /// Organisations (`findOrganisations`, counted by meeting group) among the sampled sharers:
        /// two or more make the crowd the staff of several firms, among whom an account without a
        /// domain of its own cannot be placed.
        let organisations: Int
        /// Traits whose agreement could be measured.
        let judgedTraits: Int
        /// Traits known for most of the crowd whose agreement could not be measured, because the
        /// file and the accounts outside the crowd hold one value of them.
        let uniformTraits: Int
    }

    static let identityTraits: Set<Trait> = [.country, .client, .bin, .emailDomain]

    private(set) var traits: [[Int32]] = []
    /// How often two accounts picked at random from the whole file share each trait.
    private(set) var baseline: [Double] = []
    /// Accounts with each value of each trait, and with any value: a crowd is measured against the
    /// accounts outside it (`chanceAgreement`), a pair's agreement by its value's share (`contextBits`).
    private var valueCount: [[Int32: Int]] = []
    private var knownCount: [Int] = []
    /// For each email domain that looks like an organisation's (`findOrganisations`), the first
    /// of the domains it meets: domains whose accounts used one address, directly or through a
    /// chain of domains each held by `organisationMinAccounts` accounts (one office building, or
    /// one operator's pool that its accounts on several domains take turns on).
    private var meetingGroup: [Int32: Int32] = [:]
    private let sampleSize: Int
    private let agreedLift: Double
    private let coherent: Double

    init(features f: AccountFeatures, parameters: LinkParameters) {
        sampleSize = parameters.crowdSampleAccounts
        agreedLift = parameters.crowdAgreedLift
        coherent = parameters.coherentCrowd
        var ids: [[String: Int32]] = Array(repeating: [:], count: Trait.allCases.count)
        func id(_ trait: Trait, _ value: String?) -> Int32 {
            guard let value, !value.isEmpty else { return -1 }
            if let existing = ids[trait.rawValue][value] { return existing }
            let new = Int32(ids[trait.rawValue].count)
            ids[trait.rawValue][value] = new
            return new
        }
        let freeMail = Set(parameters.freeMailDomains)
        traits = Array(repeating: Array(repeating: -1, count: f.count), count: Trait.allCases.count)
        for a in 0..<f.count {
            traits[Trait.country.rawValue][a] = id(.country, f.countries[a])
            traits[Trait.client.rawValue][a] = f.userAgentKeys[a].first.map { Int32(truncatingIfNeeded: $0) } ?? -1
            traits[Trait.signupWeek.rawValue][a] = f.createdAt[a].map { Int32(clamping: $0 / (7 * 86_400_000)) } ?? -1
            traits[Trait.rhythm.rawValue][a] = Self.rhythm(f, a)
            traits[Trait.bin.rawValue][a] = id(.bin, f.bins[a].first)
            if let domain = f.emails[a].flatMap(EmailText.domain) {
                traits[Trait.emailDomain.rawValue][a] = freeMail.contains(domain) ? -1 : id(.emailDomain, domain)
            }
        }
        findOrganisations(f, parameters: parameters)
        for column in traits {
            var counts: [Int32: Int] = [:]
            var known = 0
            for value in column where value >= 0 { counts[value, default: 0] += 1; known += 1 }
            valueCount.append(counts)
            knownCount.append(known)
            baseline.append(counts.mapValues { Double($0) / Double(max(known, 1)) }.values.reduce(0) { $0 + $1 * $1 })
        }
        uniformIdentity = Trait.allCases.filter {
            Self.identityTraits.contains($0) && knownCount[$0.rawValue] * 2 >= f.count && baseline[$0.rawValue] >= 0.98
        }
    }

    /// How often two accounts share a trait by chance, for a crowd whose sample holds `counts`
    /// of its values and stands for `scale` times as many accounts: the file's
    /// baseline, or the agreement among the accounts outside the crowd when that is lower. A
    /// crowd that is most of the file makes the file's mix its own (an operator holding 99% of
    /// the accounts agrees with the file on everything); the accounts outside it still show what
    /// strangers look like. One outside account, or none, shows nothing, and the file's mix stays.
    private func chanceAgreement(_ trait: Trait, counts: [Int32: Int], scale: Double) -> Double {
        let fileCounts = valueCount[trait.rawValue]
        let fileKnown = Double(knownCount[trait.rawValue])
        let file = baseline[trait.rawValue]
        // Outside counts differ from the file's only in the values the sample holds.
        var outside = fileKnown, squares = file * fileKnown * fileKnown
        for (value, count) in counts {
            let inFile = Double(fileCounts[value] ?? 0)
            let out = max(0, inFile - Double(count) * scale)
            outside += out - inFile
            squares += out * out - inFile * inFile
        }
        guard outside >= 2 else { return file }
        return min(file, max(0, squares) / (outside * outside))
    }

    /// The hours of the day an account is active, coarsely: the three-hour block around its
    /// busiest hour, or `aroundTheClockRhythm` when its activity is nearly flat.
    static func rhythm(_ f: AccountFeatures, _ a: Int) -> Int32 {
        let counts = (0..<24).map { Double(f.hourOfDay[a * 24 + $0]) }
        let total = counts.reduce(0, +)
        guard total >= 12 else { return -1 }
        let entropy = -counts.filter { $0 > 0 }.map { $0 / total * log2($0 / total) }.reduce(0, +) / log2(24)
        if entropy > 0.95 { return aroundTheClockRhythm }
        var best = 0, bestCount = -1.0
        for hour in 0..<24 {
            let window = counts[(hour + 23) % 24] + counts[hour] + counts[(hour + 1) % 24]
            if window > bestCount { best = hour; bestCount = window }
        }
        return Int32(best / 3)
    }

    /// Judges the sharers of one value from an even sample of them, leaving out the trait the
    /// value itself implies (sharers of a client agree on the client). Fewer than two traits to
    /// go by is too little to call a crowd one operator's.
    func judge(_ members: [Int32], excluding implied: Trait? = nil) -> Crowd {
        let step = max(1, members.count / sampleSize)
        let sample = stride(from: 0, to: members.count, by: step).prefix(sampleSize).map { Int(members[$0]) }
        let scale = Double(members.count) / Double(max(sample.count, 1))
        var lifts: [(Trait, Double, Int32)] = []
        var uniform = 0
        var structured: [Trait] = []
        var mixed: Set<Trait> = []
        for trait in Trait.allCases where trait != implied {
            var counts: [Int32: Int] = [:]
            var known = 0
            for a in sample where traits[trait.rawValue][a] >= 0 {
                counts[traits[trait.rawValue][a], default: 0] += 1
                known += 1
            }
            // A trait most of the crowd lacks says nothing about it.
            guard known >= 2, known * 2 >= sample.count else { continue }
            let agreement = counts.values.reduce(0.0) { $0 + Double($1 * $1) } / Double(known * known)
            let base = chanceAgreement(trait, counts: counts, scale: scale)
            guard base < 0.98 else { uniform += 1; continue }
            let lift = max(0, min(1, (agreement - base) / (1 - base)))
            let modal = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
            lifts.append((trait, lift, modal))
            // Few values make up most of the crowd: constant within each operator it holds.
            var covered = 0, values = 0
            for count in counts.values.sorted(by: >) where covered * 5 < known * 4 {
                covered += count
                values += 1
            }
            if values <= 5 {
                structured.append(trait)
                if values >= 2 && Self.identityTraits.contains(trait) { mixed.insert(trait) }
            }
        }
        let organisations = Set(sample.compactMap { a -> Int32? in
            let domain = traits[Trait.emailDomain.rawValue][a]
            return domain >= 0 ? meetingGroup[domain] : nil
        }).count
        let top = lifts.map(\.1).sorted(by: >).prefix(3)
        let coherence = top.count < 2 ? 0 : top.reduce(0, +) / Double(top.count)
        let agreed = lifts.filter { $0.1 >= agreedLift }.map { (trait: $0.0, value: $0.2) }
        return Crowd(coherence: coherence, agreed: agreed, isOneOperator: coherence >= coherent && agreed.count >= 2,
                     notableIdentity: structured.filter(Self.identityTraits.contains), mixedIdentity: mixed, organisations: organisations,
                     judgedTraits: lifts.count,
                     uniformTraits: uniform)
    }

    /// Whether a crowd could not be judged for want of other accounts: too few of its traits
    /// could be, because the case file holds one value of the others.
    func lacksContrast(_ crowd: Crowd) -> Bool {
        crowd.judgedTraits < 2 && crowd.judgedTraits + crowd.uniformTraits >= 2
    }

    /// The identity traits (country, client, BIN, email domain) of which the case file holds one
    /// value (0.98 of the accounts that have one agree, and at least half have one). Two or more
    /// make the file look like one operator's accounts alone, as a detection rule's suspects
    /// would be: its crowds are judged only by what that operator varies, and `casebook link`
    /// says so.
    private(set) var uniformIdentity: [Trait] = []

    /// How many kinds of account (country and client together) it takes to make up four fifths
    /// of the crowd: one for an operator, one per operator for a few sharing a bought template,
    /// many for wording strangers share.
    func kinds(_ members: [Int32]) -> Int {
        let step = max(1, members.count / sampleSize)
        var counts: [Int64: Int] = [:]
        var sampled = 0
        for index in stride(from: 0, to: members.count, by: step).prefix(sampleSize) {
            let a = Int(members[index])
            counts[Int64(traits[Trait.country.rawValue][a]) << 32 | Int64(UInt32(bitPattern: traits[Trait.client.rawValue][a])), default: 0] += 1
            sampled += 1
        }
        var covered = 0, kinds = 0
        for count in counts.values.sorted(by: >) where covered * 5 < sampled * 4 {
            covered += count
            kinds += 1
        }
        return kinds
    }

    /// Whether an account looks like the crowd it shares a value with: it has the crowd's
    /// value for at least two thirds of the traits the crowd agrees on that it has a value of.
    /// A trait the export did not give (a country left blank, a BIN written as a placeholder)
    /// neither fits nor contradicts; an account lacking most of them must match on all it has,
    /// and only a crowd of one identity, where it cannot be the bridge between two operators.
    func fits(_ a: Int, _ crowd: Crowd) -> Bool {
        let known = crowd.agreed.filter { traits[$0.trait.rawValue][a] >= 0 }
        guard !known.isEmpty else { return false }
        let matching = known.count { traits[$0.trait.rawValue][a] == $0.value }
        if known.count * 2 >= crowd.agreed.count { return matching * 3 >= known.count * 2 }
        return crowd.mixedIdentity.isEmpty && matching == known.count
    }

    /// Whether two sharers of a value are of one operator as far as the crowd can tell: both
    /// fit it, they are not of two organisations, they have the same value of every notable
    /// identity trait (a crowd can be two operators on one provider's block, each coherent on
    /// its own), and they differ on at most one of the traits the crowd agrees on (an
    /// operator's sign-up waves spread over weeks). A trait one of them lacks is no difference
    /// (exports leave values out for some accounts of any operator), except a notable trait
    /// that takes several values in the crowd: lacking it, the account could be either
    /// operator's, and would join them; and, among the staff of several organisations, the
    /// email domain (left out, or free mail).
    func pairFits(_ a: Int, _ b: Int, _ crowd: Crowd) -> Bool {
        guard fits(a, crowd), fits(b, crowd), !ofTwoOrganisations(a, b) else { return false }
        if crowd.organisations >= 2 && (traits[Trait.emailDomain.rawValue][a] < 0 || traits[Trait.emailDomain.rawValue][b] < 0) {
            return false
        }
        for trait in crowd.notableIdentity {
            let x = traits[trait.rawValue][a], y = traits[trait.rawValue][b]
            if x >= 0 && y >= 0 ? x != y : x != y && crowd.mixedIdentity.contains(trait) { return false }
        }
        let differing = crowd.agreed.filter {
            let x = traits[$0.trait.rawValue][a], y = traits[$0.trait.rawValue][b]
            return x >= 0 && y >= 0 && x != y
        }.count
        return differing <= (crowd.agreed.count >= 3 ? 1 : 0)
    }

    /// Finds the domains whose accounts behave as a firm's staff: several accounts on the domain,
    /// two of them behind one office address (business, hosting or unclassified: not a home, a
    /// carrier, a VPN). An operator spreading accounts over bought domains in one block gives each
    /// its own address, or lets accounts of all its domains take turns on one pool (`meetingGroup`).
    private mutating func findOrganisations(_ f: AccountFeatures, parameters: LinkParameters) {
        let domains = traits[Trait.emailDomain.rawValue]
        var holders: [Int32: Int] = [:]
        for domain in domains where domain >= 0 { holders[domain, default: 0] += 1 }
        let candidates = Set(holders.filter { $0.value >= parameters.organisationMinAccounts }.keys)
        guard candidates.count >= 2 else { return }
        var users: [Int64: [Int32: Int]] = [:]
        for a in 0..<f.count where candidates.contains(domains[a]) {
            for key in f.ipKeys[a] where parameters.isUsersOwnAddress(kind: f.ipKind[key]) {
                users[key, default: [:]][domains[a], default: 0] += 1
            }
        }
        var organisations: Set<Int32> = []
        var parent: [Int32: Int32] = [:]
        func root(_ x: Int32) -> Int32 {
            var x = x
            while let up = parent[x], up != x { parent[x] = parent[up] ?? up; x = up }
            return x
        }
        for byDomain in users.values {
            for (domain, accounts) in byDomain where accounts >= 2 { organisations.insert(domain) }
            // An exit of a cloud NAT can carry thousands of domains: it says nothing about any two.
            guard byDomain.count >= 2, byDomain.count <= Self.meetingMaxDomains else { continue }
            let present = Array(byDomain.keys), first = root(present[0])
            for other in present.dropFirst() { parent[root(other)] = first }
        }
        for domain in organisations { meetingGroup[domain] = root(domain) }
    }

    /// The most organisation domains on one address for it to join them as meeting.
    private static let meetingMaxDomains = 64

    /// Two accounts of two organisations (`findOrganisations`) that do not meet: staff of two
    /// firms. A crowd of many firms (a business ISP's block, a shared office) agrees on country,
    /// client and working hours, as one operator's accounts do.
    func ofTwoOrganisations(_ a: Int, _ b: Int) -> Bool {
        let x = traits[Trait.emailDomain.rawValue][a], y = traits[Trait.emailDomain.rawValue][b]
        guard x >= 0, y >= 0, x != y, let xGroup = meetingGroup[x], let yGroup = meetingGroup[y] else { return false }
        return xGroup != yGroup
    }

    /// The rhythm of an account active evenly over the hours of the day (the blocks are 0...7).
    static let aroundTheClockRhythm: Int32 = 8

    /// Whether the account's activity is spread evenly over the hours of the day.
    func aroundTheClock(_ a: Int) -> Bool { traits[Trait.rhythm.rawValue][a] == Self.aroundTheClockRhythm }

    func sameCountryOrUnknown(_ a: Int, _ b: Int) -> Bool { sameOrUnknown(.country, a, b) }
    func sameClientOrUnknown(_ a: Int, _ b: Int) -> Bool { sameOrUnknown(.client, a, b) }

    private func sameOrUnknown(_ trait: Trait, _ a: Int, _ b: Int) -> Bool {
        let x = traits[trait.rawValue][a], y = traits[trait.rawValue][b]
        return x < 0 || y < 0 || x == y
    }

    /// What two accounts' agreement on identity traits is worth, in bits: agreeing on a value a
    /// tenth of the file has is worth log2(10) (Fellegi-Sunter's u-probability, with m taken as 1).
    /// Sign-up week and rhythm are left out: operators start in the same waves and run machines
    /// around the clock alike.
    func contextBits(_ a: Int, _ b: Int) -> Double {
        var bits = 0.0
        for trait in Self.identityTraits {
            let x = traits[trait.rawValue][a], y = traits[trait.rawValue][b]
            guard x >= 0, x == y, let count = valueCount[trait.rawValue][x], count > 0 else { continue }
            let share = Double(count) / Double(max(knownCount[trait.rawValue], 1))
            bits += -log2(share)
        }
        return bits
    }
}
