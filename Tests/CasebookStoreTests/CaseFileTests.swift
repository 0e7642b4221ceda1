import CasebookStore
import Foundation
import XCTest

final class CaseFileTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "casebook-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A failed statement is named in the message by its opening words on one line, not by
    /// its whole text: the writer's group insert alone is hundreds of lines of placeholders.
    func testAFailedLongStatementIsNamedByItsOpeningOnOneLine() throws {
        let database = try Database(path: directory + "/s.db", mode: .readWriteCreate)
        let rows = Array(repeating: "(?, ?, ?, ?)", count: 16).joined(separator: ",\n    ")
        let sql = "INSERT INTO missing_table (a, b, c, d)\nVALUES\n    \(rows)"
        XCTAssertThrowsError(try database.prepare(sql)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("no such table: missing_table"), text)
            XCTAssertTrue(text.contains("in: INSERT INTO missing_table (a, b, c, d) VALUES (?, ?, ?, ?), (?"), text)
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertLessThan(text.count, 160, text)
        }
    }

    func testEverySchemaFileIsAMigrationAndTheBinaryAppliesExactlyThem() throws {
        // The repository's schema/ folder, found from this source file.
        let schemaDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("schema")
        let files = try FileManager.default.contentsOfDirectory(atPath: schemaDirectory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertEqual(files, Schema.migrations.map(\.fileName), "every schema/*.sql file must be registered in Schema.migrations")
        for migration in Schema.migrations {
            let text = try String(contentsOf: schemaDirectory.appendingPathComponent(migration.fileName), encoding: .utf8)
            XCTAssertEqual(text, migration.sql, "\(migration.fileName) differs from the embedded copy")
        }
        XCTAssertEqual(Schema.migrations.map(\.version), Array(1...Schema.migrations.count))

        // A file made by the binary has the same objects as one made by applying the files with sqlite3 itself.
        let made = directory + "/made.db"
        _ = try CaseFile.open(made, access: .write, create: true)
        let reference = try Database(path: directory + "/reference.db", mode: .readWriteCreate)
        for migration in Schema.migrations { try reference.execute(migration.sql) }
        XCTAssertEqual(try objects(made), try objects(directory + "/reference.db"))
    }

    private func objects(_ path: String) throws -> [String] {
        let database = try Database(path: path, mode: .readOnly)
        return try database.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
            .rows { $0.string(0) ?? "" }
    }

    func testNewCaseFileIsPrivateAndInWALMode() throws {
        let path = directory + "/case.db"
        let database = try CaseFile.open(path, access: .write, create: true)
        try database.execute("INSERT INTO models (name) VALUES ('x')")
        for file in [path, path + "-wal", path + "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, file)
        }
        XCTAssertEqual(try database.prepare("PRAGMA journal_mode").rows { $0.string(0) }.first, "wal")
        XCTAssertEqual(try database.scalarInt("PRAGMA user_version"), Int64(Schema.currentVersion))
    }

    func testFileFromANewerCasebookIsRefusedWithAClearMessage() throws {
        let path = directory + "/newer.db"
        do {
            let database = try CaseFile.open(path, access: .write, create: true)
            try database.execute("PRAGMA user_version = \(Schema.currentVersion + 5)")
        }
        for access in [CaseFile.Access.read, .write] {
            XCTAssertThrowsError(try CaseFile.open(path, access: access)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("newer casebook"), message)
                XCTAssertTrue(message.contains("schema version \(Schema.currentVersion + 5)"), message)
            }
        }
    }

    func testOlderFileIsMigratedOnWrite() throws {
        let path = directory + "/old.db"
        // Version 0: an empty SQLite file, as an older casebook would leave before its first migration.
        _ = try Database(path: path, mode: .readWriteCreate)
        let database = try CaseFile.open(path, access: .write, create: true)
        XCTAssertEqual(try database.scalarInt("PRAGMA user_version"), Int64(Schema.currentVersion))
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'exchanges'"), 1)
    }

    func testNonDatabaseFileIsNamedAsSuch() throws {
        let path = directory + "/notes.txt"
        try Data(String(repeating: "not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try CaseFile.open(path, access: .read)) { error in
            XCTAssertTrue("\(error)".contains("not a casebook case file"), "\(error)")
        }
    }

    func testMissingFileForReadingSaysHowToCreateOne() {
        XCTAssertThrowsError(try CaseFile.open(directory + "/absent.db", access: .read)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    func testSecondWriterIsRefusedWhileTheFirstHoldsTheLock() throws {
        let path = directory + "/case.db"
        _ = try CaseFile.open(path, access: .write, create: true)
        let first = try WriterLock(databasePath: path)
        XCTAssertThrowsError(try WriterLock(databasePath: path)) { error in
            XCTAssertTrue("\(error)".contains("being written by another casebook process"), "\(error)")
        }
        withExtendedLifetime(first) {}
    }

    func testStatementErrorsNameTheSQLButNotTheBoundValues() throws {
        let database = try CaseFile.open(directory + "/case.db", access: .write, create: true)
        let insert = try database.prepare("INSERT INTO models (model_pk, name) VALUES (?1, ?2)")
        try insert.run([1, "secret-value-1"])
        XCTAssertThrowsError(try insert.run([1, "secret-value-2"])) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("INSERT INTO models"), message)
            XCTAssertFalse(message.contains("secret-value"), message)
        }
    }
}
