import CasebookStore
import Foundation

/// A cluster's risk: each indicator in [0, 1], and their weighted mean, discounted by
/// half the share of accounts that name an organisation.
///
/// The weights favour what separates harvesting from heavy legitimate use: a
/// company with many accounts on one card is one operator but scores low,
/// because its prompts do not coerce reasoning, its traffic follows office
/// hours and its outputs are not long answers to short prompts. A company that
/// evaluates models does all of that on purpose, under its own organisation,
/// domain and network: the discount is what tells it from an operator hiding
/// behind throwaway identities.
public struct RiskAssessment: Sendable {
    public let score: Double
    public let indicators: [(name: String, value: Double)]

    static let weights: [String: Double] = [
        "reasoning_coercion": 3, "rubric_grading": 1, "template_repetition": 2, "capable_model_share": 1,
        "volume": 1, "machine_timing": 1.5, "output_input_ratio": 1, "chargebacks": 0.5,
        "hosting_ip_share": 1, "signup_burst": 1, "accounts": 1,
    ]

    static func assess(members: [Int], features f: AccountFeatures) -> RiskAssessment {
        func share(_ part: (Int) -> Int, of whole: (Int) -> Int) -> Double {
            let total = members.reduce(0) { $0 + whole($1) }
            return total == 0 ? 0 : Double(members.reduce(0) { $0 + part($1) }) / Double(total)
        }
        let exchanges = members.reduce(0) { $0 + f.exchanges[$1] }
        let firstHour = members.compactMap { f.activeHours[$0].first }.min() ?? 0
        let lastHour = members.compactMap { f.activeHours[$0].last }.max() ?? firstHour
        let days = Double(lastHour - firstHour) / 24 + 1
        let perAccountDaily = Double(exchanges) / Double(members.count) / max(days, 1)
        var hours = Array(repeating: 0.0, count: 24)
        for member in members { for h in 0..<24 { hours[h] += Double(f.hourOfDay[member * 24 + h]) } }
        let totalHours = hours.reduce(0, +)
        let entropy = totalHours == 0 ? 0 : -hours.filter { $0 > 0 }.map { $0 / totalHours * log2($0 / totalHours) }.reduce(0, +) / log2(24)
        let input = Double(members.reduce(0) { $0.saturatingSum(f.inputTokens[$1]) })
        let output = Double(members.reduce(0) { $0.saturatingSum(f.outputTokens[$1]) })
        let created = members.compactMap { f.createdAt[$0] }.sorted()
        var burst = 0
        var start = 0
        for end in created.indices {
            while created[end] - created[start] > 86_400_000 { start += 1 }
            burst = max(burst, end - start + 1)
        }
        let templated = members.filter { !f.templatePhrases[$0].isEmpty }.count

        let indicators: [(String, Double)] = [
            ("reasoning_coercion", share({ f.coercivePrompts[$0] }, of: { f.sampledPrompts[$0] })),
            ("rubric_grading", share({ f.rubricPrompts[$0] }, of: { f.sampledPrompts[$0] })),
            ("template_repetition", Double(templated) / Double(members.count)),
            ("capable_model_share", share({ f.capableModelExchanges[$0] }, of: { f.exchanges[$0] })),
            ("volume", min(1, log10(max(perAccountDaily, 1)) / 2)),
            ("machine_timing", max(0, min(1, (entropy - 0.85) / 0.15))),
            ("output_input_ratio", input == 0 ? 0 : min(1, max(0, log10(max(output / input, 1)) / 1.3))),
            ("chargebacks", share({ f.chargebackInstruments[$0] }, of: { f.instruments[$0] })),
            ("hosting_ip_share", share({ f.hostingExchanges[$0] }, of: { f.exchanges[$0] })),
            ("signup_burst", created.count < 3 ? 0 : Double(burst) / Double(created.count)),
            ("accounts", min(1, log10(Double(members.count)) / 3)),
        ]
        let totalWeight = indicators.reduce(0) { $0 + weights[$1.0]! }
        let organisation = Double(members.filter { f.hasOrganisation[$0] }.count) / Double(members.count)
        let score = indicators.reduce(0) { $0 + weights[$1.0]! * $1.1 } / totalWeight * (1 - organisation / 2)
        return RiskAssessment(score: (score * 1000).rounded() / 1000,
                              indicators: (indicators + [(Schema.discountIndicator, organisation)]).map { ($0.0, ($0.1 * 1000).rounded() / 1000) })
    }

    /// The indicators as a JSON object, highest first.
    var json: String {
        "{" + indicators.sorted { $0.value > $1.value || ($0.value == $1.value && $0.name < $1.name) }.map { "\"\($0.name)\":\($0.value)" }.joined(separator: ",") + "}"
    }
}
