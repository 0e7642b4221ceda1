#if canImport(Glibc)
import Glibc
#endif

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

    private static let coercionBytes = coercionMarkers.map { Array($0.utf8) }
    private static let rubricBytes = rubricMarkers.map { Array($0.utf8) }

    /// Byte-level (ASCII case-folded) marker search: Foundation's `String.contains`
    /// took most of a campaign-scale link run.
    static func traits(_ prompt: String) -> Traits {
        var lower = Array(prompt.utf8)
        for i in lower.indices where lower[i] >= 65 && lower[i] <= 90 { lower[i] += 32 }
        return lower.withUnsafeBytes { text in
            func contains(_ needle: [UInt8]) -> Bool {
                guard let base = text.baseAddress, needle.count <= text.count else { return false }
                let last = text.count - needle.count
                var from = 0
                while from <= last, let hit = memchr(base + from, Int32(needle[0]), last - from + 1) {
                    if memcmp(hit, needle, needle.count) == 0 { return true }
                    from = base.distance(to: UnsafeRawPointer(hit)) + 1
                }
                return false
            }
            return Traits(coercive: coercionBytes.contains(where: contains), rubric: rubricBytes.contains(where: contains))
        }
    }

    /// A prompt's distinct phrases (word 3-grams) as sorted 32-bit hashes: compact enough to
    /// tally 24 prompts of every account at once.
    static func distinctPhrases(_ prompt: String) -> [UInt32] {
        let hashes = phrases(prompt).map { UInt32(truncatingIfNeeded: $0 >> 32) }.sorted()
        var distinct: [UInt32] = []
        distinct.reserveCapacity(hashes.count)
        for hash in hashes where distinct.last != hash { distinct.append(hash) }
        return distinct
    }

    /// The phrases in at least `templatePhraseShare` (and three) of an account's sampled prompts,
    /// from the distinct phrases of each prompt put together: an operator's fixed wording
    /// survives, the per-request fillers do not.
    func recurringPhrases(tally: [UInt32], prompts: Int) -> [UInt64] {
        guard prompts >= parameters.templateMinPrompts else { return [] }
        let minimum = max(3, Int((Double(prompts) * parameters.templatePhraseShare).rounded(.up)))
        let sorted = tally.sorted()
        var recurring: [UInt64] = []
        var start = 0
        while start < sorted.count {
            var end = start + 1
            while end < sorted.count && sorted[end] == sorted[start] { end += 1 }
            if end - start >= minimum { recurring.append(UInt64(sorted[start])) }
            start = end
        }
        return recurring.count >= parameters.templateMinPhrases ? recurring : []
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
