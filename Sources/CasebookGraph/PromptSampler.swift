/// Reads a sample of each account's prompts for two things: the phrases that
/// recur across them (an operator's template, whatever its fillers), and
/// whether they coerce the model into writing out its reasoning.
struct PromptSampler {
    struct Traits {
        let coercive: Bool
        let rubric: Bool
    }

    private let parameters: LinkParameters

    init(parameters: LinkParameters) { self.parameters = parameters }

    /// Wording that asks for the reasoning itself, not just the answer.
    static let coercionMarkers = ["step by step", "chain of thought", "your reasoning", "reasoning process",
                                  "internal reasoning", "<thinking>", "<reasoning>", "<scratchpad>", "think out loud",
                                  "think aloud", "show every step", "each step", "show your work", "intermediate step",
                                  "reasoning is better", "reasoning is preferred", "of reasoning"]
    static let rubricMarkers = ["rubric", "grade the", "score from 1", "criterion", "criteria", "evaluate the response",
                                "assess the response"]

    static func traits(_ prompt: String) -> Traits {
        let lower = prompt.lowercased()
        return Traits(coercive: coercionMarkers.contains { lower.contains($0) },
                      rubric: rubricMarkers.contains { lower.contains($0) })
    }

    /// The phrases (word 3-grams) in at least `templatePhraseShare` of an account's sampled
    /// prompts: an operator's fixed wording survives, the per-request fillers do not.
    func recurringPhrases(_ prompts: [String]) -> [UInt64] {
        guard prompts.count >= parameters.templateMinPrompts else { return [] }
        var counts: [UInt64: Int] = [:]
        for prompt in prompts {
            for phrase in Set(Self.phrases(prompt)) { counts[phrase, default: 0] += 1 }
        }
        let minimum = max(3, Int((Double(prompts.count) * parameters.templatePhraseShare).rounded(.up)))
        let recurring = counts.filter { $0.value >= minimum }.map(\.key).sorted()
        return recurring.count >= parameters.templateMinPhrases ? recurring : []
    }

    /// Drops phrases found in so many accounts' templates that they are generic wording.
    func withoutCommonPhrases(_ perAccount: [[UInt64]]) -> [[UInt64]] {
        var accountsPerPhrase: [UInt64: Int] = [:]
        for phrases in perAccount { for phrase in phrases { accountsPerPhrase[phrase, default: 0] += 1 } }
        let cap = max(parameters.templatePhraseMaxAccounts, Int(Double(perAccount.count) * parameters.templatePhraseMaxShare))
        return perAccount.map { phrases in phrases.filter { accountsPerPhrase[$0]! <= cap } }
    }

    static func phrases(_ text: String) -> [UInt64] {
        let words = normalizedWords(text)
        guard words.count >= 3 else { return [] }
        return (0...(words.count - 3)).map { start in
            words[start] &* 0x9E37_79B9_7F4A_7C15 ^ (words[start + 1] &* 0xC2B2_AE3D_27D4_EB4F) ^ (words[start + 2] &* 0x1656_67B1_9E37_79F9)
        }
    }

    /// Lower-case words with every digit run replaced by one "0", hashed.
    static func normalizedWords(_ text: String) -> [UInt64] {
        var words: [UInt64] = []
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var inWord = false
        var inNumber = false
        func finish() {
            if inWord { words.append(hash) }
            hash = 0xCBF2_9CE4_8422_2325
            inWord = false
            inNumber = false
        }
        for byte in text.utf8 {
            var c = byte
            if c >= 65 && c <= 90 { c += 32 }
            let isDigit = c >= 48 && c <= 57
            let isLetter = (c >= 97 && c <= 122) || c >= 0x80
            if isDigit {
                if !inNumber { hash = (hash ^ 48) &* 0x100_0000_01B3 }
                inNumber = true
                inWord = true
            } else if isLetter || c == UInt8(ascii: "<") || c == UInt8(ascii: ">") {
                inNumber = false
                hash = (hash ^ UInt64(c)) &* 0x100_0000_01B3
                inWord = true
            } else {
                finish()
            }
        }
        finish()
        return words
    }
}
