import CasebookIO
import Foundation

/// What `generate` wrote.
public struct GenerationReport: Sendable {
    public let directory: String
    public let accounts: Int
    public let fraudAccounts: Int
    public let operators: Int
    public let exchanges: Int
    public let files: [String]
    public let groundTruthFile: String
}

/// Writes a synthetic campaign in the input contract: ips.csv, accounts.csv,
/// payments.csv, sharded exchanges-NNN.jsonl.gz, and ground_truth.csv (which
/// `ingest` ignores: its name matches no record kind).
///
/// Exchanges are produced hour by hour in time order, so memory holds one
/// hour of events however large the campaign.
public enum CampaignWriter {
    public static func write(_ spec: CampaignSpec, to directory: String,
                             progress: (Int) -> Void = { _ in }) throws -> GenerationReport {
        try OutputDirectory.create(directory)
        let root = SeededRandom(seed: spec.seed)
        let population = Population.build(spec, random: root)
        var files: [String] = []
        func path(_ name: String) -> String { PathText.join(directory, name) }

        files.append(path("ips.csv"))
        try writeIPs(population, spec: spec, to: files.last!)
        files.append(path("accounts.csv"))
        try writeAccounts(population, spec: spec, to: files.last!)
        files.append(path("payments.csv"))
        try writePayments(population, spec: spec, to: files.last!)
        let truth = path("ground_truth.csv")
        try writeGroundTruth(population, to: truth)
        var random = root.derived(2)
        let (shards, exchanges) = try writeExchanges(population, spec: spec, random: &random, shardPath: { path(String(format: "exchanges-%03d.jsonl.gz", $0)) }, progress: progress)
        files.append(contentsOf: shards)
        return GenerationReport(directory: directory, accounts: population.accounts.count,
                                fraudAccounts: population.accounts.filter { population.operators[$0.operatorIndex].fraud }.count,
                                operators: population.operators.filter(\.fraud).count, exchanges: exchanges,
                                files: files, groundTruthFile: truth)
    }

    // MARK: - Small files

    static func writeIPs(_ p: Population, spec: CampaignSpec, to path: String) throws {
        let rows = p.ips.lazy.filter(\.described).map { ip in
            [ip.text, String(ip.asn), ip.asOrg, ip.country, ip.city ?? "", ip.kind]
        }
        try writeCSV(path, header: "ip,asn,as_org,country,city,kind", rows: rows,
                     planted: spec.faults ? ["203.0.113.7", "AS64500", "Example Net", "US", "", "hosting"] : nil)
    }

    static func writeAccounts(_ p: Population, spec: CampaignSpec, to path: String) throws {
        let rows = p.accounts.lazy.map { account in
            [account.id, TimestampText.rfc3339(account.createdAt), account.email, account.orgID ?? "", account.country,
             p.ips[account.signupIP].text, account.status, account.plan]
        }
        try writeCSV(path, header: "account_id,created_at,email,org_id,country,signup_ip,status,plan", rows: rows,
                     planted: spec.faults ? ["acct-broken0001", "last tuesday", "someone@example.com", "", "US", "", "active", "free"] : nil)
    }

    static func writePayments(_ p: Population, spec: CampaignSpec, to path: String) throws {
        let rows = p.payments.lazy.map { payment -> [String] in
            let account = p.accounts[payment.account]
            let firstUsed = max(account.createdAt, spec.startMilliseconds - 30 * 86_400_000)
            return [account.id, payment.fingerprint, payment.type, payment.brand ?? "", payment.bin ?? "", payment.last4 ?? "",
                    payment.country, payment.postal ?? "", TimestampText.rfc3339(firstUsed),
                    TimestampText.rfc3339(spec.endMilliseconds - 86_400_000), String(payment.chargebacks), ""]
        }
        // A support note that pasted a full card number: must be rejected, never stored.
        let planted = spec.faults ? p.accounts.first.map { first in
            [first.id, "fp_pastedcardnumber", "card", "visa", "411111", "1111", "US", "", "", "", "0",
             "customer wrote 4111 1111 1111 1111 in the ticket"]
        } : nil
        try writeCSV(path, header: "account_id,fingerprint,type,brand,bin,last4,country,billing_postal,first_used,last_used,chargebacks,note",
                     rows: rows, planted: planted)
    }

    static func writeGroundTruth(_ p: Population, to path: String) throws {
        let rows = p.accounts.lazy.map { account -> [String] in
            let op = p.operators[account.operatorIndex]
            return [account.id, op.fraud ? "fraud" : "benign", op.id, op.type]
        }
        try writeCSV(path, header: "account_id,label,operator_id,operator_type", rows: rows, planted: nil)
    }

    /// One CSV file: header, rows, and (with --faults) a malformed record planted at the end.
    static func writeCSV<Rows: Sequence>(_ path: String, header: String, rows: Rows, planted: [String]?) throws
        where Rows.Element == [String] {
        let out = try OutputFile(path: path)
        try out.write(header + "\n")
        for row in rows { try out.write(csvRow(row)) }
        if let planted { try out.write(csvRow(planted)) }
        try out.finish()
    }

    static func csvRow(_ cells: [String]) -> String {
        cells.map { cell in
            guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
            return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\n"
    }

    // MARK: - Exchanges

    static func writeExchanges(_ p: Population, spec: CampaignSpec, random: inout SeededRandom,
                               shardPath: (Int) -> String, progress: (Int) -> Void) throws -> ([String], Int) {
        var shards: [String] = []
        var out: OutputFile?
        var written = 0
        var events: [(ts: Int64, account: Int32)] = []
        var line = ""
        line.reserveCapacity(4096)

        func emit(_ text: String) throws {
            if written % spec.shardSize == 0 {
                try out?.finish()
                shards.append(shardPath(shards.count))
                out = try OutputFile(path: shards.last!, gzipLevel: 1)
            }
            try out!.write(text)
            written += 1
        }

        for hour in 0..<spec.hours {
            let hourStart = spec.startMilliseconds + Int64(hour) * 3_600_000
            events.removeAll(keepingCapacity: true)
            for (index, account) in p.accounts.enumerated() where account.createdAt < hourStart + 3_600_000 {
                if let until = account.activeUntil, until <= hourStart { continue }
                let multiplier = activity(account, hour: hour, operators: p.operators)
                guard multiplier > 0 else { continue }
                let count = random.poisson(account.rate * multiplier)
                guard count > 0 else { continue }
                let earliest = max(hourStart, account.createdAt)
                let span = Int(min(hourStart + 3_600_000, account.activeUntil ?? .max) - earliest)
                for _ in 0..<count {
                    events.append((earliest + Int64(random.int(0..<max(span, 1))), Int32(index)))
                }
            }
            events.sort { $0.ts < $1.ts || ($0.ts == $1.ts && $0.account < $1.account) }
            for event in events {
                line.removeAll(keepingCapacity: true)
                exchangeLine(id: written + 1, event: event, population: p, random: &random, into: &line)
                try emit(line)
                if spec.faults && written % 2_000 == 0 {
                    try emit(faultyLine(number: written / 2_000, previous: line, random: &random))
                }
            }
            progress(written)
        }
        try out?.finish()
        return (shards, written)
    }

    /// The hourly activity multiplier: 0 when the account is idle.
    static func activity(_ account: Population.Account, hour: Int, operators: [Population.Operator]) -> Double {
        switch account.activity {
        case .constant: return 1
        case let .diurnal(offset):
            let local = Double((hour + offset + 24) % 24)
            let weekday = (hour / 24) % 7 < 5 ? 1.1 : 0.75
            return max(0, 1 + 0.8 * sin((local - 9) / 24 * 2 * Double.pi)) * weekday
        case .bursts:
            return operators[account.operatorIndex].burstHours[hour] ? 1 : 0
        }
    }

    static func exchangeLine(id: Int, event: (ts: Int64, account: Int32), population p: Population,
                             random: inout SeededRandom, into line: inout String) {
        let account = p.accounts[Int(event.account)]
        let op = p.operators[account.operatorIndex]
        var prompt = ""
        var response = ""
        let usesTemplate = !op.templates.isEmpty && (op.templateShare >= 1 || random.chance(op.templateShare))
        if usesTemplate {
            let template = account.ownTemplate.map { op.templates[$0] } ?? random.pick(op.templates)
            template.render(&random, into: &prompt)
            PromptFactory.reasoningResponse(&random, into: &response)
        } else {
            PromptFactory.benignPrompt(&random, into: &prompt)
            PromptFactory.benignResponse(&random, into: &response)
        }
        let model = account.prefersFrontier
            ? (random.chance(0.85) ? Population.models[0] : Population.models[1])
            : Population.models[random.int(0..<Population.models.count)]
        let ip = account.requestIPs[random.chance(0.7) ? 0 : random.int(0..<account.requestIPs.count)]
        let inputTokens = prompt.utf8.count / 4 + random.int(5...40)
        let outputTokens = op.fraud || op.type == "eval_company" ? random.int(800...4000) : random.int(30...900)
        let status = op.fraud && random.chance(0.03) ? 429 : (random.chance(0.004) ? 500 : 200)
        line += "{\"exchange_id\":\"ex-\(zeroPadded(id, 10))\",\"account_id\":\"\(account.id)\",\"ts\":\"\(TimestampText.rfc3339(event.ts))\""
        line += ",\"model\":\"\(model)\",\"api_key_id\":\"\(account.apiKey)\",\"ip\":\"\(p.ips[ip].text)\",\"user_agent\":"
        line += JSONText.string(p.userAgents[account.userAgent])
        line += ",\"input_tokens\":\(inputTokens),\"output_tokens\":\(outputTokens),\"status\":\(status),\"latency_ms\":\(outputTokens * 18 + random.int(80...900))"
        line += ",\"prompt\":" + JSONText.string(prompt) + ",\"response\":" + JSONText.string(response) + "}\n"
    }

    /// One malformed record, of a rotating kind, to exercise every reject reason.
    static func faultyLine(number: Int, previous: String, random: inout SeededRandom) -> String {
        switch number % 6 {
        case 0: return "{\"exchange_id\":\"ex-fault-\(number)\",\"ts\":\"2026-01-10T10:00:00Z\",\"prompt\":\"no account\"}\n"
        case 1: return "{\"exchange_id\":\"ex-fault-\(number)\",\"account_id\":\"acct-orphan\",\"ts\":\"yesterday\"}\n"
        case 2: return "{\"exchange_id\":\"ex-fault-\(number)\",\"account_id\":\"acct-orphan\",\"ts\":1767600000,\n"
        case 3: return "{\"exchange_id\":\"ex-fault-\(number)\",\"account_id\":\"acct-orphan\",\"ts\":1767600000,\"ip\":\"999.1.2.3\"}\n"
        case 4: return previous
        default:
            // Same exchange id as the line before, different content: a conflict.
            return previous.replacingOccurrences(of: "\"status\":", with: "\"status\":1")
        }
    }
}

/// `value` written with at least `width` digits.
private func zeroPadded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
