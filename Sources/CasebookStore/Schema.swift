/// The schema migrations, in order. Their SQL is the files in `schema/`,
/// embedded at build time (Sources/CasebookStore/schema is a link to it), so
/// the binary cannot apply anything other than what the repository documents.
public enum Schema {
    /// The indicator in `run_clusters.indicators` that lowers a cluster's risk instead of raising
    /// it (schema/README.md): the share of accounts that name an organisation. Shown apart from
    /// the risk drivers.
    public static let discountIndicator = "accountable_organisation"

    public struct Migration: Sendable {
        public let version: Int
        public let fileName: String
        public let sql: String
    }

    public static let migrations: [Migration] = [
        Migration(version: 1, fileName: "v0001-initial.sql", sql: String(decoding: PackageResources.v0001_initial_sql, as: UTF8.self)),
        Migration(version: 2, fileName: "v0002-link.sql", sql: String(decoding: PackageResources.v0002_link_sql, as: UTF8.self)),
        Migration(version: 3, fileName: "v0003-read-options.sql",
                  sql: String(decoding: PackageResources.v0003_read_options_sql, as: UTF8.self)),
        Migration(version: 4, fileName: "v0004-cases-audit.sql",
                  sql: String(decoding: PackageResources.v0004_cases_audit_sql, as: UTF8.self)),
        Migration(version: 5, fileName: "v0005-exchange-id-check.sql",
                  sql: String(decoding: PackageResources.v0005_exchange_id_check_sql, as: UTF8.self)),
        Migration(version: 6, fileName: "v0006-link-caveats.sql",
                  sql: String(decoding: PackageResources.v0006_link_caveats_sql, as: UTF8.self)),
    ]

    /// The schema objects ("table name", "view name", ...) that migrations up to `version` create,
    /// found by applying them to an in-memory database.
    static func objects(upTo version: Int) -> Set<String> {
        objectsByVersion[version] ?? []
    }

    private static let objectsByVersion: [Int: Set<String>] = {
        var result: [Int: Set<String>] = [:]
        guard let database = try? Database(path: ":memory:", mode: .readWriteCreate) else { return result }
        for migration in migrations {
            guard (try? database.execute(migration.sql)) != nil,
                  let names = try? CaseFile.objectNames(database) else { break }
            result[migration.version] = Set(names)
        }
        return result
    }()

    /// The version a case file has once every migration is applied.
    public static var currentVersion: Int { migrations.last!.version }
}
