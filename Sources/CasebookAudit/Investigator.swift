import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is acting, for the audit log: named with `--investigator`, else
/// `CASEBOOK_INVESTIGATOR`, else the login name.
public enum Investigator {
    public static func resolve(_ explicit: String? = nil) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let named = ProcessInfo.processInfo.environment["CASEBOOK_INVESTIGATOR"], !named.isEmpty { return named }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }
}
