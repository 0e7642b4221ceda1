import CasebookAudit
import CasebookIO
import CasebookQueries
import CasebookStore
import Foundation

/// What to export and how.
public struct ExportRequest {
    public enum Subject: Sendable, Equatable { case caseFile(Int64), cluster(Int64) }

    public var caseFilePath: String
    public var subject: Subject
    /// The bundle's path; default `case-ID-UTCTIME.bundle` (or `.zip`) in the current directory.
    public var outputPath: String?
    public var zip = false
    public var redaction = RedactionProfile()
    /// A named signing key; default the investigator's own, created on first use.
    public var signingKeyPath: String?
    public var actor: String
    public var casebookVersion: String

    public init(caseFilePath: String, subject: Subject, actor: String, casebookVersion: String) {
        self.caseFilePath = caseFilePath
        self.subject = subject
        self.actor = actor
        self.casebookVersion = casebookVersion
    }
}

public struct ExportResult: Sendable {
    public let path: String
    public let files: Int
    public let bytes: Int64
    public let accounts: Int
    public let exchanges: Int
    public let clusters: Int
    public let manifestSHA256: String
    public let keyFingerprint: String
    /// The signing key's file (give the recipient its fingerprint, never the file).
    public let keyPath: String
    /// The audit log's last entry the bundle carries.
    public let auditSeq: Int64
    /// Seconds per stage (each copy statement, data files, report, sealing, zip, audit entry).
    public let stages: [(name: String, seconds: Double)]
}

/// Where an export is: a phase, and rows written of the rows to write when known.
public struct ExportProgress: Sendable {
    public let phase: String
    public let done: Int
    public let total: Int
}

/// Writes an evidence bundle: the portable subset, data files, report, manifest, checksums
/// and signature, in a temporary folder next to the destination that is synced and renamed
/// into place only when complete, then records the export in the case file's audit log.
public enum Exporter {
    public static let formatName = "casebook-evidence-bundle/1"

    public static func export(_ request: ExportRequest, progress: (ExportProgress) -> Void = { _ in }) throws -> ExportResult {
        let key = try SigningKey.load(request.signingKeyPath)
        let startedAt = Date()
        let destination = request.outputPath ?? defaultName(request.subject, zip: request.zip, at: startedAt)
        guard !CaseFileProbe.exists(destination) else { throw ExportError.output("\(destination) already exists; name another with --out") }
        // Refuse early when the export could not be recorded.
        _ = try CaseFile.open(request.caseFilePath, access: .write)
        let parent = PathText.parent(destination)
        let folder = parent + "/." + PathText.lastComponent(destination) + ".partial-\(getpid())"
        do {
            try OutputDirectory.createPrivate(folder)
        } catch let FileError.writeFailed(_, reason) {
            throw ExportError.output("cannot write a bundle in \(parent): \(reason)")
        }
        var finished = false
        defer { if !finished { try? FileManager.default.removeItem(atPath: folder) } }
        try OutputDirectory.createPrivate(folder + "/data")

        progress(ExportProgress(phase: "copying the evidence", done: 0, total: 0))
        let redactor = request.redaction.isEmpty ? nil : Redactor(profile: request.redaction, key: key.redactionKey)
        let subjectInSubset: EvidenceSubset.Subject
        switch request.subject {
        case let .caseFile(id): subjectInSubset = .caseFile(id)
        case let .cluster(id): subjectInSubset = .cluster(id)
        }
        var stages: [(name: String, seconds: Double)] = []
        var clock = Date()
        func stage(_ name: String) {
            stages.append((name, Date().timeIntervalSince(clock)))
            clock = Date()
        }
        // Without redaction the exchanges' data files are written while they are copied.
        var exchangeFiles: ExchangeFiles?
        defer { _ = try? exchangeFiles?.finish() }
        let subset = try EvidenceSubset.build(at: folder + "/evidence.sqlite", from: request.caseFilePath,
                                              subject: subjectInSubset, redactor: redactor) { rowID, done, total in
            if exchangeFiles == nil { exchangeFiles = ExchangeFiles(subset: folder + "/evidence.sqlite", root: folder) }
            exchangeFiles?.advance(to: rowID)
            Subset.startWriteback(folder + "/evidence.sqlite")
            progress(ExportProgress(phase: "copying exchanges", done: done, total: total))
        }
        stages += subset.timings.map { (name: "subset: " + $0.0, seconds: $0.1) }
        stage("subset: all")
        // The subset is complete (what follows only reads it): synced and hashed meanwhile.
        let sealing = SubsetSeal(path: folder + "/evidence.sqlite")
        var entries = try DataFiles.write(subset, root: folder, skipping: exchangeFiles == nil ? [] : ["exchanges"], progress: progress)
        stage("data files")
        if let files = exchangeFiles {
            exchangeFiles = nil
            entries += try files.finish()
            stage("data files: the rest of the exchanges")
        }
        progress(ExportProgress(phase: "writing the report", done: 0, total: 0))
        let custody = Custody(actor: request.actor, at: startedAt, caseFile: absolute(request.caseFilePath),
                              casebookVersion: request.casebookVersion, redaction: request.redaction,
                              keyFingerprint: SigningKey.fingerprint(key.publicKey), bundleName: PathText.lastComponent(destination))
        entries += try Report.write(subset, custody: custody, root: folder)
        stage("report")
        let counts = subset.counts
        let head = subset.auditHead
        let queries = subset.queries
        let clusterIDs = subset.clusterIDs
        let sourceFiles = try subset.database.prepare("SELECT path, sha256, size_bytes FROM source_files ORDER BY file_id")
            .rows { ["path": $0.string(0) ?? "", "sha256": $0.string(1) ?? NSNull(), "size": $0.optionalInt64(2) ?? NSNull()] as [String: Any] }
        entries.append(try sealing.finish())
        stage("seal evidence.sqlite (the rest)")

        let manifest: [String: Any] = [
            "format": formatName,
            "casebook_version": request.casebookVersion,
            "schema_version": Schema.currentVersion,
            "created_at": iso(startedAt),
            "investigator": request.actor,
            "exported": subjectDescription(request.subject, clusters: clusterIDs, counts: counts),
            "case_file": ["path": custody.caseFile, "input_files": sourceFiles],
            "queries": queries,
            "redaction": request.redaction.isEmpty
                ? ["profile": [String](), "note": "unredacted"]
                : ["profile": request.redaction.names,
                   "method": "HMAC-SHA-256 pseudonyms under a key derived from the signing key; the same value has the same pseudonym in every file"],
            "audit_head": head.map { ["seq": $0.seq, "hash": $0.hash] as [String: Any] } ?? NSNull(),
            "signing_key": ["algorithm": "Ed25519", "public_key_sha256": SigningKey.fingerprint(key.publicKey), "file": "public-key.pem"],
            "files": entries.sorted { $0.path < $1.path }.map { ["path": $0.path, "sha256": $0.sha256, "size": $0.size] as [String: Any] },
        ]
        let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
        var sealed = entries
        sealed.append(try writeFile(folder, "manifest.json", Array(manifestData)))
        sealed.append(try writeFile(folder, "manifest.sig", try key.sign(Array(manifestData))))
        sealed.append(try writeFile(folder, "public-key.pem", Array(key.publicKeyPEM.utf8)))
        let checksums = sealed.sorted { $0.path < $1.path }.map { "\($0.sha256)  \($0.path)\n" }.joined()
        _ = try writeFile(folder, "MANIFEST.sha256", Array(checksums.utf8))
        try syncDirectory(folder + "/data")
        try syncDirectory(folder)
        PageCache.drop(path: folder + "/evidence.sqlite")
        stage("manifest and signature")

        let manifestSHA = FileDigest.sha256(bytes: Array(manifestData))
        let totalBytes = sealed.reduce(Int64(0)) { $0 + $1.size } + Int64(checksums.utf8.count)
        if request.zip {
            progress(ExportProgress(phase: "writing the zip", done: 0, total: 0))
            let temporaryZip = folder + "/bundle.zip.partial"
            try ZipBundle.write(folder: folder, to: temporaryZip)
            stage("zip")
            try record(request, subset: counts, clusters: clusterIDs, manifestSHA: manifestSHA, key: key, head: head, name: custody.bundleName)
            try rename(temporaryZip, to: destination)
        } else {
            try record(request, subset: counts, clusters: clusterIDs, manifestSHA: manifestSHA, key: key, head: head, name: custody.bundleName)
            try rename(folder, to: destination)
            finished = true
        }
        try syncDirectory(parent)
        stage("audit entry and rename")
        return ExportResult(path: destination, files: sealed.count + 1, bytes: totalBytes, accounts: counts.accounts,
                            exchanges: counts.exchanges, clusters: counts.clusters, manifestSHA256: manifestSHA,
                            keyFingerprint: SigningKey.fingerprint(key.publicKey), keyPath: key.path, auditSeq: head?.seq ?? 0,
                            stages: stages)
    }

    private static func writeFile(_ folder: String, _ name: String, _ bytes: [UInt8]) throws -> BundleEntry {
        let file = try BundleFile(root: folder, relativePath: name)
        bytes.withUnsafeBytes { file.write(bytes: $0) }
        return try file.finish()
    }

    /// The export's audit entry, in the case file it came from.
    private static func record(_ request: ExportRequest, subset counts: EvidenceSubset.Counts, clusters: [Int64], manifestSHA: String,
                               key: SigningKey, head: (seq: Int64, hash: String)?, name: String) throws {
        let database = try CaseFile.open(request.caseFilePath, access: .write)
        let target: String
        switch request.subject {
        case let .caseFile(id): target = "case:\(id)"
        case let .cluster(id): target = "cluster:\(id)"
        }
        var payload: [String: Any] = [
            "bundle": name, "manifest_sha256": manifestSHA, "key_sha256": SigningKey.fingerprint(key.publicKey),
            "clusters": clusters, "accounts": counts.accounts, "exchanges": counts.exchanges,
            "audit_head_seq": head?.seq ?? 0,
        ]
        payload["redacted"] = request.redaction.isEmpty ? "none (unredacted export)" : request.redaction.names.joined(separator: ",")
        _ = try database.transaction {
            try AuditLog.append(database, actor: request.actor, action: .export, target: target, payload: payload)
        }
    }

    private static func rename(_ from: String, to: String) throws {
        let result = SystemPath.withCString(from) { a in SystemPath.withCString(to) { b in Glibc.rename(a, b) } }
        guard result == 0 else { throw ExportError.output("cannot move the finished bundle to \(to): \(String(cString: strerror(errno)))") }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = SystemPath.withCString(path) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        fsync(descriptor)
    }

    private static func defaultName(_ subject: ExportRequest.Subject, zip: Bool, at date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stem: String
        switch subject {
        case let .caseFile(id): stem = "case-\(id)"
        case let .cluster(id): stem = "cluster-\(id)"
        }
        return "\(stem)-\(formatter.string(from: date))" + (zip ? ".zip" : ".bundle")
    }

    private static func subjectDescription(_ subject: ExportRequest.Subject, clusters: [Int64], counts: EvidenceSubset.Counts) -> [String: Any] {
        var out: [String: Any] = ["clusters": clusters, "accounts": counts.accounts, "exchanges": counts.exchanges,
                                  "links": counts.links, "notes": counts.notes, "tags": counts.tags, "audit_entries": counts.auditEntries]
        switch subject {
        case let .caseFile(id): out["case"] = id; out["why"] = "case \(id) and the clusters and accounts it covers"
        case let .cluster(id): out["case"] = NSNull(); out["why"] = "cluster \(id) of the latest link run and its members"
        }
        return out
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// Who exported what, when, from where: the report's custody record.
struct Custody {
    let actor: String
    let at: Date
    let caseFile: String
    let casebookVersion: String
    let redaction: RedactionProfile
    let keyFingerprint: String
    let bundleName: String
}

enum CaseFileProbe {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return SystemPath.withCString(path) { lstat($0, &info) } == 0
    }
}

/// `evidence.sqlite` synced and hashed on a thread of its own once it is complete, while
/// the data files and the report are written from it (reading leaves its bytes as they are).
private final class SubsetSeal: @unchecked Sendable {
    private var outcome: Result<BundleEntry, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(path: String) {
        Thread.detachNewThread { [self] in
            outcome = Result {
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                if descriptor >= 0 {
                    fsync(descriptor)
                    close(descriptor)
                }
                var info = stat()
                stat(path, &info)
                return BundleEntry(path: "evidence.sqlite", sha256: try FileDigest.sha256(path: path), size: Int64(info.st_size))
            }
            done.signal()
        }
    }

    /// The entry for the manifest; waits for the thread. Call once.
    func finish() throws -> BundleEntry {
        done.wait()
        return try outcome!.get()
    }
}
