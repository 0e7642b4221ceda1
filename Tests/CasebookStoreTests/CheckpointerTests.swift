import CasebookStore
import Foundation
import XCTest

/// The write-ahead log during a bulk load: copied into the database beside the writer,
/// and started over, so that it does not grow as large as the database.
final class CheckpointerTests: XCTestCase {
    private var path: String!

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "casebook-checkpointer-\(UUID().uuidString).db"
    }

    override func tearDownWithError() throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    private func walSize() -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int64) ?? 0
    }

    /// Writes `transactions` transactions of 100 rows of 1 KB as an ingest's writer does: SQLite's own
    /// checkpoints off, the log restarted between two transactions when the checkpointer asks.
    /// - Returns: the largest size the log reached.
    /// - Parameter after: called after each transaction with its number; false ends the load early.
    private func load(transactions: Int, checkpointer: Checkpointer?, after: (Int) throws -> Bool = { _ in true }) throws -> Int64 {
        let writer = try Database(path: path, mode: .readWriteCreate)
        writer.setBusyTimeout(milliseconds: 10_000)
        try writer.execute("PRAGMA page_size = 4096")
        try writer.execute("PRAGMA journal_mode = WAL")
        try writer.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        checkpointer?.start()
        checkpointer?.follow(writer)
        defer {
            checkpointer?.unfollow(writer)
            checkpointer?.stop()
        }
        let insert = try writer.prepare("INSERT INTO t (body) VALUES (?1)")
        let body = String(repeating: "evidence ", count: 114)
        var largest: Int64 = 0
        for transaction in 0..<transactions {
            try writer.transaction {
                for _ in 0..<100 { try insert.run([body]) }
            }
            if checkpointer?.restartDue == true { checkpointer?.restartWhileIdle() }
            largest = max(largest, walSize())
            if try !after(transaction) { break }
        }
        return largest
    }

    private func checkRows(_ expected: Int) throws {
        let database = try Database(path: path, mode: .readOnly)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM t"), Int64(expected))
        XCTAssertEqual(try database.prepare("PRAGMA integrity_check").rows { $0.string(0) }.first, "ok")
    }

    func testWithoutRestartsTheLogGrowsAsLargeAsTheRows() throws {
        let largest = try load(transactions: 300, checkpointer: nil)
        XCTAssertGreaterThan(largest, 30 << 20)
        try checkRows(30_000)
    }

    private func databaseSize() -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64) ?? 0
    }

    /// A load that ends with less than an interval in the log has it copied when the writer asks,
    /// while the writer goes on to something long (an index build) that commits nothing.
    func testTheLogIsCopiedWhenTheWriterAsksToCatchUp() throws {
        let checkpointer = Checkpointer(path: path, intervalBytes: 64 << 20, boundBytes: 512 << 20)
        var copied: Int64 = 0
        _ = try load(transactions: 10, checkpointer: checkpointer) { transaction in
            guard transaction == 9 else { return true }
            Thread.sleep(forTimeInterval: 0.2)
            XCTAssertLessThan(self.databaseSize(), 100 << 10, "about 1 MB logged, less than an interval: nothing copied yet")
            checkpointer.catchUp()
            let deadline = Date().addingTimeInterval(10)
            while self.databaseSize() < 1 << 20 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            copied = self.databaseSize()
            return true
        }
        XCTAssertGreaterThanOrEqual(copied, 1 << 20, "the rows' pages are in the database file")
        try checkRows(1_000)
    }

    func testTheLogStaysNearItsBoundWhileTheWriterWrites() throws {
        let largest = try load(transactions: 300, checkpointer: Checkpointer(path: path, intervalBytes: 256 << 10, boundBytes: 1 << 20))
        // The passive passes before the writer pauses run beside it: on a slow disk the log
        // overshoots its bound by what the writer commits meanwhile, hence the margin.
        XCTAssertLessThan(largest, 12 << 20, "about 34 MB written; the log is started over near 1 MiB")
        try checkRows(30_000)
    }

    func testAReaderOnAnOldSnapshotDelaysTheRestartWithoutStoppingTheLoad() throws {
        let checkpointer = Checkpointer(path: path, intervalBytes: 256 << 10, boundBytes: 1 << 20)
        var reader: Database?
        var restartsBeforeTheReader = 0
        var released: (transaction: Int, restarts: Int)?
        var restarted: (transaction: Int, logSize: Int64)?
        // How soon the checkpointer copies the log the reader held back depends on the machine:
        // the writer goes on (slowed, so that the log stays small on a slow disk) until it has.
        let deadline = Date().addingTimeInterval(60)
        let written = try load(transactions: 100_000, checkpointer: checkpointer) { transaction in
            if transaction == 10 {
                // A reader (the TUI, a script) in a read transaction keeps the log from starting over.
                reader = try Database(path: path, mode: .readOnly)
                try reader?.execute("BEGIN")
                XCTAssertEqual(try reader?.scalarInt("SELECT count(*) FROM t"), 1_100)
                restartsBeforeTheReader = checkpointer.restarts
            }
            if transaction == 120 {
                XCTAssertGreaterThan(walSize(), 8 << 20, "the log grows while the reader holds its snapshot")
                XCTAssertEqual(checkpointer.restarts, restartsBeforeTheReader, "no restart while the reader reads")
                try reader?.execute("COMMIT")
                reader = nil
                released = (transaction, checkpointer.restarts)
            }
            guard let released, transaction > released.transaction else { return true }
            if let restarted {
                // The log is written from its beginning again: the file no longer grows.
                XCTAssertEqual(walSize(), restarted.logSize)
                return transaction < restarted.transaction + 30
            }
            if checkpointer.restarts > released.restarts {
                restarted = (transaction, walSize())
            } else if Date() > deadline {
                return false
            } else {
                Thread.sleep(forTimeInterval: 0.005)
            }
            return true
        }
        XCTAssertNotNil(restarted, "once the reader has gone, the log is started over again")
        XCTAssertGreaterThan(written, 8 << 20)
        try checkRows(((restarted?.transaction ?? 0) + 30 + 1) * 100)
    }
}
