/// The schema migrations, in order. Their SQL is the files in `schema/`,
/// embedded at build time (Sources/CasebookStore/schema is a link to it), so
/// the binary cannot apply anything other than what the repository documents.
public enum Schema {
    public struct Migration: Sendable {
        public let version: Int
        public let fileName: String
        public let sql: String
    }

    public static let migrations: [Migration] = [
        Migration(version: 1, fileName: "v0001-initial.sql", sql: String(decoding: PackageResources.v0001_initial_sql, as: UTF8.self)),
        Migration(version: 2, fileName: "v0002-link.sql", sql: String(decoding: PackageResources.v0002_link_sql, as: UTF8.self)),
    ]

    /// The version a case file has once every migration is applied.
    public static var currentVersion: Int { migrations.last!.version }
}
