import CasebookIO
import CasebookStore
import Foundation

/// What a link run found that bears on every cluster (`link_run_caveats`): the case file
/// looks like one operator's accounts alone, placeholders read as absent, account ids that
/// are other accounts' ids written another way. Said by `casebook link`, the TUI and an
/// evidence bundle's report in the same sentences.
public struct LinkCaveats: Sendable, Equatable, Decodable {
    public struct SharedValue: Sendable, Equatable, Decodable {
        public let signal: String
        public let value: String
        public let accounts: Int
    }

    public struct PlaceholderValue: Sendable, Equatable, Decodable {
        public let field: String
        public let value: String
        public let accounts: Int
    }

    public struct SplitAccount: Sendable, Equatable, Decodable {
        public let id: String
        public let sameAs: String
        /// `decimal` (`1001.0` for `1001`) or `padded` (`" a1"` for `a1`).
        public let form: String

        enum CodingKeys: String, CodingKey {
            case id, form
            case sameAs = "same_as"
        }
    }

    /// The identity traits of which the case file holds one value ("country", "client").
    public let uniformTraits: [String]
    /// In such a file, the values shared by more than a few accounts that weighed nothing.
    public let uncontrasted: [SharedValue]
    public let placeholders: [PlaceholderValue]
    public let splitIDs: [SplitAccount]

    enum CodingKeys: String, CodingKey {
        case uncontrasted, placeholders
        case uniformTraits = "uniform_traits"
        case splitIDs = "split_ids"
    }

    /// Missing keys read as empty: a redacted bundle keeps only some of them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uniformTraits = try c.decodeIfPresent([String].self, forKey: .uniformTraits) ?? []
        uncontrasted = try c.decodeIfPresent([SharedValue].self, forKey: .uncontrasted) ?? []
        placeholders = try c.decodeIfPresent([PlaceholderValue].self, forKey: .placeholders) ?? []
        splitIDs = try c.decodeIfPresent([SplitAccount].self, forKey: .splitIDs) ?? []
    }

    /// Why an account whose id is a placeholder (`NULL`, `\N`) is in no cluster, after "its id
    /// is" or "NULL is": said by `explain` and the TUI alike.
    public static let placeholderAccount = "a placeholder an export writes where it has no account: it holds the exchanges "
        + "the export could not attribute, whoever sent them, and the link run leaves it out."

    /// The caveats of run `runID`; nil for a run of a case file older than schema version 6.
    public static func of(run runID: Int64, in database: Database) throws -> LinkCaveats? {
        guard try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'link_run_caveats'") == 1,
              let text = try database.prepare("SELECT caveats FROM link_run_caveats WHERE run_id = ?1").rows([runID], { $0.string(0) }).first ?? nil
        else { return nil }
        return try JSONDecoder().decode(LinkCaveats.self, from: Data(text.utf8))
    }

    /// One sentence for each kind of caveat the run has, in the order of their weight.
    public var sentences: [String] { [contrast, placeholdersRead, splitAccounts].compactMap { $0 } }

    /// The same in one short line each, for a screen's header.
    public var headlines: [String] {
        var lines: [String] = []
        if !uncontrasted.isEmpty, !uniformTraits.isEmpty {
            lines.append("one \(uniformTraits.joined(separator: " and ")) throughout, as one operator's accounts alone: "
                         + "\(NumberText.grouped(uncontrasted.count)) shared value(s) weighed nothing (casebook link says why)")
        }
        if let first = placeholders.first {
            lines.append("placeholders read as absent: \(first.field) \"\(Printable.escaped(first.value))\" (\(NumberText.grouped(first.accounts)) "
                         + "account\(first.accounts == 1 ? "" : "s"))" + (placeholders.count > 1 ? " and \(placeholders.count - 1) more" : ""))
        }
        if let first = splitIDs.first {
            lines.append("\(NumberText.grouped(splitIDs.count)) account id(s) written two ways, one account as two: "
                         + "\"\(Printable.escaped(first.id))\" is \(Printable.escaped(first.sameAs))")
        }
        return lines
    }

    /// Why shared values weighed nothing in a case file of one kind of account, and what to
    /// load so that they count. Nothing to say when every value could be judged all the same.
    var contrast: String? {
        // The link run lists such values only for a file with two uniform traits or more.
        guard !uncontrasted.isEmpty, let last = uniformTraits.last else { return nil }
        let traits = uniformTraits.dropLast().joined(separator: ", ") + " and " + last
        let listed = uncontrasted.sorted { ($0.accounts, $1.signal, $1.value) > ($1.accounts, $0.signal, $0.value) }.prefix(5)
            .map { "\($0.signal) \(Printable.escaped($0.value)) (\(NumberText.grouped($0.accounts)) accounts)" }.joined(separator: ", ")
        return "nearly every account in the case file has one \(traits), as one operator's accounts alone would; "
            + "\(uncontrasted.count) value(s) shared by more than a few accounts were judged by the traits the file varies "
            + "alone, and weighed nothing: \(listed)" + (uncontrasted.count > 5 ? " and \(uncontrasted.count - 5) more" : "")
            + ". To have them weighed against strangers, ingest these accounts together with the accounts around "
            + "them (the platform's other accounts of the same period)."
    }

    /// Accounts split in two: ids that are other accounts' ids written another way.
    var splitAccounts: String? {
        guard !splitIDs.isEmpty else { return nil }
        let listed = splitIDs.prefix(3).map { split -> String in
            let how = split.form == "decimal" ? "as a decimal" : "with spaces around it"
            return "\"\(Printable.escaped(split.id))\" is \(Printable.escaped(split.sameAs)) \(how)"
        }.joined(separator: ", ")
        var why: [String] = []
        if splitIDs.contains(where: { $0.form == "decimal" }) {
            why.append("pandas writes integer ids with a gap as floats (astype(\"Int64\") writes them as integers)")
        }
        if splitIDs.contains(where: { $0.form == "padded" }) { why.append("fixed-width exports pad ids with spaces") }
        let count = splitIDs.count
        return "\(NumberText.grouped(count)) account id\(count == 1 ? " is another account's id" : "s are other accounts' ids") "
            + "written another way, so one account is two in the case file: \(listed)\(count > 3 ? ", … (casebook link --json lists them)" : ""); "
            + why.joined(separator: "; ") + ". Write each id one way in every file and ingest them into a new case file."
    }

    /// The placeholders read as absent: each is data the export did not have, which no link could use.
    var placeholdersRead: String? {
        guard !placeholders.isEmpty else { return nil }
        let listed = placeholders.prefix(5).map {
            "\($0.field) \"\(Printable.escaped($0.value))\" (\(NumberText.grouped($0.accounts)) account\($0.accounts == 1 ? "" : "s"))"
        }.joined(separator: ", ")
        let wrongTimes = placeholders.contains { $0.value == Placeholder.timeBefore1970 }
        return "read as absent, as placeholders an export writes where it has no value: \(listed)"
            + (placeholders.count > 5 ? " and \(placeholders.count - 5) more (casebook link --json lists them)" : "")
            + (wrongTimes ? "; a time \(Placeholder.timeBefore1970) is no placeholder but a clock or sign error, "
                + "as no exchange with a model's API was made then" : "")
    }
}
