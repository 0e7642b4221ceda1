import CasebookIO
import Crypto
import Foundation

/// The Ed25519 key that signs bundles: kept in the investigator's config directory (0600),
/// never in a case file, and written as PEM so standard tools (openssl, Python's
/// `cryptography`) read it and the public half without casebook.
public struct SigningKey {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let path: String

    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    /// `$XDG_CONFIG_HOME/casebook/signing-key.pem`, else `~/.config/casebook/signing-key.pem`.
    public static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return config + "/casebook/signing-key.pem"
    }

    public enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case unreadable(String, String)
        case notAnEd25519Key(String)
        case tooOpen(String, mode: mode_t)
        case cannotCreate(String, String)

        public var description: String {
            switch self {
            case let .missing(path): return "no signing key at \(path) (a named key must exist; the default one is created on first use)"
            case let .unreadable(path, reason): return "cannot read the signing key \(path): \(reason)"
            case let .notAnEd25519Key(path): return "\(path) is not an Ed25519 private key in PEM (PKCS #8)"
            case let .tooOpen(path, mode): return "the signing key \(path) can be read by others (mode \(String(mode, radix: 8))); run chmod 600 on it"
            case let .cannotCreate(path, reason): return "cannot create the signing key \(path): \(reason)"
            }
        }
    }

    /// Loads the key at `path`, or creates the default key on first use (folder 0700, file 0600).
    public static func load(_ named: String?) throws -> SigningKey {
        let path = named ?? defaultPath
        var info = stat()
        if stat(path, &info) != 0 {
            guard named == nil else { throw Failure.missing(path) }
            return try create(path)
        }
        guard info.st_mode & 0o077 == 0 else { throw Failure.tooOpen(path, mode: info.st_mode & 0o777) }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.unreadable(path, String(cString: strerror(errno))) }
        guard let der = PEM.decode(String(decoding: data, as: UTF8.self), label: "PRIVATE KEY"),
              der.count == privatePrefix.count + 32, Array(der.prefix(privatePrefix.count)) == privatePrefix,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)) else {
            throw Failure.notAnEd25519Key(path)
        }
        return SigningKey(privateKey: key, path: path)
    }

    private static func create(_ path: String) throws -> SigningKey {
        let folder = PathText.parent(path)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure.cannotCreate(path, error.localizedDescription)
        }
        let key = Curve25519.Signing.PrivateKey()
        let pem = PEM.encode(privatePrefix + Array(key.rawRepresentation), label: "PRIVATE KEY")
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure.cannotCreate(path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        let bytes = Array(pem.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count, fsync(descriptor) == 0 else {
            throw Failure.cannotCreate(path, String(cString: strerror(errno)))
        }
        return SigningKey(privateKey: key, path: path)
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { Array(try privateKey.signature(for: message)) }

    /// SubjectPublicKeyInfo in PEM: what `openssl pkeyutl -verify -pubin` and Python's
    /// `load_pem_public_key` read.
    public var publicKeyPEM: String { Self.publicKeyPEM(publicKey) }

    public static func publicKeyPEM(_ key: Curve25519.Signing.PublicKey) -> String {
        PEM.encode(publicPrefix + Array(key.rawRepresentation), label: "PUBLIC KEY")
    }

    /// The public key in a PEM file (or the private key's public half), for `verify --key`.
    public static func publicKey(fromPEM text: String) -> Curve25519.Signing.PublicKey? {
        if let der = PEM.decode(text, label: "PUBLIC KEY"), der.count == publicPrefix.count + 32,
           Array(der.prefix(publicPrefix.count)) == publicPrefix {
            return try? Curve25519.Signing.PublicKey(rawRepresentation: der.suffix(32))
        }
        if let der = PEM.decode(text, label: "PRIVATE KEY"), der.count == privatePrefix.count + 32,
           Array(der.prefix(privatePrefix.count)) == privatePrefix {
            return (try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)))?.publicKey
        }
        return nil
    }

    /// SHA-256 of the raw public key, in hex: how a person names a key over the phone.
    public static func fingerprint(_ key: Curve25519.Signing.PublicKey) -> String {
        FileDigest.sha256(bytes: Array(key.rawRepresentation))
    }

    /// DER headers for Ed25519 (RFC 8410): the key bytes follow them.
    static let publicPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
    static let privatePrefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

    /// A second key from this one, for keyed pseudonyms: bundles signed by one key
    /// redact a value the same way, and nobody without the key can test a guess.
    public var redactionKey: SymmetricKey {
        SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("casebook redaction pseudonyms".utf8),
                                                           using: SymmetricKey(data: privateKey.rawRepresentation)))
    }
}

/// PEM armour (RFC 7468): base64 in 64-column lines between BEGIN and END labels.
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }

    static func decode(_ text: String, label: String) -> [UInt8]? {
        guard let begin = text.range(of: "-----BEGIN \(label)-----"),
              let end = text.range(of: "-----END \(label)-----", range: begin.upperBound..<text.endIndex) else { return nil }
        let body = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map(Array.init)
    }
}
