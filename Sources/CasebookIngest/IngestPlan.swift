import CasebookIO
#if canImport(Glibc)
import Glibc
#endif

/// One input to read: where, which kind of record, which format.
public struct InputFile: Sendable, Equatable {
    public let path: String
    public let kind: RecordKind
    public let format: InputFormat
    public let gzip: Bool
    /// Standard input or a pipe (FIFO, `<(...)`): read once, hashed while read,
    /// its identity known only at its end.
    public let isStream: Bool
    public let options: ReadOptions

    public init(path: String, kind: RecordKind, format: InputFormat, gzip: Bool, isStream: Bool = false,
                options: ReadOptions = ReadOptions()) {
        self.path = path
        self.kind = kind
        self.format = format
        self.gzip = gzip
        self.isStream = isStream || path == "-"
        self.options = options
    }

    /// How the file is read besides its kind and format (`source_files.read_options`).
    var readOptions: String { options.identity(format: format) }

    public var isStandardInput: Bool { path == "-" }

    /// The absolute path recorded as provenance ("-" for standard input).
    public var provenancePath: String {
        guard !isStandardInput, let resolved = SystemPath.withCString(path, { realpath($0, nil) }) else { return path }
        defer { free(resolved) }
        return SystemPath.string(resolved)
    }
}

/// A command line that cannot be turned into a list of inputs (exit status 2).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The files an ingest will read, and what it passed over in directories.
public struct IngestPlan: Sendable {
    public let files: [InputFile]
    /// One sentence per directory entry skipped (a FIFO, a device or a socket, an input file
    /// whose name does not say its record kind, …) and per file whose content says otherwise
    /// than its name whether it is gzip.
    public let notes: [String]

    /// Turns `casebook ingest` arguments into the files to read, by the contract's naming rules.
    ///
    /// - Parameters:
    ///   - paths: files, directories (every matching file in it), or "-" for standard input.
    ///   - kind: overrides the name-based kind (required for "-"); a name that says another kind is a usage error.
    ///   - format: overrides the name-based format (required for "-").
    ///   - gzip: for "-", whether the stream is gzip-compressed.
    ///   - options: how every file is read (timestamps, encoding, NULL texts, CSV separator).
    public init(paths: [String], kind: RecordKind?, format: InputFormat?, gzip: Bool = false,
                options: ReadOptions = ReadOptions()) throws {
        var files: [InputFile] = []
        var notes: [String] = []
        for path in paths {
            if path == "-" {
                guard let kind, let format else {
                    throw UsageError("reading standard input (-) needs --kind and --format")
                }
                files.append(InputFile(path: "-", kind: kind, format: format, gzip: gzip, options: options))
                continue
            }
            let type = Self.fileType(path)
            switch type {
            case S_IFDIR:
                let notesBefore = notes.count
                let matching = try Self.directoryEntries(path).compactMap { name -> InputFile? in
                    let entry = Self.join(path, name)
                    guard let (nameFormat, compressed) = InputFormat.fromFileName(name) else {
                        if let why = Self.passedOver(entry, name: name) { notes.append("skipped \(Printable.escaped(entry)): \(why)") }
                        return nil
                    }
                    guard let type = Self.fileType(entry) else {
                        // A link to nothing or a loop of links: the system's reason says which.
                        let reason = String(cString: strerror(errno))
                        notes.append("skipped \(Printable.escaped(entry)): cannot be opened: \(reason)")
                        return nil
                    }
                    guard type == S_IFREG else {
                        notes.append("skipped \(Printable.escaped(entry)): not a regular file")
                        return nil
                    }
                    let named = RecordKind.fromFileName(name)
                    guard let fileKind = try Self.kind(kind, named: named, path: entry) else {
                        // A CSV or JSON Lines file left out silently could be an export named its own way.
                        notes.append("skipped \(Printable.escaped(entry)): its name does not start with accounts, payments, ips or exchanges (ingest it by its path with --kind)")
                        return nil
                    }
                    let head = Self.head(entry)
                    if let advice = InputFormat.foreignCompressionAdvice(path: entry, head: head, kind: fileKind, format: format ?? nameFormat) {
                        notes.append("skipped \(Printable.escaped(entry)): \(Printable.escaped(advice))")
                        return nil
                    }
                    return InputFile(path: entry, kind: fileKind, format: format ?? nameFormat,
                                     gzip: Self.isGzip(entry, head: head, named: compressed, notes: &notes), options: Self.options(options, named: name))
                }
                guard !matching.isEmpty else {
                    let skipped = notes[notesBefore...].map { "; " + $0 }.joined()
                    throw UsageError("\(Printable.escaped(path)) holds no input files (names starting with accounts, payments, ips or exchanges and ending in .csv, .tsv, .jsonl, .ndjson or .json, optionally .gz)\(skipped)")
                }
                files.append(contentsOf: matching)
            default:
                // A missing file is planned when its name says what it is: it is then reported
                // unreadable while the others load.
                guard type == nil || type == S_IFREG || type == S_IFIFO else {
                    throw UsageError("\(Printable.escaped(path)) is a device or socket, not an input file")
                }
                let name = String(path.split(separator: "/").last ?? Substring(path))
                let nameFormat = InputFormat.fromFileName(name)
                let namedKind = RecordKind.fromFileName(name)
                if type == nil && (namedKind == nil || nameFormat == nil) {
                    throw UsageError("\(Printable.escaped(path)): no such file or directory")
                }
                if format == nil, let advice = InputFormat.foreignFormatAdvice(path: path, kind: kind ?? namedKind) {
                    throw UsageError("\(Printable.escaped(path)): \(Printable.escaped(advice))")
                }
                guard let fileKind = try Self.kind(kind, named: namedKind, path: path) else {
                    throw UsageError("cannot tell the record kind of \(Printable.escaped(path)) from its name; name it accounts*, payments*, ips* or exchanges*, or pass --kind")
                }
                guard let fileFormat = format ?? nameFormat?.0 else {
                    throw UsageError("cannot tell the format of \(Printable.escaped(path)) from its name; use .csv, .tsv, .jsonl, .ndjson or .json (optionally .gz), or pass --format")
                }
                let namedGzip = nameFormat?.gzip ?? (name.hasSuffix(".gz") || (type == S_IFIFO && gzip))
                let head = type == S_IFREG ? Self.head(path) : []
                if let advice = InputFormat.foreignCompressionAdvice(path: path, head: head, kind: fileKind, format: fileFormat) {
                    throw UsageError("\(Printable.escaped(path)): \(Printable.escaped(advice))")
                }
                files.append(InputFile(path: path, kind: fileKind, format: fileFormat,
                                       gzip: type == S_IFREG ? Self.isGzip(path, head: head, named: namedGzip, notes: &notes) : namedGzip,
                                       isStream: type == S_IFIFO, options: Self.options(options, named: name)))
            }
        }
        // Accounts and IPs first: exchanges and payments that follow find their accounts described.
        let order: [RecordKind] = [.ips, .accounts, .payments, .exchanges]
        self.files = files.enumerated().sorted { a, b in
            let (ka, kb) = (order.firstIndex(of: a.element.kind)!, order.firstIndex(of: b.element.kind)!)
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
        self.notes = notes
    }

    /// Why a directory entry that is not named as an input is passed over, when an investigator
    /// would expect it read: a directory (not descended into), a file in a format not read, or
    /// one named for a record kind with another ending. Nil for anything else (a README).
    private static func passedOver(_ entry: String, name: String) -> String? {
        if fileType(entry) == S_IFDIR { return "a directory; its files are read when it is named itself" }
        let kind = RecordKind.fromFileName(name)
        if let advice = InputFormat.foreignFormatAdvice(path: entry, kind: kind) { return Printable.escaped(advice) }
        return kind == nil ? nil : "its name does not end in .csv, .tsv, .jsonl, .ndjson or .json, optionally .gz (ingest it by its path with --format)"
    }

    /// The options for a file of this name: a `.tsv` file is separated by tabs unless
    /// `--separator` says otherwise.
    private static func options(_ options: ReadOptions, named name: String) -> ReadOptions {
        guard options.separator == nil, InputFormat.isTabSeparated(name) else { return options }
        var tabs = options
        tabs.separator = .tab
        return tabs
    }

    /// The kind to read a file as: `--kind`, unless the file's name says another kind.
    private static func kind(_ override: RecordKind?, named: RecordKind?, path: String) throws -> RecordKind? {
        if let override, let named, override != named {
            throw UsageError("--kind \(override.rawValue) contradicts the name of \(Printable.escaped(path)), which says \(named.rawValue); rename the file or drop --kind")
        }
        return override ?? named
    }

    /// Whether a regular file is gzip, by its first bytes as well as its name: a download saved
    /// without `.gz` (a body sent with `Content-Encoding: gzip`) and a file named `.gz` that was
    /// never compressed both arrive. When content and name disagree a note says which was read;
    /// a `.gz` that is neither gzip nor text stays gzip, to be reported damaged.
    private static func isGzip(_ path: String, head bytes: [UInt8], named: Bool, notes: inout [String]) -> Bool {
        let count = bytes.count
        guard count > 0 else { return named }
        if count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
            if !named { notes.append("\(Printable.escaped(path)): read as gzip, as its content is gzip-compressed (its name does not end in .gz)") }
            return true
        }
        // Text: no control bytes but tabs and line breaks; a zlib-wrapped stream is not text.
        let isText = bytes.allSatisfy { $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let isZlib = count >= 2 && bytes[0] & 0x0F == 8 && bytes[0] >> 4 <= 7 && (Int(bytes[0]) << 8 | Int(bytes[1])) % 31 == 0
        if named && isText && !isZlib {
            notes.append("\(Printable.escaped(path)): read as plain text, as it is not compressed (its name ends in .gz)")
            return false
        }
        return named
    }

    /// The first bytes of a regular file, which tell its compression; empty when it cannot be
    /// read (it is then reported unreadable when its turn comes).
    private static func head(_ path: String) -> [UInt8] {
        var head = [UInt8](repeating: 0, count: 64)
        let descriptor = SystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        let count = head.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        return Array(head.prefix(max(0, count)))
    }

    /// The file type bits (`S_IFREG`, `S_IFDIR`, ...) of `path`, following links; nil if it does not exist.
    private static func fileType(_ path: String) -> mode_t? {
        var info = stat()
        return SystemPath.withCString(path) { stat($0, &info) } == 0 ? info.st_mode & S_IFMT : nil
    }

    private static func directoryEntries(_ path: String) throws -> [String] {
        guard let directory = SystemPath.withCString(path, { opendir($0) }) else {
            throw UsageError("cannot list \(Printable.escaped(path)): \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = Array(raw.prefix { $0 != 0 })
                return bytes.withUnsafeBufferPointer { SystemPath.string($0) }
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
