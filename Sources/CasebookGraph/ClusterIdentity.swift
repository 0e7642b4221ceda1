/// Keeps cluster ids stable across link runs.
///
/// A new cluster takes the id of the previous cluster it shares the most
/// members with, provided it is also that cluster's largest successor; each
/// old id goes to at most one new cluster. The change is named from the
/// overlaps: same, grown, shrunk, merged (members of several old clusters),
/// split (an old cluster's members now in several), or new.
struct ClusterIdentity {
    struct Assignment {
        let clusterID: Int64?
        let change: String
        let previous: [Int64]
    }

    /// - Parameters:
    ///   - clusters: members (account keys) of each new cluster.
    ///   - previousMembership: account key → previous cluster id.
    ///   - previousSizes: previous cluster id → size.
    static func assign(clusters: [[Int64]], previousMembership: [Int64: Int64],
                       previousSizes: [Int64: Int]) -> (assignments: [Assignment], dissolved: [Int64]) {
        var overlaps: [[Int64: Int]] = []
        var successors: [Int64: [(cluster: Int, shared: Int)]] = [:]
        for (index, members) in clusters.enumerated() {
            var counts: [Int64: Int] = [:]
            for member in members { if let old = previousMembership[member] { counts[old, default: 0] += 1 } }
            overlaps.append(counts)
            for (old, shared) in counts { successors[old, default: []].append((index, shared)) }
        }
        var taken = Set<Int64>()
        var assignments: [Assignment] = []
        // Larger overlaps choose first, so the ids go to the clearest continuations.
        let order = clusters.indices.sorted { (overlaps[$0].values.max() ?? 0) > (overlaps[$1].values.max() ?? 0) }
        var byIndex = [Int: Assignment]()
        for index in order {
            let counts = overlaps[index]
            let previous = counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key)
            guard let best = previous.first(where: { old in
                !taken.contains(old) && successors[old]!.max(by: { $0.shared < $1.shared || ($0.shared == $1.shared && $0.cluster > $1.cluster) })!.cluster == index
            }) else {
                byIndex[index] = Assignment(clusterID: nil, change: "new", previous: previous)
                continue
            }
            taken.insert(best)
            let change: String
            if previous.count > 1 { change = "merged" }
            else if successors[best]!.count > 1 { change = "split" }
            else if clusters[index].count > previousSizes[best]! { change = "grown" }
            else if clusters[index].count < previousSizes[best]! || counts[best]! < previousSizes[best]! { change = "shrunk" }
            else { change = "same" }
            byIndex[index] = Assignment(clusterID: best, change: change, previous: previous)
        }
        for index in clusters.indices { assignments.append(byIndex[index]!) }
        let dissolved = previousSizes.keys.filter { !taken.contains($0) }.sorted()
        return (assignments, dissolved)
    }
}
