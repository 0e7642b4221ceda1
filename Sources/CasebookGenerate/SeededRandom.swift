import Foundation

/// A seedable generator (xoshiro256**, seeded by SplitMix64), so that a campaign
/// is the same on every machine and every run for the same `--seed`.
public struct SeededRandom: RandomNumberGenerator {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// An independent stream for one purpose, so adding draws in one place does not shift another.
    func derived(_ salt: UInt64) -> SeededRandom {
        var copy = self
        return SeededRandom(seed: copy.next() ^ (salt &* 0x9E37_79B9_7F4A_7C15))
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// Poisson-distributed count with mean `mean` (normal approximation above 30).
    mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 {
            let u1 = max(unit(), 1e-12), u2 = unit()
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return max(0, Int((mean + normal * mean.squareRoot()).rounded()))
        }
        let limit = exp(-mean)
        var product = unit()
        var count = 0
        while product > limit {
            product *= unit()
            count += 1
        }
        return count
    }

    /// Letters only: generated identifiers never contain digit runs that could look like a card number.
    mutating func letters(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: (0..<count).map { _ in alphabet[int(0..<26)] }, as: UTF8.self)
    }

    mutating func alphanumeric(_ count: Int) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8)
        return String(decoding: (0..<count).map { _ in alphabet[int(0..<alphabet.count)] }, as: UTF8.self)
    }
}

