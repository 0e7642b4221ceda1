import ArgumentParser
import CasebookCases
import CasebookIO
import CasebookStore
import Foundation

extension CaseStatus: ExpressibleByArgument {}
extension Confidence: ExpressibleByArgument {}

extension Casebook {
    struct Case: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "case",
            abstract: "Open and work cases: status, assignee, notes and tags, each change in the audit log.",
            discussion: """
                A target is case:ID (or just ID), cluster:ID, account:ID or exchange:ID.

                Examples:
                  casebook case new "Proxy farm behind cluster 42" --cluster 42
                  casebook case status 1 investigating
                  casebook case note cluster:42 "Same BIN on every card; see payments"
                  casebook case tag account:acct-7h2k9x reviewed
                  casebook case show 1 --json
                """,
            subcommands: [New.self, List.self, Show.self, Status.self, Assign.self, Attach.self, Attribute.self,
                          Note.self, Tag.self]
        )
    }
}

/// Opens the case file for annotating and runs `body` with a case book acting as the investigator.
private func withCaseBook<T>(_ options: CaseFileOptions, _ body: (CaseBook) throws -> T) throws -> T {
    try withCaseFile(options.path) {
        let database = try CaseFile.open(options.path, access: .write)
        return try body(CaseBook(database: database, actor: options.actor))
    }
}

private func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

private func timestamp(_ milliseconds: Int64) -> String { Terminal.timestamp(milliseconds) }

private func object(_ summary: CaseSummary) -> [String: Any] {
    ["case_id": summary.caseID, "title": summary.title, "status": summary.status.rawValue,
     "assignee": summary.assignee ?? NSNull(), "clusters": summary.clusters, "accounts": summary.accounts,
     "notes": summary.notes, "created_by": summary.createdBy, "created_at": timestamp(summary.createdAtMilliseconds),
     "updated_at": timestamp(summary.updatedAtMilliseconds)]
}

private func object(_ note: CasebookCases.Note) -> [String: Any] {
    ["note_id": note.noteID, "target": note.target.description, "body": note.body, "version": note.version,
     "author": note.author, "created_by": note.createdBy, "updated_at": timestamp(note.atMilliseconds)]
}

extension Casebook.Case {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a case; prints its id.")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case title (one line).") var title: String
        @Option(help: "A cluster the case covers (repeatable).") var cluster: [Int64] = []
        @Option(help: "An account the case covers (repeatable).") var account: [String] = []
        @Flag(help: "Print the new case as JSON.") var json = false

        func run() throws {
            try withCaseBook(caseFile) { book in
                let id = try book.create(title: title, clusters: cluster, accounts: account)
                if json { try printJSON(object(try book.detail(id).summary)) } else { print(id) }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, most recently changed first.")

        @OptionGroup var caseFile: CaseFileOptions
        @Option(help: "Only cases with this status.") var status: CaseStatus?
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let cases = try withCaseBook(caseFile) { try $0.list(status: status) }
            if json { return try printJSON(cases.map(object)) }
            print("case  status             assignee      clusters  accounts  notes  title")
            for c in cases {
                print([Terminal.right(String(c.caseID), 4), c.status.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0),
                       Printable.escaped(c.assignee ?? "-").padding(toLength: 12, withPad: " ", startingAt: 0),
                       Terminal.right(String(c.clusters), 8), Terminal.right(String(c.accounts), 8),
                       Terminal.right(String(c.notes), 5), Printable.escaped(c.title)].joined(separator: "  "))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case: what it covers, notes, tags and its audit history.")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case id.") var caseID: Int64
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            try withCaseBook(caseFile) { book in
                let detail = try book.detail(caseID)
                let history = try book.auditHistory(of: CasebookCases.Target(.case, String(caseID)))
                if json {
                    var result = object(detail.summary)
                    result["findings"] = detail.findings ?? NSNull()
                    result["attribution"] = detail.attribution ?? NSNull()
                    result["confidence"] = detail.confidence?.rawValue ?? NSNull()
                    result["cluster_ids"] = detail.clusterIDs
                    result["account_ids"] = detail.accountIDs
                    result["notes"] = detail.notes.map(object)
                    result["tags"] = detail.tags
                    result["history"] = history.map(Casebook.Audit.Log.object)
                    return try printJSON(result)
                }
                let s = detail.summary
                print("Case \(s.caseID): \(Printable.escaped(s.title))")
                print("  status \(s.status.rawValue), assignee \(Printable.escaped(s.assignee ?? "nobody")), opened by \(Printable.escaped(s.createdBy)) \(timestamp(s.createdAtMilliseconds))")
                if !detail.clusterIDs.isEmpty { print("  clusters: " + detail.clusterIDs.map(String.init).joined(separator: ", ")) }
                if !detail.accountIDs.isEmpty { print("  accounts: " + detail.accountIDs.map(Printable.escaped).joined(separator: ", ")) }
                if !detail.tags.isEmpty { print("  tags: " + detail.tags.map(Printable.escaped).joined(separator: ", ")) }
                if let findings = detail.findings { print("  findings: " + Printable.escaped(findings)) }
                if let attribution = detail.attribution {
                    print("  attribution (\(detail.confidence?.rawValue ?? "confidence not set")): " + Printable.escaped(attribution))
                }
                for note in detail.notes {
                    print("  note \(note.noteID) (v\(note.version), \(Printable.escaped(note.author)), \(timestamp(note.atMilliseconds))):")
                    for line in note.body.split(separator: "\n", omittingEmptySubsequences: false) {
                        print("    " + Printable.escaped(String(line)))
                    }
                }
                print("  history:")
                for entry in history { print("    " + Casebook.Audit.Log.line(entry)) }
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a case's status: open, investigating, confirmed, dismissed or referred-to-legal.")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case id.") var caseID: Int64
        @Argument(help: "The new status.") var status: CaseStatus

        func run() throws { try withCaseBook(caseFile) { try $0.setStatus(caseID, status) } }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a case to an investigator (--nobody to clear).")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case id.") var caseID: Int64
        @Argument(help: "Who works the case.") var assignee: String?
        @Flag(help: "Assign the case to nobody.") var nobody = false

        func validate() throws {
            guard (assignee == nil) == nobody else { throw ValidationError("name an assignee, or pass --nobody") }
        }

        func run() throws { try withCaseBook(caseFile) { try $0.assign(caseID, to: assignee) } }
    }

    struct Attach: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add clusters and accounts to what a case covers.")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case id.") var caseID: Int64
        @Option(help: "A cluster (repeatable).") var cluster: [Int64] = []
        @Option(help: "An account (repeatable).") var account: [String] = []

        func validate() throws {
            guard !cluster.isEmpty || !account.isEmpty else { throw ValidationError("name at least one --cluster or --account") }
        }

        func run() throws { try withCaseBook(caseFile) { try $0.attach(caseID, clusters: cluster, accounts: account) } }
    }

    struct Attribute: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record findings, and attribution with its confidence, apart from each other.")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The case id.") var caseID: Int64
        @Option(help: "What was established.") var findings: String?
        @Option(help: "Who is believed to be behind it.") var attribution: String?
        @Option(help: "How sure the attribution is: low, medium or high.") var confidence: Confidence?

        func validate() throws {
            guard findings != nil || attribution != nil else { throw ValidationError("give --findings, --attribution, or both") }
            if confidence != nil && attribution == nil { throw ValidationError("--confidence goes with --attribution") }
        }

        func run() throws {
            try withCaseBook(caseFile) { book in
                if let findings { try book.setFindings(caseID, findings) }
                if let attribution { try book.setAttribution(caseID, attribution, confidence: confidence) }
            }
        }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a note to a target, or a new version of a note (--edit); - reads the text from standard input.",
            discussion: """
                Examples:
                  casebook case note 1 "Escalated to legal"
                  casebook case note cluster:42 - < findings.txt
                  casebook case note --edit 7 "Corrected: 38 accounts, not 36"
                  casebook case note cluster:42 --list
                  casebook case note --history 7
                """)

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The target (case:ID, cluster:ID, account:ID, exchange:ID), or the note id with --edit.")
        var target: String
        @Argument(help: "The note text, or - for standard input.") var text: String?
        @Flag(help: "Add a version to note TARGET instead of a new note.") var edit = false
        @Flag(help: "List the notes on the target instead.") var list = false
        @Flag(help: "Show every version of note TARGET instead.") var history = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if list || history {
                guard text == nil, !edit, !(list && history) else { throw ValidationError("--list and --history take only a target or note id") }
            } else {
                guard text != nil else { throw ValidationError("give the note text, or - to read it from standard input") }
            }
            if edit || history { guard Int64(target) != nil else { throw ValidationError("--edit and --history take a note id") } }
        }

        func run() throws {
            try withCaseBook(caseFile) { book in
                if history {
                    let versions = try book.history(ofNote: Int64(target)!)
                    if json {
                        return try printJSON(versions.map { ["version": $0.version, "body": $0.body, "author": $0.author,
                                                             "at": timestamp($0.atMilliseconds)] as [String: Any] })
                    }
                    guard !versions.isEmpty else { throw CasesError.notFound("no note \(target) in the case file") }
                    for version in versions {
                        print("version \(version.version) (\(Printable.escaped(version.author)), \(timestamp(version.atMilliseconds))):")
                        for line in version.body.split(separator: "\n", omittingEmptySubsequences: false) {
                            print("  " + Printable.escaped(String(line)))
                        }
                    }
                    return
                }
                if list {
                    let notes = try book.notes(on: try CasebookCases.Target(parsing: target))
                    if json { return try printJSON(notes.map(object)) }
                    for note in notes {
                        print("note \(note.noteID) (v\(note.version), \(Printable.escaped(note.author)), \(timestamp(note.atMilliseconds))):")
                        for line in note.body.split(separator: "\n", omittingEmptySubsequences: false) {
                            print("  " + Printable.escaped(String(line)))
                        }
                    }
                    return
                }
                let body = text == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : text!
                if edit {
                    let version = try book.editNote(Int64(target)!, body)
                    if json { try printJSON(["note_id": Int64(target)!, "version": version]) } else { print("note \(target) version \(version)") }
                } else {
                    let id = try book.addNote(to: try CasebookCases.Target(parsing: target), body)
                    if json { try printJSON(["note_id": id, "version": 1]) } else { print("note \(id)") }
                }
            }
        }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tag a target, remove a tag (--remove), or list tags (no tag given).")

        @OptionGroup var caseFile: CaseFileOptions
        @Argument(help: "The target.") var target: String
        @Argument(help: "The tags to add or remove.") var tags: [String] = []
        @Flag(help: "Remove the tags instead.") var remove = false
        @Flag(help: "Print the target's tags as JSON.") var json = false

        func run() throws {
            try withCaseBook(caseFile) { book in
                let target = try CasebookCases.Target(parsing: self.target)
                for tag in tags {
                    if remove { try book.removeTag(tag, from: target) } else { try book.addTag(tag, to: target) }
                }
                let now = try book.tags(on: target)
                if json { try printJSON(now) } else if tags.isEmpty { now.forEach { print(Printable.escaped($0)) } }
            }
        }
    }
}
