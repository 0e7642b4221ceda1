import ArgumentParser
import CasebookIO
import CasebookStore
import Foundation

extension Casebook {
    struct SQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Run read-only SQL against the case file, for scripts and ad-hoc questions.",
            discussion: """
                The SQL comes from the argument, from --file, or from standard input; several \
                statements run in order, and none runs when one is refused or malformed. The case file cannot be changed: SQLite itself refuses \
                writes, schema changes, ATTACH, transactions, extension loading and pragmas that set \
                a value. It works while an ingest or the TUI uses the same file, and on a case file \
                in a read-only folder. The tables and views are documented in schema/README.md.

                Parameters: --param name=value binds :name, @name or $name; --param 2=value binds ?2; \
                --param value (no '=') binds the next plain ?. A value written as a canonical integer \
                (42, -7) is bound as an integer, anything else as text.

                Formats: table (aligned for a terminal, control characters escaped, cells longer than \
                60 columns cut with …), csv (RFC 4180, exact values), tsv (tab, newline, carriage return \
                and backslash written as \\t \\n \\r \\\\), json (one array of objects per statement), \
                jsonl (one object per row). NULL is empty in csv/tsv, NULL in table, null in JSON; a \
                BLOB is X'hex' in text formats and {"hex": "..."} in JSON.

                Exit status: 0 success; 1 a statement failed while running; 2 a syntax error, a \
                refused statement or a parameter problem (named with the statement's number and \
                line); 3 the case file could not be opened; 5 stopped by --timeout.

                Examples:
                  casebook sql "SELECT cluster_id, size, risk_score FROM clusters ORDER BY risk_score DESC LIMIT 10"
                  casebook sql --format csv --param id=acct-00042 "SELECT * FROM exchanges WHERE account_id = :id"
                  casebook sql --file cookbook.sql --format jsonl --timeout 30
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, tsv, json, jsonl }

        @OptionGroup var caseFile: CaseFileOptions

        @Argument(help: "The SQL to run (else --file, else standard input).") var query: String?
        @Option(help: ArgumentHelp("Read the SQL from this file.", valueName: "path")) var file: String?
        @Option(name: .customLong("param"), help: ArgumentHelp("A parameter: name=value, number=value or value; repeatable.", valueName: "binding"))
        var parameters: [String] = []
        @Option(help: "Output format: table, csv, tsv, json or jsonl.") var format: Format = .table
        @Option(help: ArgumentHelp("Stop a statement that runs longer than this many seconds.", valueName: "seconds")) var timeout: Double?

        func validate() throws {
            if query != nil, file != nil { throw ValidationError("give the SQL as an argument or with --file, not both") }
            if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        }

        func run() throws {
            let sql = try readSQL()
            let bindings = try parameters.map(Self.parameter)
            let script = try withCaseFile(caseFile.path) { try ReadOnlyScript(path: caseFile.path) }
            let output = StandardOutput()
            let sink: ReadOnlyScript.Sink
            switch format {
            case .table: sink = TableSink(output)
            case .csv: sink = DelimitedSink(output, tabs: false)
            case .tsv: sink = DelimitedSink(output, tabs: true)
            case .json: sink = JSONSink(output, lines: false)
            case .jsonl: sink = JSONSink(output, lines: true)
            }
            defer { output.flush() }
            do {
                try withCaseFile(caseFile.path) { try script.run(sql, parameters: bindings, timeout: timeout, sink: sink) }
            } catch let failure as ReadOnlyScript.Failure {
                output.flush()
                switch failure {
                case .timedOut: throw CommandFailure(description: failure.description, status: ExitStatus.timedOut)
                case .failed: throw CommandFailure(description: failure.description, status: ExitStatus.inputDamaged)
                default: throw CommandFailure(description: failure.description, status: ExitStatus.usage)
                }
            }
        }

        private func readSQL() throws -> String {
            if let query { return query }
            let data: Data
            if let file {
                guard let read = FileManager.default.contents(atPath: file) else {
                    throw CommandFailure(description: "cannot read the SQL file \(file)", status: ExitStatus.usage)
                }
                data = read
            } else {
                guard isatty(STDIN_FILENO) == 0 else {
                    throw CommandFailure(description: "no SQL given: pass it as an argument, with --file, or on standard input", status: ExitStatus.usage)
                }
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure(description: "the SQL \(file.map { "in \($0) " } ?? "")is not UTF-8 text", status: ExitStatus.usage)
            }
            return text
        }

        /// `name=value`, `3=value` or a bare `value`; see the discussion above.
        static func parameter(_ text: String) throws -> ReadOnlyScript.Parameter {
            guard let equals = text.firstIndex(of: "=") else { return .init(slot: .next, value: typed(text)) }
            let name = String(text[..<equals])
            let value = typed(String(text[text.index(after: equals)...]))
            if let number = Int(name), number > 0, String(number) == name { return .init(slot: .numbered(number), value: value) }
            guard let first = name.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first),
                  name.unicodeScalars.allSatisfy({ $0 == "_" || CharacterSet.alphanumerics.contains($0) }) else {
                throw CommandFailure(description: "--param expects name=value, number=value or value; the name '\(name)' is neither a name nor a number", status: ExitStatus.usage)
            }
            return .init(slot: .named(name), value: value)
        }

        private static func typed(_ text: String) -> SQLiteValue {
            if let integer = Int64(text), String(integer) == text { return .integer(integer) }
            return .text(text)
        }
    }
}

/// Standard output through one buffer: a row is not a system call.
final class StandardOutput {
    private var buffer: [UInt8] = []

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var start = 0
        buffer.withUnsafeBytes { bytes in
            while start < bytes.count {
                let written = Foundation.write(STDOUT_FILENO, bytes.baseAddress! + start, bytes.count - start)
                if written <= 0 {
                    if written < 0, errno == EINTR { continue }
                    break
                }
                start += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Text forms of a value shared by the text formats.
private enum ValueText {
    static func plain(_ value: SQLiteValue, null: String) -> String {
        switch value {
        case .null: return null
        case let .integer(number): return String(number)
        case let .real(number): return number.isFinite ? "\(number)" : (number.isNaN ? "NaN" : (number < 0 ? "-Inf" : "Inf"))
        case let .text(text): return text
        case let .blob(bytes): return "X'" + FileDigest.hex(bytes).uppercased() + "'"
        }
    }
}

/// Aligned columns: the first rows (up to a screenful's worth of a page) set the widths.
final class TableSink: ReadOnlyScript.Sink {
    private let output: StandardOutput
    private var columns: [String] = []
    private var pending: [[String]] = []
    private var widths: [Int]?
    private var rows = 0
    private static let sizingRows = 1_000
    private static let widest = 60

    init(_ output: StandardOutput) { self.output = output }

    func begin(statement: Int, columns: [String]) throws {
        if statement > 1 { output.write("\n") }
        self.columns = columns.map { Printable.escaped($0) }
        pending = []
        widths = nil
        rows = 0
    }

    func row(_ values: ReadOnlyScript.Row) throws {
        rows += 1
        let cells = values.map { Printable.escaped(ValueText.plain($0, null: "NULL")) }
        if widths != nil {
            write(cells)
        } else {
            pending.append(cells)
            if pending.count == Self.sizingRows { settle() }
        }
    }

    func end(statement: Int) throws {
        if widths == nil { settle() }
        output.write("(\(NumberText.grouped(rows)) row\(rows == 1 ? "" : "s"))\n")
    }

    private func settle() {
        var widths = columns.map { min(Self.widest, DisplayWidth.of($0)) }
        for cells in pending {
            for (index, cell) in cells.enumerated() { widths[index] = min(Self.widest, max(widths[index], DisplayWidth.of(cell))) }
        }
        self.widths = widths
        output.write(Self.trimmed(zip(columns, widths).map { DisplayWidth.fit($0, to: $1) }.joined(separator: "  ")) + "\n")
        output.write(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n")
        for cells in pending { write(cells) }
        pending = []
    }

    private func write(_ cells: [String]) {
        guard let widths else { return }
        let line = cells.enumerated().map { DisplayWidth.fit($1, to: widths[$0], right: Self.looksNumeric($1)) }
        output.write(Self.trimmed(line.joined(separator: "  ")) + "\n")
    }

    private static func trimmed(_ line: String) -> String {
        String(line.reversed().drop(while: { $0 == " " }).reversed())
    }

    private static func looksNumeric(_ cell: String) -> Bool {
        !cell.isEmpty && Double(cell) != nil && cell.first != "X"
    }
}

/// CSV (RFC 4180, CRLF line ends, quoted when needed) or TSV (escaped, one line a row).
final class DelimitedSink: ReadOnlyScript.Sink {
    private let output: StandardOutput
    private let tabs: Bool

    init(_ output: StandardOutput, tabs: Bool) { self.output = output; self.tabs = tabs }

    func begin(statement: Int, columns: [String]) throws {
        if statement > 1 { output.write(tabs ? "\n" : "\r\n") }
        line(columns)
    }

    func row(_ values: ReadOnlyScript.Row) throws { line(values.map { ValueText.plain($0, null: "") }) }

    func end(statement: Int) throws {}

    private func line(_ cells: [String]) {
        if tabs {
            output.write(cells.map(Self.tsvEscaped).joined(separator: "\t") + "\n")
        } else {
            output.write(cells.map(Self.csvQuoted).joined(separator: ",") + "\r\n")
        }
    }

    static func csvQuoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || cell.hasPrefix(" ") || cell.hasSuffix(" ") else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func tsvEscaped(_ cell: String) -> String {
        var out = ""
        for scalar in cell.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// JSON objects with the columns in their order; a repeated column name gets `:2`, `:3`.
final class JSONSink: ReadOnlyScript.Sink {
    private let output: StandardOutput
    private let lines: Bool
    private var keys: [String] = []
    private var first = true

    init(_ output: StandardOutput, lines: Bool) { self.output = output; self.lines = lines }

    func begin(statement: Int, columns: [String]) throws {
        var seen: [String: Int] = [:]
        keys = columns.map { name in
            seen[name, default: 0] += 1
            let key = seen[name]! == 1 ? name : "\(name):\(seen[name]!)"
            return JSONText.string(key)
        }
        first = true
        if !lines { output.write("[") }
    }

    func row(_ values: ReadOnlyScript.Row) throws {
        var text = lines ? "" : (first ? "\n" : ",\n")
        first = false
        text += "{"
        for (index, value) in values.enumerated() {
            if index > 0 { text += ", " }
            text += keys[index] + ": " + Self.json(value)
        }
        output.write(text + (lines ? "}\n" : "}"))
    }

    func end(statement: Int) throws {
        if !lines { output.write(first ? "]\n" : "\n]\n") }
    }

    static func json(_ value: SQLiteValue) -> String {
        switch value {
        case .null: return "null"
        case let .integer(number): return String(number)
        case let .real(number): return number.isFinite ? "\(number)" : "null"
        case let .text(text): return JSONText.string(text)
        case let .blob(bytes): return "{\"hex\": \"" + FileDigest.hex(bytes) + "\"}"
        }
    }
}
