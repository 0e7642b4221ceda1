import Foundation

/// Who is in a campaign: accounts, their cards and addresses, and the ground
/// truth of which operator runs each one. Built in memory (it is proportional
/// to the number of accounts, not of exchanges) from a seeded generator.
struct Population {
    var accounts: [Account] = []
    var payments: [Payment] = []
    var ips: [IPAddress] = []
    var operators: [Operator] = []
    var userAgents: [String] = []

    struct Account {
        let id: String
        let operatorIndex: Int
        let createdAt: Int64
        let email: String
        let orgID: String?
        let country: String
        let signupIP: Int
        var status: String
        let plan: String
        var requestIPs: [Int]
        let userAgent: Int
        let apiKey: String
        /// Exchanges per active hour before scaling to the requested total.
        var rate: Double
        let activity: Activity
        let prefersFrontier: Bool
        /// When the account stops (banned, closed): no exchanges from then on.
        var activeUntil: Int64? = nil
        /// An account with a template of its own among its operator's (an operator rotating wording).
        var ownTemplate: Int? = nil
    }

    enum Activity {
        /// Daytime-heavy human use, shifted by a timezone offset in hours.
        case diurnal(offset: Int)
        /// Machine-like, around the clock.
        case constant
        /// Only inside the operator's synchronized burst windows.
        case bursts
    }

    struct Payment {
        let account: Int
        let fingerprint: String
        let type: String
        let brand: String?
        let bin: String?
        let last4: String?
        let country: String
        let postal: String?
        let chargebacks: Int
    }

    struct IPAddress {
        let text: String
        let asn: Int
        let asOrg: String
        let country: String
        let city: String?
        let kind: String
        /// False for the few addresses the IP data deliberately lacks.
        let described: Bool
    }

    /// An operator in the ground truth: a fraud ring, or a benign group (household, company) or person.
    struct Operator {
        let id: String
        let type: String
        let fraud: Bool
        /// The operator's prompt templates (fraud); empty means diverse benign prompts.
        var templates: [PromptTemplate] = []
        /// For `.bursts` accounts: which hours of the window are active.
        var burstHours: [Bool] = []
        /// Share of requests written from the templates (a person pasting a public template now and then).
        var templateShare = 1.0
    }
}

// MARK: - Building

extension Population {
    static let countries = ["US", "US", "US", "GB", "DE", "FR", "CA", "IN", "BR", "JP", "KR", "NL", "SG", "AU", "ES"]
    static let firstNames = ["alex", "maria", "sam", "li", "noah", "emma", "omar", "yuki", "ana", "liam", "zoe", "ivan",
                             "sara", "raj", "lena", "tom", "mia", "ali", "nina", "leo", "eva", "finn", "aya", "jon"]
    static let lastNames = ["smith", "garcia", "chen", "muller", "kim", "patel", "rossi", "silva", "nguyen", "jones",
                            "sato", "cohen", "novak", "berg", "lopez", "khan", "dubois", "meyer", "park", "ward"]
    static let freeMailDomains = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de"]
    static let models = ["frontier-xl", "frontier-l", "swift-m", "swift-s"]

    static func build(_ spec: CampaignSpec, random root: SeededRandom) -> Population {
        var population = Population()
        var builder = PopulationBuilder(spec: spec, random: root.derived(1))
        builder.build(into: &population)
        return population
    }
}

/// The mutable state of building a population; split from `Population` so the
/// finished value is plain data.
private struct PopulationBuilder {
    let spec: CampaignSpec
    var random: SeededRandom
    var nextIPv4: UInt32 = 0
    var usedEmails = Set<String>()

    // Shared infrastructure, built first: the traps that must not chain strangers together.
    var vpnExits: [Int] = []
    var mobileNAT: [Int] = []
    var proxyPool: [Int] = []
    var universityNAT: [Int] = []
    var officialSDK = 0
    var commonClients: [Int] = []

    init(spec: CampaignSpec, random: SeededRandom) {
        self.spec = spec
        self.random = random
    }

    mutating func build(into p: inout Population) {
        buildSharedInfrastructure(&p)
        let fraud = spec.fraudAccounts
        // Operator mix by share of fraudulent accounts.
        // Sizes are drawn log-uniformly: many small operators, a few of thousands of accounts.
        let largest = max(300, spec.maxOperatorAccounts)
        var remaining = fraud
        remaining -= buildOperators(&p, type: "card_farm", accounts: fraud * 16 / 100, size: 20...min(largest, 1_500))
        remaining -= buildOperators(&p, type: "template_only", accounts: fraud * 22 / 100, size: 20...min(largest, 600))
        remaining -= buildOperators(&p, type: "small_ring", accounts: fraud * 6 / 100, size: 3...12)
        remaining -= buildOperators(&p, type: "subnet_rotation", accounts: fraud * 8 / 100, size: 10...min(largest, 500))
        _ = buildOperators(&p, type: "hydra", accounts: max(remaining, 1), size: 100...largest)

        let benign = spec.benignAccounts
        var benignLeft = benign
        benignLeft -= buildCompanies(&p, accounts: benign / 10, kind: .office)
        benignLeft -= buildCompanies(&p, accounts: benign / 100, kind: .evaluation)
        benignLeft -= buildUniversity(&p, accounts: benign / 20)
        benignLeft -= buildHouseholds(&p, accounts: benign / 10)
        benignLeft -= buildPublicTemplateUsers(&p, accounts: benign / 100)
        buildIndividuals(&p, accounts: max(benignLeft, 0))
        scaleRates(&p)
    }

    // MARK: Addresses

    mutating func addIP(_ p: inout Population, asn: Int, org: String, country: String, city: String?, kind: String,
                        block: UInt32, described: Bool = true) -> Int {
        // Sequential within the /8 of the block's kind; never a .0 or .255 host.
        repeat { nextIPv4 += 1 } while nextIPv4 & 0xFF == 0 || nextIPv4 & 0xFF == 0xFF
        let value = (block & 0xFF00_0000) | (nextIPv4 & 0x00FF_FFFF)
        let text = "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
        p.ips.append(.init(text: text, asn: asn, asOrg: org, country: country, city: city, kind: kind, described: described))
        return p.ips.count - 1
    }

    mutating func addIPv6(_ p: inout Population, asn: Int, org: String, country: String, kind: String) -> Int {
        let text = "2a02:\(String(random.int(0x1000...0xffff), radix: 16)):\(String(random.int(1...0xffff), radix: 16))::\(String(random.int(1...0xffff), radix: 16))"
        p.ips.append(.init(text: text, asn: asn, asOrg: org, country: country, city: nil, kind: kind, described: true))
        return p.ips.count - 1
    }

    mutating func homeIP(_ p: inout Population, country: String) -> Int {
        if random.chance(0.08) { return addIPv6(&p, asn: 3320, org: "Telekabel Residential", country: country, kind: "residential") }
        let isps = [(7922, "Comcastic Cable"), (3320, "Telekabel Residential"), (5089, "Virginity Broadband"),
                    (4134, "Chinanet Home"), (2856, "BritTel Home")]
        let (asn, org) = random.pick(isps)
        return addIP(&p, asn: asn, org: org, country: country, city: nil, kind: "residential", block: 0x4A00_0000)
    }

    mutating func buildSharedInfrastructure(_ p: inout Population) {
        let scale = max(1, (spec.benignAccounts + spec.fraudAccounts) / 2_000)
        for _ in 0..<min(60, 6 + scale) {
            vpnExits.append(addIP(&p, asn: 9009, org: "M247 VPN Exit", country: random.pick(Population.countries),
                                  city: nil, kind: "vpn", block: 0x5B00_0000))
        }
        for _ in 0..<min(40, 4 + scale) {
            mobileNAT.append(addIP(&p, asn: 21928, org: "T-Mobile Carrier NAT", country: "US", city: nil,
                                   kind: "mobile", block: 0xAC38_0000))
        }
        for _ in 0..<min(4000, 60 + scale * 30) {
            // A commercial residential-proxy pool: real home connections, labelled residential in IP data.
            proxyPool.append(addIP(&p, asn: random.pick([7922, 5089, 2856]), org: random.pick(["Comcastic Cable", "Virginity Broadband", "BritTel Home"]),
                                   country: random.pick(["US", "GB", "US"]), city: nil, kind: "residential", block: 0x4C00_0000))
        }
        for _ in 0..<4 {
            universityNAT.append(addIP(&p, asn: 786, org: "Northfield University", country: "GB", city: "Northfield",
                                       kind: "education", block: 0x8B00_0000))
        }
        p.userAgents = ["acme-sdk-python/1.52.0", "acme-sdk-python/1.51.2", "acme-sdk-node/1.30.2",
                        "acme-sdk-python/1.48.0", "curl/8.5.0",
                        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                        "python-requests/2.32.3", "acme-sdk-go/0.9.1"]
        officialSDK = 0
        commonClients = [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    }

    // MARK: Fraud operators

    mutating func buildOperators(_ p: inout Population, type: String, accounts target: Int, size: ClosedRange<Int>) -> Int {
        var made = 0
        while made < target {
            let drawn = Int(exp(log(Double(size.lowerBound)) + random.unit() * (log(Double(size.upperBound)) - log(Double(size.lowerBound)))))
            let count = min(target - made, max(size.lowerBound, min(size.upperBound, drawn)))
            guard count > 0 else { break }
            if count < size.lowerBound && made > 0 { break }
            buildOperator(&p, type: type, size: count)
            made += count
        }
        return made
    }

    mutating func buildOperator(_ p: inout Population, type: String, size: Int) {
        let operatorIndex = p.operators.count
        var op = Population.Operator(id: "op-\(type.replacingOccurrences(of: "_", with: "-"))-\(operatorIndex)", type: type, fraud: true)
        let templateCount = type == "subnet_rotation" ? size : random.int(1...3)
        op.templates = (0..<templateCount).map { _ in PromptTemplate.random(&random, rubric: random.chance(0.3)) }
        // A careful operator may have bought the template kit another one uses (nothing else shared).
        if type == "template_only", random.chance(0.3), let other = p.operators.last(where: { $0.type == "template_only" }) {
            op.templates = other.templates
        }
        let country = random.pick(Population.countries)
        let hostingASN = random.pick([(14061, "OceanDrop Cloud"), (16276, "OVHish Hosting"), (24940, "Hetzy Datacenter"),
                                      (63949, "Linodo Cloud"), (20473, "Vultra Hosting")])
        let start = spec.startMilliseconds
        let window = Int64(spec.hours) * 3_600_000
        let waveStart = start + Int64(random.unit() * Double(window) * 0.3)

        var sharedCards: [String] = []
        var hostingIPs: [Int] = []
        var customUA: Int?
        var activity = Population.Activity.constant
        let emailStem = random.letters(random.int(4...7))
        let throwawayDomain = "\(random.letters(6))mail.\(random.pick(["xyz", "top", "click", "site"]))"
        let bin = String(random.int(400_000...499_999))

        switch type {
        case "card_farm":
            sharedCards = (0..<random.int(2...5)).map { _ in "fp_" + random.letters(14) }
            hostingIPs = (0..<random.int(8...30)).map { _ in
                addIP(&p, asn: hostingASN.0, org: hostingASN.1, country: country, city: nil, kind: "hosting", block: 0x2D00_0000)
            }
            p.userAgents.append("\(random.letters(5))-harvest/0.\(random.int(1...9)).\(random.int(0...20))")
            customUA = p.userAgents.count - 1
        case "hydra":
            // One prepaid card per account, its own block of hosting addresses.
            let blockSize = max(8, size / 12)
            hostingIPs = (0..<blockSize).map { _ in
                addIP(&p, asn: hostingASN.0, org: hostingASN.1, country: country, city: nil, kind: "hosting", block: 0x6700_0000)
            }
            p.userAgents.append("hydra-client/\(random.int(1...3)).\(random.int(0...9)) (\(random.letters(4)))")
            customUA = p.userAgents.count - 1
        case "small_ring":
            sharedCards = ["fp_" + random.letters(14)]
            hostingIPs = [homeIP(&p, country: country)]
            activity = .diurnal(offset: random.int(-8...9))
        case "subnet_rotation":
            // Each account its own address, all in fresh hosting /24 blocks of one provider.
            nextIPv4 = (nextIPv4 | 0xFF) + 1
            hostingIPs = (0..<size).map { _ in
                addIP(&p, asn: hostingASN.0, org: hostingASN.1, country: country, city: nil, kind: "hosting", block: 0x2E00_0000)
            }
        default: // template_only: careful operator, only the prompt template and timing give it away
            activity = .bursts
            op.burstHours = burstSchedule()
        }

        // A quarter of a hydra's accounts are banned and succeeded; successors count in `size`.
        let firstAccount = p.accounts.count
        var member = -1
        while p.accounts.count - firstAccount < size {
            member += 1
            let index = p.accounts.count
            let id = "acct-" + random.alphanumeric(10)
            let createdAt: Int64
            switch type {
            case "card_farm", "subnet_rotation": createdAt = waveStart + Int64(random.int(0..<6 * 3_600_000))
            case "hydra": createdAt = waveStart + Int64(member / 100) * 86_400_000 + Int64(random.int(0..<3 * 3_600_000))
            default: createdAt = start - Int64(random.int(0...60)) * 86_400_000 + Int64(random.int(0..<86_400_000))
            }
            let email: String
            switch type {
            case "card_farm": email = "\(emailStem)\(String(format: "%04d", member + 1))@\(throwawayDomain)"
            case "hydra": email = "\(random.alphanumeric(12))@\(random.pick(Population.freeMailDomains))"
            default: email = personalEmail()
            }
            var requestIPs: [Int]
            switch type {
            case "card_farm": requestIPs = (0..<3).map { _ in random.pick(hostingIPs) }
            case "hydra":
                let base = member % hostingIPs.count
                requestIPs = [hostingIPs[base], hostingIPs[(base + 1) % hostingIPs.count]]
            case "small_ring": requestIPs = [hostingIPs[0]] + (random.chance(0.5) ? [random.pick(mobileNAT)] : [])
            case "subnet_rotation": requestIPs = [hostingIPs[member]]
            default: requestIPs = (0..<random.int(3...8)).map { _ in random.pick(proxyPool) }
            }
            let card: String
            switch type {
            case "card_farm", "small_ring": card = random.pick(sharedCards)
            default: card = "fp_" + random.letters(14)
            }
            let isPrepaid = type == "hydra"
            p.payments.append(.init(account: index, fingerprint: card, type: "card", brand: random.pick(["visa", "mastercard"]),
                                    bin: isPrepaid ? bin : String(random.int(400_000...559_999)),
                                    last4: String(format: "%04d", random.int(0...9999)), country: country,
                                    postal: String(random.int(10_000...99_999)),
                                    chargebacks: isPrepaid && random.chance(0.3) ? random.int(1...3) : 0))
            let rate: Double
            switch type {
            case "card_farm": rate = 3 + random.unit() * 2
            case "hydra": rate = 1 + random.unit()
            case "small_ring": rate = 1.5 + random.unit()
            case "subnet_rotation": rate = 2 + random.unit()
            default: rate = 4 + random.unit() * 2
            }
            let ua = customUA ?? (type == "template_only" || type == "subnet_rotation" ? officialSDK : random.pick(commonClients))
            p.accounts.append(.init(id: id, operatorIndex: operatorIndex, createdAt: createdAt, email: email, orgID: nil,
                                    country: country, signupIP: requestIPs[0],
                                    status: type == "hydra" ? "active" : (random.chance(0.1) ? random.pick(["suspended", "banned"]) : "active"),
                                    plan: random.pick(["build", "scale", "build"]), requestIPs: requestIPs, userAgent: ua,
                                    apiKey: "key-" + random.alphanumeric(16), rate: rate, activity: activity,
                                    prefersFrontier: true, ownTemplate: type == "subnet_rotation" ? member : nil))
            if type == "hydra" && p.accounts.count - firstAccount < size && random.chance(0.25) { banAndSucceed(&p, account: index, bin: bin) }
        }
        p.operators.append(op)
    }

    /// A hydra account banned at some point of the window, and the account that replaces it
    /// a few hours later on the same addresses and client, with a new prepaid card.
    mutating func banAndSucceed(_ p: inout Population, account index: Int, bin: String) {
        let banned = p.accounts[index]
        let windowEnd = spec.endMilliseconds
        let earliest = max(banned.createdAt, spec.startMilliseconds) + 2 * 86_400_000
        guard earliest < windowEnd - 3 * 86_400_000 else { return }
        let bannedAt = earliest + Int64(random.unit() * Double(windowEnd - 3 * 86_400_000 - earliest))
        p.accounts[index].activeUntil = bannedAt
        p.accounts[index].status = "banned"
        let successor = p.accounts.count
        p.accounts.append(.init(id: "acct-" + random.alphanumeric(10), operatorIndex: banned.operatorIndex,
                                createdAt: bannedAt + Int64(random.int(3_600_000...5 * 3_600_000)),
                                email: "\(random.alphanumeric(12))@\(random.pick(Population.freeMailDomains))", orgID: nil,
                                country: banned.country, signupIP: banned.requestIPs[0], status: "active", plan: banned.plan,
                                requestIPs: banned.requestIPs, userAgent: banned.userAgent, apiKey: "key-" + random.alphanumeric(16),
                                rate: banned.rate, activity: banned.activity, prefersFrontier: true))
        let old = p.payments.last { $0.account == index }!
        p.payments.append(.init(account: successor, fingerprint: "fp_" + random.letters(14), type: "card", brand: old.brand, bin: bin,
                                last4: String(format: "%04d", random.int(0...9999)), country: old.country,
                                postal: String(random.int(10_000...99_999)), chargebacks: 0))
    }

    /// Synchronized bursts: a few windows of 2-5 hours on most days, the same for every account of the operator.
    mutating func burstSchedule() -> [Bool] {
        var hours = Array(repeating: false, count: spec.hours)
        for day in 0..<spec.days where random.chance(0.8) {
            for _ in 0..<random.int(1...2) {
                let begin = day * 24 + random.int(0..<24)
                for hour in begin..<min(spec.hours, begin + random.int(2...5)) { hours[hour] = true }
            }
        }
        return hours
    }

    // MARK: Benign populations

    /// A person's address; unique, as a mail provider would have it.
    mutating func personalEmail() -> String {
        while true {
            let address = candidateEmail()
            if usedEmails.insert(address).inserted { return address }
        }
    }

    mutating func candidateEmail() -> String {
        let first = random.pick(Population.firstNames), last = random.pick(Population.lastNames)
        let local: String
        switch random.int(0..<4) {
        case 0: local = "\(first).\(last)"
        case 1: local = "\(first)\(last)\(random.int(1...99))"
        case 2: local = "\(first.prefix(1))\(last)"
        default: local = "\(first)_\(random.letters(3))"
        }
        return "\(local)@\(random.pick(Population.freeMailDomains))"
    }

    mutating func addBenignOperator(_ p: inout Population, id: String, type: String) -> Int {
        p.operators.append(.init(id: id, type: type, fraud: false))
        return p.operators.count - 1
    }

    mutating func benignAccount(_ p: inout Population, operatorIndex: Int, email: String, orgID: String?, country: String,
                                requestIPs: [Int], card: String?, plan: String, createdAt: Int64? = nil, rate: Double? = nil,
                                activity: Population.Activity? = nil) {
        let index = p.accounts.count
        let created = createdAt ?? spec.startMilliseconds - Int64(random.int(0...365)) * 86_400_000
            + Int64(random.chance(0.15) ? random.int(0...spec.days) * 86_400_000 : 0)
        p.accounts.append(.init(id: "acct-" + random.alphanumeric(10), operatorIndex: operatorIndex, createdAt: created,
                                email: email, orgID: orgID, country: country, signupIP: requestIPs[0],
                                status: random.chance(0.03) ? "closed" : "active", plan: plan, requestIPs: requestIPs,
                                userAgent: random.pick(commonClients), apiKey: "key-" + random.alphanumeric(16),
                                rate: rate ?? 0.02 + random.unit() * random.unit() * 0.6,
                                activity: activity ?? .diurnal(offset: random.int(-8...9)), prefersFrontier: random.chance(0.3)))
        p.payments.append(.init(account: index, fingerprint: card ?? "fp_" + random.letters(14),
                                type: random.chance(0.85) ? "card" : "paypal", brand: random.pick(["visa", "mastercard", "amex"]),
                                bin: String(random.int(400_000...559_999)), last4: String(format: "%04d", random.int(0...9999)),
                                country: country, postal: String(random.int(10_000...99_999)),
                                chargebacks: random.chance(0.005) ? 1 : 0))
    }

    /// What sets one kind of company apart; everything else about a company is the same.
    struct CompanyKind {
        let idPrefix: String
        let type: String
        let sizes: ClosedRange<Int>
        /// Prompt templates of its own (evaluation scripts), drawn before anything else about it.
        var templates: ClosedRange<Int>?
        let domainLetters: Int
        let domainSuffix: String
        let networkName: String
        let offices: ClosedRange<Int>
        let city: String
        let block: UInt32
        /// Each account's request rate: `rateBase` plus up to `rateSpread`.
        let rateBase: Double
        let rateSpread: Double
        var activity: Population.Activity?

        static let office = CompanyKind(idPrefix: "company", type: "company", sizes: 10...200, domainLetters: 6,
                                        domainSuffix: "corp.com", networkName: " Office Network", offices: 1...4,
                                        city: "Boston", block: 0xC600_0000, rateBase: 0.2, rateSpread: 0.6)
        /// Companies that evaluate models: machine-timed reasoning and grading prompts from scripts.
        /// Benign, and they look like harvesting on every behavioural indicator.
        static let evaluation = CompanyKind(idPrefix: "eval-company", type: "eval_company", sizes: 5...40, templates: 2...4,
                                            domainLetters: 5, domainSuffix: "evals.com", networkName: " Network",
                                            offices: 1...3, city: "Seattle", block: 0xC700_0000, rateBase: 1, rateSpread: 1,
                                            activity: .constant)
    }

    /// Companies of one kind until `target` accounts: each its staff under its own domain, on its
    /// own office network and one corporate card. The order of draws is what makes a seed write
    /// the same campaign.
    mutating func buildCompanies(_ p: inout Population, accounts target: Int, kind: CompanyKind) -> Int {
        var made = 0
        while made < target {
            let size = min(target - made, random.int(kind.sizes))
            let company = addBenignOperator(&p, id: "\(kind.idPrefix)-\(p.operators.count)", type: kind.type)
            if let templates = kind.templates {
                p.operators[company].templates = (0..<random.int(templates)).map { _ in
                    PromptTemplate.random(&random, rubric: random.chance(0.5))
                }
            }
            let domain = "\(random.letters(kind.domainLetters))\(kind.domainSuffix)"
            let officeIPs = (0..<random.int(kind.offices)).map { _ in
                addIP(&p, asn: random.int(30_000...60_000), org: domain + kind.networkName, country: "US", city: kind.city,
                      kind: "business", block: kind.block)
            }
            let corporateCard = "fp_" + random.letters(14)
            for _ in 0..<size {
                let first = random.pick(Population.firstNames), last = random.pick(Population.lastNames)
                benignAccount(&p, operatorIndex: company, email: "\(first).\(last)@\(domain)", orgID: "org-" + domain,
                              country: "US", requestIPs: [random.pick(officeIPs)], card: corporateCard, plan: "enterprise",
                              rate: kind.rateBase + random.unit() * kind.rateSpread, activity: kind.activity)
            }
            made += size
        }
        return made
    }

    mutating func buildUniversity(_ p: inout Population, accounts target: Int) -> Int {
        // Students are separate people behind a few NAT addresses, with look-alike email addresses.
        for _ in 0..<target {
            let person = addBenignOperator(&p, id: "person-\(p.operators.count)", type: "university_student")
            benignAccount(&p, operatorIndex: person, email: "s\(random.int(1_000_000...2_999_999))@northfield.ac.uk",
                          orgID: nil, country: "GB", requestIPs: [random.pick(universityNAT), random.pick(universityNAT)],
                          card: nil, plan: "free",
                          createdAt: spec.startMilliseconds + Int64(random.int(0..<14)) * 86_400_000 + Int64(random.int(0..<86_400_000)))
        }
        return target
    }

    mutating func buildHouseholds(_ p: inout Population, accounts target: Int) -> Int {
        var made = 0
        // Households that moved out early in the window: their address goes to a new household weeks later.
        var vacated: [(ip: Int, at: Int64)] = []
        while made < target {
            let size = min(target - made, random.int(2...4))
            let household = addBenignOperator(&p, id: "household-\(p.operators.count)", type: "household")
            let country = random.pick(Population.countries)
            var home = homeIP(&p, country: country)
            var movedIn: Int64?
            if !vacated.isEmpty && random.chance(0.3) {
                let previous = vacated.removeFirst()
                home = previous.ip
                movedIn = previous.at + Int64(random.int(14...21)) * 86_400_000
            }
            let movesOut: Int64? = movedIn == nil && random.chance(0.1)
                ? spec.startMilliseconds + Int64(random.int(3...10)) * 86_400_000 : nil
            let familyCard: String? = random.chance(0.5) ? "fp_" + random.letters(14) : nil
            for _ in 0..<size {
                benignAccount(&p, operatorIndex: household, email: personalEmail(), orgID: nil, country: country,
                              requestIPs: [home] + (random.chance(0.4) ? [random.pick(mobileNAT)] : []), card: familyCard,
                              plan: random.pick(["free", "build"]), createdAt: movedIn.map { $0 + Int64(random.int(0..<86_400_000)) })
                p.accounts[p.accounts.count - 1].activeUntil = movesOut
            }
            if let movesOut { vacated.append((home, movesOut)) }
            made += size
        }
        return made
    }

    /// People who paste one of a few popular public prompt templates (found on the web) for
    /// some of their requests: strangers to each other, whatever their prompts share.
    mutating func buildPublicTemplateUsers(_ p: inout Population, accounts target: Int) -> Int {
        var publicTemplates: [PromptTemplate] = []
        var templateRandom = SeededRandom(seed: 0x5055_424C_4943)  // the same public templates in every campaign
        for _ in 0..<3 { publicTemplates.append(PromptTemplate.random(&templateRandom, rubric: false)) }
        for _ in 0..<target {
            let person = addBenignOperator(&p, id: "person-\(p.operators.count)", type: "public_template_user")
            p.operators[person].templates = [random.pick(publicTemplates)]
            p.operators[person].templateShare = 0.5 + random.unit() * 0.4
            let country = random.pick(Population.countries)
            benignAccount(&p, operatorIndex: person, email: personalEmail(), orgID: nil, country: country,
                          requestIPs: [random.chance(0.7) ? homeIP(&p, country: country) : random.pick(vpnExits)], card: nil,
                          plan: random.pick(["free", "build", "scale"]), rate: 0.2 + random.unit() * 0.5)
        }
        return target
    }

    mutating func buildIndividuals(_ p: inout Population, accounts target: Int) {
        for _ in 0..<target {
            let person = addBenignOperator(&p, id: "person-\(p.operators.count)", type: "individual")
            let country = random.pick(Population.countries)
            var ips: [Int]
            switch random.unit() {
            case ..<0.55: ips = [homeIP(&p, country: country)]
            case ..<0.70: ips = [random.pick(mobileNAT)]
            case ..<0.82: ips = [random.pick(vpnExits), random.pick(vpnExits)]
            case ..<0.90: ips = [random.pick(proxyPool)]  // a home whose connection is also sold as a proxy exit
            default: ips = [homeIP(&p, country: country), random.pick(mobileNAT)]
            }
            benignAccount(&p, operatorIndex: person, email: personalEmail(), orgID: nil, country: country,
                          requestIPs: ips, card: nil, plan: random.pick(["free", "free", "build", "scale"]))
        }
    }

    // MARK: Volume

    /// Scales every account's rate so fraud and benign traffic reach their shares of the requested exchanges.
    mutating func scaleRates(_ p: inout Population) {
        var fraudExpected = 0.0, benignExpected = 0.0
        for account in p.accounts {
            let expected = account.rate * Self.activeWeight(account, operators: p.operators, spec: spec)
            if p.operators[account.operatorIndex].fraud { fraudExpected += expected } else { benignExpected += expected }
        }
        let fraudTarget = Double(spec.exchanges) * spec.fraudShare
        let fraudScale = fraudExpected > 0 ? fraudTarget / fraudExpected : 0
        let benignScale = benignExpected > 0 ? (Double(spec.exchanges) - fraudTarget) / benignExpected : 0
        for index in p.accounts.indices {
            p.accounts[index].rate *= p.operators[p.accounts[index].operatorIndex].fraud ? fraudScale : benignScale
        }
    }

    /// The sum over the window of an account's hourly activity multiplier.
    static func activeWeight(_ account: Population.Account, operators: [Population.Operator], spec: CampaignSpec) -> Double {
        let firstHour = max(0, Int((account.createdAt - spec.startMilliseconds) / 3_600_000))
        let endHour = account.activeUntil.map { min(spec.hours, max(0, Int(($0 - spec.startMilliseconds) / 3_600_000))) } ?? spec.hours
        guard firstHour < endHour else { return 0 }
        switch account.activity {
        case .constant, .diurnal: return Double(endHour - firstHour)  // the diurnal curve averages 1
        case .bursts: return Double(operators[account.operatorIndex].burstHours[firstHour..<endHour].filter { $0 }.count)
        }
    }
}
