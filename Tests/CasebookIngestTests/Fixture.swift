import CasebookIngest
import CasebookIO
import CasebookStore
import Foundation
import XCTest

/// A scratch directory with input files and a case file, for one test.
final class Fixture {
    let directory: String
    var databasePath: String { directory + "/case.db" }

    init() throws {
        directory = NSTemporaryDirectory() + "casebook-ingest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let path = directory + "/in/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func writeGzip(_ name: String, _ text: String) throws -> String {
        let path = directory + "/in/" + name
        let out = try OutputFile(path: path, gzipLevel: 6)
        try out.write(text)
        try out.finish()
        return path
    }

    @discardableResult
    func ingest(_ paths: [String]? = nil, kind: RecordKind? = nil, format: InputFormat? = nil,
                maxRecordBytes: Int = 64 << 20, cacheMiB: Int = Ingest.defaultCacheMiB) throws -> IngestSummary {
        let files = try IngestPlan(paths: paths ?? [directory + "/in"], kind: kind, format: format).files
        return try Ingest(databasePath: databasePath, maxRecordBytes: maxRecordBytes, cacheMiB: cacheMiB).run(files)
    }

    func database() throws -> Database { try CaseFile.open(databasePath, access: .read) }

    func strings(_ sql: String) throws -> [String] {
        try database().prepare(sql).rows { $0.string(0) ?? "NULL" }
    }

    func int(_ sql: String) throws -> Int {
        Int(try database().scalarInt(sql) ?? -1)
    }

    /// Every reject as "line reason", in file order.
    func rejects() throws -> [String] {
        try strings("SELECT line || ' ' || reason FROM rejects ORDER BY source_file_id, line")
    }
}
