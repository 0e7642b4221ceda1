/// Email addresses as the features that group them read them.
public enum EmailText {
    /// The part after the last '@' (a quoted local part may hold one too), as written; nil for
    /// text with no '@'.
    public static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        return String(address[address.index(after: at)...])
    }
}
