import CasebookStore
import Foundation

/// The full-text index over prompts (`prompt_index`, FTS5): built on request,
/// because it costs minutes and a fifth of the case file's size at campaign
/// scale, and extended with what later ingests added.
public enum PromptIndex {
    /// What the index holds and what it lacks.
    public struct State: Sendable {
        public let indexedThrough: Int64
        public let lastExchange: Int64
        public var isComplete: Bool { indexedThrough >= lastExchange }
        /// Exchanges not yet indexed (by row id: deleted rows are not counted off).
        public var missing: Int64 { max(0, lastExchange - indexedThrough) }
    }

    public static func state(_ database: Database) throws -> State {
        State(indexedThrough: try database.scalarInt("SELECT built_through FROM prompt_index_state") ?? 0,
              lastExchange: try database.scalarInt("SELECT max(exchange_pk) FROM exchange_rows") ?? 0)
    }

    /// Indexes every exchange after the last one indexed, in committed chunks, so a
    /// cancelled or killed build keeps what it did and the next one continues.
    /// `progress` gets (done, total) and returns false to stop.
    public static func build(_ database: Database, chunk: Int64 = 50_000,
                             progress: (Int64, Int64) -> Bool = { _, _ in true }) throws -> State {
        let initial = try state(database)
        var done = initial.indexedThrough
        let insert = try database.prepare("""
            INSERT INTO prompt_index (rowid, prompt)
            SELECT exchange_pk, prompt FROM exchange_rows WHERE exchange_pk > ?1 AND exchange_pk <= ?2 AND prompt IS NOT NULL
            """)
        let record = try database.prepare("""
            INSERT INTO prompt_index_state (id, built_through, built_at_ms, seconds) VALUES (1, ?1, ?2, ?3)
            ON CONFLICT (id) DO UPDATE SET built_through = ?1, built_at_ms = ?2, seconds = seconds + ?3
            """)
        while done < initial.lastExchange {
            guard progress(done - initial.indexedThrough, initial.missing) else { break }
            let chunkStarted = Date()
            let upTo = min(done + chunk, initial.lastExchange)
            try database.transaction {
                try insert.run([done, upTo])
                try record.run([upTo, Int64(Date().timeIntervalSince1970 * 1000), Date().timeIntervalSince(chunkStarted)])
            }
            done = upTo
        }
        _ = progress(done - initial.indexedThrough, initial.missing)
        return try state(database)
    }
}
