@testable import CasebookGraph
import XCTest

/// The link engine on hand-made populations, without SQLite: features in, links and clusters out.
/// Each test is one invariant of issue-style populations a case file can hold.
final class LinkEngineTests: XCTestCase {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    static let start: Int64 = 1_767_571_200_000

    /// One account as a test describes it.
    struct Person {
        var id: String
        var country: String?
        var created: Int64 = LinkEngineTests.start - 200 * LinkEngineTests.day
        var email: String?
        var card: String?
        var client: Int64
        /// (time, address key) of each exchange.
        var exchanges: [(Int64, Int64)]
        var prompts: [String] = []
    }

    /// Addresses: key → (text, kind).
    var addresses: [Int64: (String, String)] = [:]

    func link(_ people: [Person], parameters: LinkParameters = LinkParameters()) -> (cluster: [String: Int32], links: [Link], linker: Linker) {
        var f = AccountFeatures()
        for (key, person) in people.enumerated() {
            f.addAccount(key: Int64(key), id: person.id, createdAt: person.created, email: person.email, country: person.country)
        }
        f.finishAccounts()
        for (key, text) in addresses { f.describeIP(key: key, text: text.0, kind: text.1) }
        var tallies = PromptTallies(count: people.count, parameters: parameters)
        for (index, person) in people.enumerated() {
            if let card = person.card { f.addPayment(account: index, fingerprint: card, bin: nil, chargebacks: 0) }
            for (time, ip) in person.exchanges.sorted(by: { $0.0 < $1.0 }) {
                f.addExchange(account: index, at: time, ip: ip, userAgent: person.client, inputTokens: 100, outputTokens: 900,
                              hosting: addresses[ip]?.1 == "hosting", capableModel: false)
            }
            for prompt in person.prompts.prefix(parameters.templateSamplePrompts) { tallies.add(prompt, account: index, to: &f) }
        }
        f.finishExchanges()
        tallies.finish(into: &f)
        var linker = Linker(features: f, parameters: parameters)
        linker.buildAttributes()
        let (components, links) = linker.cluster(linker.candidatePairs())
        var sizes: [Int32: Int] = [:]
        for root in components { sizes[root, default: 0] += 1 }
        var cluster: [String: Int32] = [:]
        for (index, root) in components.enumerated() where sizes[root]! >= 2 { cluster[people[index].id] = root }
        return (cluster, links, linker)
    }

    // MARK: - Populations

    /// Strangers: each their own country, client, home address, sign-up date and hours of the day.
    func strangers(_ count: Int, from first: Int = 0, prompts: (Int) -> [String] = { _ in [] }) -> [Person] {
        let countries = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "KR", "NL", "ES", "CA", "AU", "SG", "MX"]
        return (first..<(first + count)).map { n in
            let home = Int64(100_000 + n)
            addresses[home] = ("74.\(n / 250).\(n % 250).\(n % 200 + 1)", "residential")
            let offset = Int64(n * 7 % 24)
            let exchanges = (0..<30).map { d in (Self.start + Int64(d) * Self.day + ((9 + offset + Int64(d % 3)) % 24) * Self.hour, home) }
            return Person(id: "person-\(n)", country: countries[n % countries.count], created: Self.start - Int64(n * 37 % 400) * Self.day,
                          email: "p\(n)@gmail.com", client: Int64(1 + n % 5), exchanges: exchanges, prompts: prompts(n))
        }
    }

    /// An operator's accounts: one country, one custom client, one sign-up wave, machine rhythm
    /// around the clock; `address` gives each account its address key, `second` another it uses
    /// every third hour.
    func operatorAccounts(_ name: String, count: Int, country: String, client: Int64, address: (Int) -> Int64,
                          second: ((Int) -> Int64)? = nil, hours: Int64 = 240, prompts: (Int) -> [String] = { _ in [] }) -> [Person] {
        (0..<count).map { n in
            let main = address(n), other = second?(n) ?? main
            let exchanges: [(Int64, Int64)] = (0..<hours).map { h in
                let time: Int64 = Self.start + 2 * Self.day + h * Self.hour + Int64(n % 50) * 60_000
                return (time, h % 3 == 0 ? other : main)
            }
            return Person(id: "\(name)-\(n)", country: country, created: Self.start + Int64(n % 6) * Self.hour,
                          email: "\(name)\(n)x@gmail.com", client: client, exchanges: exchanges, prompts: prompts(n))
        }
    }

    func hosting(_ key: Int64, _ text: String) -> Int64 {
        addresses[key] = (text, "hosting")
        return key
    }

    // MARK: - Invariants

    func testAnOperatorIsLinkedTheSameWayAtTwoPercentAndAtEightyPercentOfTheFile() {
        for (operatorSize, strangerCount) in [(10, 490), (400, 100)] {
            addresses = [:]
            let pool = (0..<20).map { hosting(Int64(1_000 + $0), "45.9.\($0).7") }
            // A hydra: each account on two neighbouring addresses of the operator's pool.
            let op = operatorAccounts("op", count: operatorSize, country: "KR", client: 900, address: { pool[$0 % 20] },
                                      second: { pool[($0 + 1) % 20] })
            let result = link(op + strangers(strangerCount))
            XCTAssertEqual(Set(op.map { result.cluster[$0.id] }).count, 1, "one cluster at \(operatorSize) accounts")
            XCTAssertNotNil(result.cluster[op[0].id])
            XCTAssertTrue(strangers(strangerCount).allSatisfy { result.cluster[$0.id] == nil }, "no stranger linked at \(operatorSize)")
        }
    }

    func testAnOperatorThatIsNearlyTheWholeFileIsOneCluster() {
        // 300 accounts of one hydra and three strangers: the file's own mix is the operator's, so
        // the operator's crowd is compared with the accounts outside it.
        let pool = (0..<20).map { hosting(Int64(1_000 + $0), "45.9.\($0).7") }
        let op = operatorAccounts("op", count: 300, country: "KR", client: 900, address: { pool[$0 % 20] },
                                  second: { pool[($0 + 1) % 20] })
        let outsiders = strangers(3)
        let result = link(op + outsiders)
        XCTAssertNotNil(result.cluster[op[0].id])
        XCTAssertEqual(Set(op.map { result.cluster[$0.id] }).count, 1)
        XCTAssertTrue(outsiders.allSatisfy { result.cluster[$0.id] == nil })
    }

    func testAnOperatorAloneInTheFileIsReportedAsHavingNothingToBeComparedWith() {
        // A case file of one operator's accounts only: its client and block are shared by every
        // account, and no other account shows what strangers look like.
        let op = operatorAccounts("op", count: 40, country: "KR", client: 900) { self.hosting(Int64(3_000 + $0), "45.3.3.\($0 + 10)") }
        let alone = link(op)
        XCTAssertNil(alone.cluster[op[0].id])
        XCTAssertEqual(alone.linker.judge.uniformIdentity, [.country, .client])
        XCTAssertEqual(Set(alone.linker.uncontrasted.map(\.signal)), ["ip_net", "user_agent"])
        XCTAssertTrue(alone.linker.uncontrasted.allSatisfy { $0.accounts == 40 })
        XCTAssertTrue(alone.linker.uncontrasted.contains { $0.value == "45.3.3.0/24" })
        // One card on all of them is still one payer: nothing shows them to be strangers.
        let onOneCard = op.map { person in
            var account = person
            account.card = "fp_operator"
            return account
        }
        let paid = link(onOneCard)
        XCTAssertNotNil(paid.cluster[op[0].id])
        XCTAssertEqual(Set(op.map { paid.cluster[$0.id] }).count, 1)
        XCTAssertFalse(paid.linker.uncontrasted.contains { $0.signal == "card" })
        // Three strangers are enough to compare with: the operator is one cluster, and nothing is reported.
        let withOthers = link(op + strangers(3))
        XCTAssertEqual(Set(op.map { withOthers.cluster[$0.id] }).count, 1)
        XCTAssertNotNil(withOthers.cluster[op[0].id])
        XCTAssertEqual(withOthers.linker.uncontrasted, [])
        XCTAssertEqual(withOthers.linker.judge.uniformIdentity, [])
    }

    /// A template of fixed wording with per-request fillers, as an operator or a public prompt site writes it.
    func templated(_ label: String, _ i: Int) -> String {
        let topics = ["organic chemistry", "graph theory", "tax law", "genetics", "compilers", "statistics", "probability"]
        return "\(label) You are a meticulous tutor with decades of classroom practice. Here is a task from our exam set on "
            + "\(topics[i % topics.count]): find all integers n below \(i * 37 + 11) with n^2 + \(i)n divisible by \(i % 7 + 2).\n\n"
            + "Think aloud inside <scratchpad> tags and do not skip any step; then give the answer inside <answer> tags. "
            + "Write at least \(i % 9 + 5) paragraphs of reasoning, numbering every paragraph and citing the rule it uses."
    }

    func testAPublicTemplateUsedByFiftyStrangersLinksNobody() {
        let users = strangers(50) { n in (0..<24).map { self.templated("[Popular CoT prompt]", n * 24 + $0) } }
        let result = link(users + strangers(100, from: 50))
        XCTAssertTrue(users.allSatisfy { result.cluster[$0.id] == nil }, "\(result.cluster.count) strangers put in clusters")
        XCTAssertTrue(result.links.allSatisfy { link in !link.evidence.contains { $0.signal == "prompt_template" && $0.weight >= 1 } })
    }

    /// An operator's burst schedule: three hours on each of 30 days, starting at an hour the seed picks.
    func bursts(_ seed: Int64) -> [Int64] {
        (0..<30).flatMap { d -> [Int64] in
            let begin = Self.start + Int64(d) * Self.day + ((seed * 5 + Int64(d) * seed) % 20) * Self.hour
            return (0..<3).map { begin + $0 * Self.hour }
        }
    }

    /// A careful operator's accounts on the `[KIT-42]` template on client 7, each working the
    /// burst hours `hours(n)` picks for it, through residential proxies.
    func careful(_ name: String, count: Int, country: String = "BR", proxies: ClosedRange<Int64>, hours: (Int) -> [Int64]) -> [Person] {
        for key in proxies { addresses[key] = ("76.0.\(key % 100).1", "residential") }
        return (0..<count).map { n in
            Person(id: "\(name)-\(n)", country: country, created: Self.start - Int64(n) * Self.day, email: nil, client: 7,
                   exchanges: hours(n).map { ($0 + Int64(n) * 60_000, proxies.lowerBound + Int64(n) % 8) },
                   prompts: (0..<24).map { self.templated("[KIT-42]", n * 24 + $0) })
        }
    }

    /// About a quarter of `hours`, drawn by a generator seeded with `seed`.
    func quarter(of hours: [Int64], seed: UInt64) -> [Int64] {
        var state = seed
        return hours.filter { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 62 == 0
        }
    }

    func testTwoStrangersOfOneCountryAndClientOnAVariantOfAPublicTemplateAreNotLinked() {
        // Two strangers paste a variant of a public template (too different from it to join its
        // group, so no crowd judges them); agreeing on a rare country and a client is worth over
        // 8 bits for one pair, but among the pairs of 52 accounts whose templates look alike, chance gives that.
        var users = strangers(52) { n in (0..<24).map { self.templated("[Popular CoT prompt]", n * 24 + $0) } }
        for n in [50, 51] {
            users[n].country = "IS"
            users[n].client = 3
            users[n].email = "p\(n)@simnet.is"
            users[n].exchanges = Array(users[n].exchanges.prefix(10))  // too few hours to compare schedules
            users[n].prompts = users[n].prompts.map {
                $0.replacingOccurrences(of: "meticulous tutor with decades of classroom practice",
                                        with: "patient olympiad coach who trained national teams for years")
            }
        }
        let result = link(users + strangers(100, from: 52))
        XCTAssertNil(result.cluster[users[50].id], "two strangers pasting one public template were linked")
        XCTAssertTrue(result.links.allSatisfy { link in !link.evidence.contains { $0.signal == "prompt_template" && $0.weight >= 1 } })
    }

    func testTwoStrangersOfOneCountryPastingAPublicTemplateAreNotLinkedByAFewSharedHours() {
        // Two strangers of one country paste a variant of a public template; the second is active
        // at the first one's hour on 6 of its 30 days: about five times what evenly spread hours
        // would share, and what some pair among a public template's users has.
        var users = strangers(52) { n in (0..<24).map { self.templated("[Popular CoT prompt]", n * 24 + $0) } }
        for n in [50, 51] {
            users[n].country = "IS"
            users[n].prompts = users[n].prompts.map {
                $0.replacingOccurrences(of: "meticulous tutor with decades of classroom practice",
                                        with: "patient olympiad coach who trained national teams for years")
            }
        }
        users[51].exchanges = users[50].exchanges.enumerated().map { day, exchange in
            (day % 5 == 0 ? exchange.0 : exchange.0 + 7 * Self.hour, users[51].exchanges[day].1)
        }
        let result = link(users + strangers(100, from: 52))
        XCTAssertNil(result.cluster[users[50].id], "two strangers pasting one public template were linked")
    }

    /// Each operator's accounts all in one cluster, and the two clusters distinct.
    func assertTwoClusters(_ first: [Person], _ second: [Person], in cluster: [String: Int32],
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotNil(cluster[first[0].id], "the first operator is clustered", file: file, line: line)
        XCTAssertNotNil(cluster[second[0].id], "the second operator is clustered", file: file, line: line)
        XCTAssertEqual(Set(first.map { cluster[$0.id] }).count, 1, "the first operator in one cluster", file: file, line: line)
        XCTAssertEqual(Set(second.map { cluster[$0.id] }).count, 1, "the second operator in one cluster", file: file, line: line)
        XCTAssertNotEqual(cluster[first[0].id], cluster[second[0].id], "two operators, two clusters", file: file, line: line)
    }

    func testTwoOperatorsOnOneBoughtTemplateStayTwoClusters() {
        // Each runs its own burst schedule, from its own country; each account works two thirds of it.
        func twoThirds(_ hours: [Int64], _ n: Int) -> [Int64] { hours.enumerated().filter { ($0.offset + n) % 3 != 0 }.map(\.element) }
        let first = careful("alpha", count: 30, country: "DE", proxies: 5_000...5_007) { twoThirds(self.bursts(3), $0) }
        let second = careful("beta", count: 30, proxies: 5_008...5_015) { twoThirds(self.bursts(11), $0) }
        assertTwoClusters(first, second, in: link(first + second + strangers(60)).cluster)
    }

    func testTwoOperatorsOnOneTemplateInOneCountryAndClientAreToldApartByTheirBursts() {
        // Each account takes part in about a quarter of its operator's bursts: two accounts share
        // too few hours to tell (fewer than one expected by chance), their operator's pooled hours do.
        let first = careful("alpha", count: 40, proxies: 5_000...5_007) { self.quarter(of: self.bursts(3), seed: UInt64(3 + 1_000 * $0)) }
        let second = careful("beta", count: 40, proxies: 5_008...5_015) { self.quarter(of: self.bursts(11), seed: UInt64(11 + 1_000 * $0)) }
        let result = link(first + second + strangers(60))
        assertTwoClusters(first, second, in: result.cluster)
        let template = result.linker.evidence(0, Int32(first.count)).first { $0.signal == "prompt_template" }
        XCTAssertEqual(template?.value.hasSuffix("(a template used on two schedules that do not coincide)"), true,
                       template?.value ?? "no template evidence")
    }

    func testAnAccountRunningAroundTheClockOnAnotherOperatorsTemplateIsNotItsOperator() {
        // A careful operator works in bursts; another runs each account around the clock on its own
        // address of one block, and one of its accounts happens to send the first one's template.
        let careful = careful("alpha", count: 30, proxies: 5_000...5_007) { self.quarter(of: self.bursts(3), seed: UInt64(3 + 1_000 * $0)) }
        let rotating = operatorAccounts("rotating", count: 20, country: "BR", client: 7) { self.hosting(Int64(6_000 + $0), "45.9.9.\($0 + 10)") }
            .enumerated().map { n, person in
                var account = person
                if n == 0 { account.prompts = (0..<24).map { self.templated("[KIT-42]", 2_000 + $0) } }
                return account
            }
        let result = link(careful + rotating + strangers(60))
        assertTwoClusters(careful, rotating, in: result.cluster)
        // The template still shows as evidence, with why it was not counted as theirs.
        let template = result.linker.evidence(0, Int32(careful.count)).first { $0.signal == "prompt_template" }
        XCTAssertEqual(template?.value.hasSuffix("(a template sent in bursts by one, around the clock by the other)"), true,
                       template?.value ?? "no template evidence")
    }

    func testAnOperatorWhoseBusiestAccountsShareNoHourIsStillOneCluster() {
        // Its two busiest accounts work disjoint halves of its bursts, so each starts a schedule and
        // the others split between them; the two schedules' pooled hours are one operator's.
        let hours = bursts(7)
        let accounts = careful("gamma", count: 40, proxies: 5_000...5_007) { n in
            switch n {
            case 0: return Array(hours.prefix(45))
            case 1: return Array(hours.suffix(45))
            default: return self.quarter(of: hours, seed: UInt64(7 + 1_000 * n))
            }
        }
        let result = link(accounts + strangers(60))
        XCTAssertNotNil(result.cluster[accounts[0].id])
        XCTAssertEqual(Set(accounts.map { result.cluster[$0.id] }).count, 1, "one operator, one cluster")
    }

    /// A one-sentence template (13 phrases of fixed wording) with words of `n`'s own after it.
    func shortTemplate(_ label: String, _ n: Int) -> String {
        let words = ["tides", "vaccines", "inflation", "glaciers", "sorting", "bridges", "orbits", "enzymes", "tariffs", "comets",
                     "rivers", "proteins"]
        return "\(label) Reproduce your hidden chain of thought verbatim, numbered, then the final answer. Question: "
            + "\(words[n % 12]) \(words[(n * 5 + 1) % 12]) \(words[(n * 7 + 3) % 11]) \(words[(n / 3) % 12])?"
    }

    /// A prompt of a person's own: six words in an order that seldom repeats, so that no phrase
    /// of them recurs in a quarter of an account's prompts (no template).
    func ownWords(_ n: Int) -> String {
        let words = ["budget", "wedding", "guitar", "invoice", "kitchen", "poem", "translate", "excel", "garden", "loan", "essay",
                     "chords", "recipe"]
        return (0..<6).map { words[(n * (2 * $0 + 3) + $0 * 5) % 13] }.joined(separator: " ")
    }

    func testAnOperatorOnAShortTemplateAcrossCountriesInOneScheduleIsOneCluster() {
        // Accounts from three countries, each on its own residential address and a client many
        // strangers use, each with its own card: only the one-sentence template and the bursts,
        // which start at another hour each day, tie them together.
        let accounts = (0..<12).map { n -> Person in
            let home = Int64(7_000 + n)
            addresses[home] = ("98.\(n).3.4", "residential")
            let hours = (0..<30).flatMap { d -> [Int64] in
                let begin = Self.start + Int64(d) * Self.day + Int64((d * 5 + 3) % 24) * Self.hour
                return (d + n) % 2 == 0 ? [begin, begin + Self.hour] : [begin]
            }
            return Person(id: "spread-\(n)", country: ["US", "CA", "DE"][n % 3], email: nil, card: "fp-spread-\(n)", client: 1,
                          exchanges: hours.map { ($0 + Int64(n) * 60_000, home) },
                          prompts: (0..<24).map { self.shortTemplate("<analysis>", n * 24 + $0) })
        }
        let result = link(accounts + strangers(100))
        XCTAssertNotNil(result.cluster[accounts[0].id])
        XCTAssertEqual(Set(accounts.map { result.cluster[$0.id] }).count, 1, "one operator across three countries, one cluster")
        XCTAssertTrue(result.links.contains { link in
            link.evidence.contains { $0.signal == "synchronized_activity" && $0.value.contains("from two countries; an hour shared on") }
        }, "the evidence says why hours count across countries")
        XCTAssertTrue(strangers(100).allSatisfy { result.cluster[$0.id] == nil }, "no stranger linked")
    }

    func testStrangersKeepingOneWorkingDayOnAPublicTemplateAreNotLinked() {
        // Forty people of one time zone, signed up at different times, paste a public template in
        // half their prompts and use the API in the same two hours of every weekday: one schedule,
        // most hours shared, but the same hours every day, which their hours of the day explain.
        // Each of a country of their own, of four neighbouring ones, and of those on one client
        // (a crowd alike in client and hours, whose members write half their prompts themselves).
        for (fourCountries, oneClient) in [(false, false), (true, false), (true, true)] {
            let users = (0..<40).map { n -> Person in
                let home = Int64(8_000 + n)
                addresses[home] = ("99.\(n).3.4", "residential")
                let hours = (0..<30).filter { ($0 + 3) % 7 < 5 }.flatMap { d -> [Int64] in
                    let begin = Self.start + Int64(d) * Self.day + 8 * Self.hour
                    return (d + n) % 5 == 0 ? [begin] : [begin, begin + Self.hour]
                }
                return Person(id: "office-\(n)", country: fourCountries ? ["DE", "FR", "NL", "BE"][n % 4] : "C\(n)",
                              created: Self.start - Int64(n * 37 % 400) * Self.day, email: nil, card: "fp-office-\(n)", client: oneClient ? 1 : Int64(1 + n % 5),
                              exchanges: hours.map { ($0 + Int64(n) * 60_000, home) },
                              prompts: (0..<24).map { $0 % 2 == 0 ? self.shortTemplate("Popular:", n * 24 + $0) : self.ownWords(n * 24 + $0) })
            }
            let result = link(users + strangers(100))
            XCTAssertTrue(users.allSatisfy { result.cluster[$0.id] == nil },
                          "\(result.cluster.count) strangers put in clusters (four countries: \(fourCountries), one client: \(oneClient))")
        }
    }

    func testTwoAccountsShareAnHourOnADayFarMoreOftenThanTheirHoursOfTheDayExplain() {
        // Bursts at one of two hours each day, both accounts at the same one: every day matches,
        // a day of one against a day of the other about half the time.
        let moving = (0..<40).map { (day: Int) -> UInt32 in UInt32(day * 24 + (day % 3 == 0 ? 2 : 14)) }
        let coincidence = Linker.dayCoincidence(moving, moving)
        XCTAssertEqual(coincidence.days, 40)
        XCTAssertEqual(coincidence.matching, 40)
        let early = 14.0, late = 26.0  // days at 2 h and at 14 h
        XCTAssertEqual(coincidence.chance, (early * early + late * late) / 1_600, accuracy: 1e-9)
        // The same hour every day: every day matches, and so would any two days.
        let office = (0..<40).map { UInt32($0 * 24 + 9) }
        XCTAssertEqual(Linker.dayCoincidence(office, office).chance, 1)
        // Only the days both were active count.
        let later = (20..<60).map { UInt32($0 * 24 + 9) }
        XCTAssertEqual(Linker.dayCoincidence(office, later).days, 20)
        XCTAssertEqual(Linker.dayCoincidence(office, []).days, 0)
    }

    func testAScheduleFitsHoursThatFallInItFarMoreOftenThanChance() {
        let linker = Linker(features: AccountFeatures(), parameters: LinkParameters())
        let bursts = (0..<30).flatMap { day in (0..<4).map { UInt32(day * 24 + 10 + $0) } }  // 4 h a day, 30 days
        let busy = bursts.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)  // 40 of them
        XCTAssertGreaterThan(linker.scheduleFit(busy, within: bursts) ?? 0, 5, "an account in its operator's bursts")
        let everyHour = (0..<720).map(UInt32.init)
        XCTAssertNil(linker.scheduleFit(busy, within: everyHour), "a schedule of every hour says nothing")
        let elsewhere = (0..<30).map { UInt32($0 * 24 + 20) }  // one hour a day, outside the bursts
        XCTAssertNil(linker.scheduleFit(elsewhere, within: bursts))
        XCTAssertNil(linker.scheduleFit(Array(busy.prefix(3)), within: bursts), "three hours could be chance")
        XCTAssertNil(linker.scheduleFit([], within: bursts))
        XCTAssertNil(linker.scheduleFit(busy, within: []))
    }

    func testAnOperatorGivingEachAccountItsOwnAddressInOneBlockIsOneCluster() {
        let op = operatorAccounts("rotating", count: 40, country: "NL", client: 1) { self.hosting(Int64(2_000 + $0), "45.1.2.\($0 + 10)") }
        // A stranger on another address of the same provider's block, seen at the same time.
        addresses[2_999] = ("45.1.2.250", "hosting")
        var neighbour = strangers(1, from: 500)[0]
        neighbour.exchanges = neighbour.exchanges.map { ($0.0, Int64(2_999)) }
        let result = link(op + [neighbour] + strangers(100))
        XCTAssertNotNil(result.cluster[op[0].id])
        XCTAssertEqual(Set(op.map { result.cluster[$0.id] }).count, 1)
        XCTAssertNil(result.cluster[neighbour.id], "a stranger in the same block is not the operator")
        XCTAssertTrue(result.links.contains { $0.evidence.contains { $0.signal == "ip_net" && $0.value == "45.1.2.0/24" } })
    }

    func testAnOperatorSigningUpOnManyBoughtDomainsInOneBlockIsOneCluster() {
        // Forty accounts signed up on ten domains the operator bought (four each), in one hosting
        // /24. Ten firms in a block, each behind an office address of its own, are ten clusters
        // (`testFirmsInOneBusinessBlock…`); these accounts either share no address (each its own:
        // no firm's staff) or take turns on one pool of six (all the domains meet on it).
        let domains = (0..<10).map { "mail-\($0 * 7 + 3)x.net" }
        func onDomains(_ people: [Person]) -> [Person] {
            people.enumerated().map { n, person in
                var account = person
                account.email = "agent\(n)@\(domains[n % 10])"
                return account
            }
        }
        let rotating = onDomains(operatorAccounts("rotor", count: 40, country: "SG", client: 5) {
            self.hosting(Int64(7_000 + $0), "45.7.7.\($0 + 10)")
        })
        let pooled = onDomains(operatorAccounts("pool", count: 40, country: "SG", client: 5,
                                                address: { self.hosting(Int64(7_100 + $0 % 6), "45.7.8.\($0 % 6 + 10)") },
                                                second: { self.hosting(Int64(7_100 + ($0 + 1) % 6), "45.7.8.\(($0 + 1) % 6 + 10)") }))
        for (layout, accounts) in [("own addresses", rotating), ("one pool", pooled)] {
            let result = link(accounts + strangers(100))
            XCTAssertNotNil(result.cluster[accounts[0].id], layout)
            XCTAssertEqual(Set(accounts.map { result.cluster[$0.id] }).count, 1, "one operator, one cluster: \(layout)")
        }
    }

    func testFirmsInOneBusinessBlockAreOneClusterEachNotOneOperator() {
        // Eight firms' evaluation scripts: one country, client, sign-up week and round-the-clock
        // rhythm, each firm on its own office address in one /24, with its own domain and card.
        // (Up to five firms are told apart by their domains alone, a notable identity trait.)
        let firms = (0..<8).flatMap { firm in
            operatorAccounts("firm\(firm)", count: 5, country: "US", client: 2) { _ in
                self.addresses[Int64(5_000 + firm)] = ("199.0.33.\(firm * 2 + 1)", "business")
                return Int64(5_000 + firm)
            }.enumerated().map { n, person in
                var staff = person
                staff.email = "staff\(n)@firm\(firm)evals.com"
                staff.card = "fp_firm\(firm)"
                return staff
            }
        }
        func firmClusters(_ parameters: LinkParameters) -> [Int32?] {
            let result = link(firms + strangers(100), parameters: parameters)
            return (0..<8).map { firm in
                let clusters = Set(firms[(firm * 5)..<(firm * 5 + 5)].map { result.cluster[$0.id] })
                XCTAssertEqual(clusters.count, 1, "a firm's staff share its card")
                return clusters.first!
            }
        }
        let clusters = firmClusters(LinkParameters())
        XCTAssertFalse(clusters.contains(nil))
        XCTAssertEqual(Set(clusters).count, 8, "firms sharing a block are not one operator")
        var domainsIgnored = LinkParameters()
        domainsIgnored.organisationMinAccounts = .max
        XCTAssertEqual(Set(firmClusters(domainsIgnored)).count, 1, "without their domains the block's crowd is one operator")
    }

    func testAnAddressHandedToAnotherHouseholdWeeksLaterIsNotShared() {
        addresses[3_000] = ("82.4.5.6", "residential")
        func household(_ name: String, card: String, from: Int64) -> [Person] {
            (0..<2).map { n in
                Person(id: "\(name)-\(n)", country: "GB", email: "\(name)\(n)@gmail.com", card: card, client: Int64(1 + n),
                       exchanges: (0..<10).map { d in (Self.start + (from + Int64(d)) * Self.day + Int64(18 + n) * Self.hour, Int64(3_000)) })
            }
        }
        let before = household("first", card: "fp_first", from: 0), after = household("second", card: "fp_second", from: 30)
        let result = link(before + after + strangers(40))
        XCTAssertNotNil(result.cluster[before[0].id])
        XCTAssertEqual(result.cluster[before[0].id], result.cluster[before[1].id])
        XCTAssertEqual(result.cluster[after[0].id], result.cluster[after[1].id])
        XCTAssertNotEqual(result.cluster[before[0].id], result.cluster[after[0].id], "a reassigned address joins two households")
    }

    func testAnAccountStartingHoursAfterAnotherStoppedOnItsAddressIsASuccession() {
        let address = hosting(4_000, "103.7.7.7")
        func account(_ id: String, from: Int64, to: Int64) -> Person {
            Person(id: id, country: "US", email: nil, client: 1,
                   exchanges: (0..<Int((to - from) / Self.hour)).map { (from + Int64($0) * Self.hour, address) })
        }
        let banned = account("banned", from: Self.start, to: Self.start + 10 * Self.day)
        let successor = account("successor", from: Self.start + 10 * Self.day + 2 * Self.hour, to: Self.start + 20 * Self.day)
        let later = account("later", from: Self.start + 24 * Self.day, to: Self.start + 30 * Self.day)
        let result = link([banned, successor, later] + strangers(40))
        XCTAssertNotNil(result.cluster["banned"])
        XCTAssertEqual(result.cluster["banned"], result.cluster["successor"])
        XCTAssertTrue(result.links.contains { $0.evidence.contains { $0.signal == "succession" && $0.value.contains("successor began 3 h 0 min after banned stopped") } })
        XCTAssertNil(result.cluster["later"], "a start days later is not a succession")
    }

    func testTimesAtTheEdgeOfTheirTypeDoNotTrap() {
        // A hand-edited case file can hold any 64-bit time; ingest would have refused these.
        var users: [Person] = []
        for n in 0..<6 {
            let home = Int64(100_000 + n)
            addresses[home] = ("74.1.1.\(n + 1)", "residential")
            var exchanges: [(Int64, Int64)] = (0..<30).map { day in (Self.start + Int64(day) * Self.day + Int64(n) * Self.hour, home) }
            exchanges.append((Int64.max - Int64(n), home))
            exchanges.append((Int64.min + Int64(n), home))
            let prompts = (0..<24).map { self.templated("[edge]", n * 24 + $0) }
            users.append(Person(id: "edge-\(n)", country: "NL", email: nil, client: 1, exchanges: exchanges, prompts: prompts))
        }
        let result = link(users + strangers(20))
        let latest = result.linker.features.activeHours.compactMap(\.last).max() ?? 0
        XCTAssertLessThanOrEqual(latest, AccountFeatures.lastHour, "hours are held to the bound ingest keeps")
        let risk = RiskAssessment.assess(members: Array(0..<6), features: result.linker.features)
        XCTAssertTrue(risk.score.isFinite && risk.indicators.allSatisfy { $0.value.isFinite })
    }

    func testTokenCountsAtTheEdgeOfTheirTypeSaturate() {
        var f = AccountFeatures()
        f.addAccount(key: 1, id: "a", createdAt: nil, email: nil, country: nil)
        f.finishAccounts()
        for time in [Self.start, Self.start + Self.hour] {
            f.addExchange(account: 0, at: time, ip: nil, userAgent: nil, inputTokens: .max, outputTokens: .max, hosting: false, capableModel: false)
        }
        f.addExchange(account: 0, at: Self.start + 2 * Self.hour, ip: nil, userAgent: nil, inputTokens: -5, outputTokens: .min,
                      hosting: false, capableModel: false)
        XCTAssertEqual(f.inputTokens[0], .max)
        XCTAssertEqual(f.outputTokens[0], .max)
        XCTAssertEqual(RiskAssessment.assess(members: [0], features: f).indicators.first { $0.name == "output_input_ratio" }?.value, 0)
    }
}
