/// MinHash with banding: groups sets that are probably similar into buckets,
/// so only accounts in a common bucket are compared (not all pairs).
///
/// 32 hash functions in 8 bands of 4: a pair with Jaccard similarity 0.6
/// shares a bucket with probability 1 - (1 - 0.6^4)^8, about 0.67 per pair, and
/// far more often through the other members of its operator.
enum MinHash {
    static let bands = 8
    static let rows = 4

    static func buckets(_ sets: [[UInt64]], minimumSize: Int) -> [[Int32]] {
        let functions = bands * rows
        var table: [UInt64: [Int32]] = [:]
        for (account, set) in sets.enumerated() where set.count >= minimumSize {
            var signature = Array(repeating: UInt64.max, count: functions)
            for element in set {
                for f in 0..<functions {
                    let h = mix(element ^ (UInt64(f) &* 0x9E37_79B9_7F4A_7C15))
                    if h < signature[f] { signature[f] = h }
                }
            }
            for band in 0..<bands {
                var key = UInt64(band) &* 0xD6E8_FEB8_6659_FD93
                for row in 0..<rows { key = mix(key ^ signature[band * rows + row]) }
                table[key, default: []].append(Int32(account))
            }
        }
        return table.values.filter { $0.count >= 2 }.sorted { $0[0] < $1[0] || ($0[0] == $1[0] && $0.count < $1.count) }
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Exact Jaccard similarity of two sorted arrays of distinct elements.
    static func jaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 0 }
        var i = 0, j = 0, shared = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { shared += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        return Double(shared) / Double(a.count + b.count - shared)
    }
}
