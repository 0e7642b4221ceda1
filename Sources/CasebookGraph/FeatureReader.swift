import Foundation
import CasebookIO
import CasebookStore

/// Reads `AccountFeatures` from a case file, one pass over each fact table.
enum FeatureReader {
    static func read(_ database: Database, parameters: LinkParameters, progress: (String) -> Void) throws -> AccountFeatures {
        var f = AccountFeatures()
        progress("reading accounts")
        // Placeholders (`Placeholder`) are read as absent throughout: shared by every account an
        // export knew nothing about, they would link strangers and split an operator's accounts
        // into those with and without the data.
        var absent = AbsentValues()
        for row in try database.prepare("SELECT account_pk, account_id, created_at_ms, email, country, org_id FROM account_rows ORDER BY account_pk")
            .rows([], { ($0.int64(0), $0.string(1) ?? "", $0.optionalInt64(2), $0.string(3), $0.string(4), $0.string(5)) }) {
            // An account id that stands for none (`NULL`, `\N`) gathers the exchanges an export
            // could not attribute, many people's: no account of anyone's, so nothing to link.
            if Placeholder.isPlaceholder(row.1) {
                absent.note("account_id", row.1, account: Int(truncatingIfNeeded: row.0))
                continue
            }
            let email = known(row.3, Placeholder.isPlaceholderEmail), country = known(row.4, Placeholder.isPlaceholderCountry)
            let organisation = known(row.5, Placeholder.isPlaceholder)
            let createdAt = row.2.flatMap { Placeholder.isPlaceholderTime(milliseconds: $0) ? nil : $0 }
            let index = f.addAccount(key: row.0, id: row.1, createdAt: createdAt, email: email, country: country, organisation: organisation)
            if let ms = row.2, createdAt == nil { absent.note("created_at", TimestampText.rfc3339(ms), account: index) }
            if let text = row.3, email == nil {
                absent.note("email", Placeholder.isPlaceholder(text) ? text : "@" + (EmailText.domain(of: text.lowercased()) ?? ""), account: index)
            }
            if let text = row.4, country == nil { absent.note("country", text, account: index) }
            if let text = row.5, organisation == nil { absent.note("org_id", text, account: index) }
        }
        f.finishAccounts()
        f.splitIDs = splitIDs(f.accountIDs)

        progress("reading payments")
        for (account, fingerprint, bin, chargebacks) in try database.prepare(
            "SELECT account_pk, fingerprint, bin, coalesce(chargebacks, 0) FROM payment_rows"
        ).rows([], { ($0.int64(0), $0.string(1) ?? "", $0.string(2), $0.int(3)) }) {
            guard let index = f.index(ofKey: account) else { continue }
            let card = known(fingerprint, Placeholder.isPlaceholder), knownBIN = known(bin, Placeholder.isPlaceholder)
            f.addPayment(account: index, fingerprint: card, bin: knownBIN, chargebacks: chargebacks)
            if card == nil { absent.note("fingerprint", fingerprint, account: index) }
            if let bin, knownBIN == nil { absent.note("bin", bin, account: index) }
        }

        var placeholderIPs: [Int64: String] = [:]
        for (key, ip, kind) in try database.prepare("SELECT ip_pk, ip, kind FROM ip_rows")
            .rows([], { ($0.int64(0), $0.string(1) ?? "", $0.string(2)) }) {
            if Placeholder.isPlaceholderIP(ip) { placeholderIPs[key] = ip } else { f.describeIP(key: key, text: ip, kind: kind) }
        }
        var placeholderAgents: [Int64: String] = [:]
        for (key, text) in try database.prepare("SELECT user_agent_pk, text FROM user_agents").rows([], { ($0.int64(0), $0.string(1) ?? "") }) {
            if Placeholder.isPlaceholder(text) { placeholderAgents[key] = text } else { f.userAgentText[key] = text }
        }
        for (account, ip) in try database.prepare("SELECT account_pk, signup_ip_pk FROM account_rows WHERE signup_ip_pk IS NOT NULL")
            .rows([], { ($0.int64(0), $0.int64(1)) }) {
            guard let index = f.index(ofKey: account) else { continue }
            if let text = placeholderIPs[ip] {
                absent.note("signup_ip", text, account: index)
            } else if let createdAt = f.createdAt[index] {
                // Without a sign-up time the address cannot be placed beside another account's use of it.
                f.noteIP(ip, at: createdAt, account: index)
            }
        }
        let capableModels = Set(try database.prepare("SELECT model_pk, name FROM models").rows([], { ($0.int64(0), $0.string(1) ?? "") })
            .filter { model in parameters.capableModelMarkers.contains { model.1.lowercased().contains($0) } }.map(\.0))
        let hostingKinds: Set<String> = ["hosting", "proxy", "vpn", "tor"]
        // Lookup tables by key (keys are small dense integers) for the 29-million-row loop.
        var isHostingIP = Array(repeating: false, count: Int(f.ipKind.keys.max() ?? 0) + 1)
        for (ip, kind) in f.ipKind where hostingKinds.contains(kind) && ip >= 0 { isHostingIP[Int(ip)] = true }
        var isCapableModel = Array(repeating: false, count: Int(capableModels.max() ?? 0) + 1)
        for model in capableModels where model >= 0 { isCapableModel[Int(model)] = true }
        // SQLite answers this from the covering index exchange_rows_by_account_ts (a twentieth
        // of the table's bytes, without the prompts), in that order without sorting; the ORDER BY
        // makes the order a guarantee rather than a property of the plan.
        let scan = try database.prepare("""
            SELECT account_pk, ts_ms, ip_pk, user_agent_pk, model_pk, input_tokens, output_tokens, exchange_pk FROM exchange_rows
            ORDER BY account_pk, ts_ms
            """)
        var sample: [(rowID: Int64, account: Int32)] = []
        var sampled = Array(repeating: 0, count: f.count)

        progress("reading exchanges")
        var rows = 0
        while try scan.step() {
            rows += 1
            if rows % 1_000_000 == 0 { progress("reading exchanges: \(rows / 1_000_000) million") }
            guard let index = f.index(ofKey: scan.int64(0)) else { continue }
            // The index yields each account's exchanges in time order: its first ones are the sample.
            if sampled[index] < parameters.templateSamplePrompts {
                sample.append((scan.int64(7), Int32(index)))
                sampled[index] += 1
            }
            var ip: Int64? = scan.isNull(2) ? nil : scan.int64(2)
            var agent: Int64? = scan.isNull(3) ? nil : scan.int64(3)
            if !placeholderIPs.isEmpty, let key = ip, let text = placeholderIPs[key] {
                absent.note("ip", text, account: index)
                ip = nil
            }
            if !placeholderAgents.isEmpty, let key = agent, let text = placeholderAgents[key] {
                absent.note("user_agent", text, account: index)
                agent = nil
            }
            let model = scan.isNull(4) ? -1 : Int(scan.int64(4))
            // A time written for none (the epoch's 0), or before 1970, would make every account that
            // has one active in one hour.
            var ts: Int64? = scan.int64(1)
            if let ms = ts, let unplaced = Placeholder.unplacedExchangeTime(milliseconds: ms) {
                absent.note("ts", unplaced, account: index)
                ts = nil
            }
            f.addExchange(account: index, at: ts, ip: ip, userAgent: agent,
                          inputTokens: scan.int(5), outputTokens: scan.int(6),
                          hosting: ip.map { $0 >= 0 && Int($0) < isHostingIP.count && isHostingIP[Int($0)] } ?? false,
                          capableModel: model >= 0 && model < isCapableModel.count && isCapableModel[model])
        }
        scan.reset()
        f.finishExchanges()
        f.placeholders = absent.uses
        try samplePrompts(database, into: &f, sample: sample, parameters: parameters, progress: progress)
        return f
    }

    /// The placeholders read as absent, by field and value, with the accounts that had each.
    private struct AbsentValues {
        private var accounts: [PlaceholderUse.Key: Set<Int32>] = [:]

        mutating func note(_ field: String, _ value: String, account: Int) {
            accounts[PlaceholderUse.Key(field: field, value: value), default: []].insert(Int32(truncatingIfNeeded: account))
        }

        /// Most accounts first.
        var uses: [PlaceholderUse] {
            accounts.map { PlaceholderUse(field: $0.key.field, value: $0.key.value, accounts: $0.value.count) }
                .sorted { ($0.accounts, $1.field, $1.value) > ($1.accounts, $0.field, $0.value) }
        }
    }

    /// The ids that are another account's id written another way, sorted: as a decimal (`1001.0`
    /// for `1001`: pandas writes an integer column with a gap as floats) or with white space
    /// around it (`" a1"`, as fixed-width exports pad). One account is then two.
    static func splitIDs(_ ids: [String]) -> [SplitID] {
        let known = Set(ids)
        return ids.compactMap { id -> SplitID? in
            if id.first?.isWhitespace == true || id.last?.isWhitespace == true {
                let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
                return !trimmed.isEmpty && known.contains(trimmed) ? SplitID(id: id, sameAs: trimmed, form: .padded) : nil
            }
            guard let dot = id.firstIndex(of: "."), dot != id.startIndex else { return nil }
            let whole = id[..<dot], fraction = id[id.index(after: dot)...]
            let digits = whole.hasPrefix("-") ? whole.dropFirst() : whole
            guard !fraction.isEmpty, fraction.allSatisfy({ $0 == "0" }), !digits.isEmpty,
                  digits.allSatisfy({ ("0"..."9").contains($0) }), known.contains(String(whole)) else { return nil }
            return SplitID(id: id, sameAs: String(whole), form: .decimal)
        }.sorted { $0.id < $1.id }
    }

    /// `value`, or nil when it is absent or a placeholder.
    private static func known(_ value: String?, _ isPlaceholder: (String) -> Bool) -> String? {
        guard let value, !isPlaceholder(value) else { return nil }
        return value
    }

    /// Each account's first prompts in time (`sample`: their row ids, found during the index
    /// scan), fetched in table order: on a cold cache that is one pass through the file
    /// instead of millions of random reads.
    static func samplePrompts(_ database: Database, into f: inout AccountFeatures, sample: [(rowID: Int64, account: Int32)],
                              parameters: LinkParameters, progress: (String) -> Void) throws {
        progress("sampling prompts")
        var tallies = PromptTallies(count: f.count, parameters: parameters)
        let ordered = sample.sorted { $0.rowID < $1.rowID }
        // Walk the table in row-id order from the first sampled row, picking the sampled ones,
        // and seek ahead over long stretches that hold none.
        let walk = try database.prepare("SELECT exchange_pk, prompt FROM exchange_rows WHERE exchange_pk >= ?1 ORDER BY exchange_pk")
        var position = 0
        while position < ordered.count {
            walk.bind(1, ordered[position].rowID)
            var seekAhead = false
            while try walk.step() {
                let rowID = walk.int64(0)
                while position < ordered.count && ordered[position].rowID < rowID { position += 1 }
                guard position < ordered.count else { break }
                guard ordered[position].rowID == rowID else { continue }
                if let prompt = walk.string(1) { tallies.add(prompt, account: Int(ordered[position].account), to: &f) }
                position += 1
                if position % 500_000 == 0 { progress("sampling prompts: \(position / 1_000) thousand") }
                if position < ordered.count && ordered[position].rowID - rowID > 4_096 {
                    seekAhead = true
                    break
                }
            }
            walk.reset()
            if !seekAhead { break }
        }
        tallies.finish(into: &f)
    }
}
