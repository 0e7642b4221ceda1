#if canImport(Glibc)
import Glibc
#endif

/// One input to read: where, which kind of record, which format.
public struct InputFile: Sendable, Equatable {
    public let path: String
    public let kind: RecordKind
    public let format: InputFormat
    public let gzip: Bool

    public init(path: String, kind: RecordKind, format: InputFormat, gzip: Bool) {
        self.path = path
        self.kind = kind
        self.format = format
        self.gzip = gzip
    }

    public var isStandardInput: Bool { path == "-" }

    /// The absolute path recorded as provenance ("-" for standard input).
    var provenancePath: String {
        guard !isStandardInput, let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// A command line that cannot be turned into a list of inputs (exit status 2).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Turns `casebook ingest` arguments into the files to read, by the contract's naming rules.
public enum IngestPlan {
    /// - Parameters:
    ///   - paths: files, directories (every matching file in it), or "-" for standard input.
    ///   - kind: overrides the name-based kind (required for "-").
    ///   - format: overrides the name-based format (required for "-").
    ///   - gzip: for "-", whether the stream is gzip-compressed.
    public static func files(paths: [String], kind: RecordKind?, format: InputFormat?, gzip: Bool = false) throws -> [InputFile] {
        var files: [InputFile] = []
        for path in paths {
            if path == "-" {
                guard let kind, let format else {
                    throw UsageError("reading standard input (-) needs --kind and --format")
                }
                files.append(InputFile(path: "-", kind: kind, format: format, gzip: gzip))
                continue
            }
            if isDirectory(path) {
                let matching = try directoryEntries(path).compactMap { name -> InputFile? in
                    guard let (nameFormat, compressed) = InputFormat.fromFileName(name),
                          let fileKind = kind ?? RecordKind.fromFileName(name) else { return nil }
                    return InputFile(path: join(path, name), kind: fileKind, format: format ?? nameFormat, gzip: compressed)
                }
                guard !matching.isEmpty else {
                    throw UsageError("\(path) holds no input files (names starting with accounts, payments, ips or exchanges and ending in .csv, .jsonl, .csv.gz or .jsonl.gz)")
                }
                files.append(contentsOf: matching)
                continue
            }
            let name = String(path.split(separator: "/").last ?? Substring(path))
            let nameFormat = InputFormat.fromFileName(name)
            guard let fileKind = kind ?? RecordKind.fromFileName(name) else {
                throw UsageError("cannot tell the record kind of \(path) from its name; name it accounts*, payments*, ips* or exchanges*, or pass --kind")
            }
            guard let fileFormat = format ?? nameFormat?.0 else {
                throw UsageError("cannot tell the format of \(path) from its name; use .csv, .jsonl (optionally .gz), or pass --format")
            }
            files.append(InputFile(path: path, kind: fileKind, format: fileFormat,
                                   gzip: nameFormat?.gzip ?? name.hasSuffix(".gz")))
        }
        // Accounts and IPs first: exchanges and payments that follow find their accounts described.
        let order: [RecordKind] = [.ips, .accounts, .payments, .exchanges]
        return files.enumerated().sorted { a, b in
            let (ka, kb) = (order.firstIndex(of: a.element.kind)!, order.firstIndex(of: b.element.kind)!)
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func directoryEntries(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            throw UsageError("cannot list \(path): \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
