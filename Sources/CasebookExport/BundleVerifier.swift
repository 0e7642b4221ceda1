import CasebookIO
import CasebookStore
import Crypto
import Foundation
import ZIPFoundation

/// Checks a bundle (folder or `.zip`) as a recipient would: every digest, no file missing
/// or extra, the signature (by the bundled key and, if given, the expected one), and the
/// audit excerpt's chain up to the head the manifest records. Every failed check is named.
public enum BundleVerifier {
    public struct Report: Sendable {
        public var checks: [String] = []
        public var failures: [String] = []
        public var keyFingerprint: String?
        public var isValid: Bool { failures.isEmpty }
    }

    public static func verify(_ path: String, expectedKey: String? = nil) throws -> Report {
        let reader: BundleReader
        var info = stat()
        guard SystemPath.withCString(path, { stat($0, &info) }) == 0 else { throw ExportError.notFound("no bundle at \(path)") }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            reader = try FolderReader(path)
        } else {
            reader = try ZipReader(path)
        }
        var report = Report()
        func fail(_ text: String) { report.failures.append(text) }
        func pass(_ text: String) { report.checks.append(text) }

        let present = Set(reader.files)
        guard let checksumText = reader.contents("MANIFEST.sha256").map({ String(decoding: $0, as: UTF8.self) }) else {
            fail("MANIFEST.sha256 is missing")
            return report
        }
        // 1. MANIFEST.sha256: each line's digest, missing and extra files.
        var listed: [String: String] = [:]
        for (number, line) in checksumText.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64, parts[1].hasPrefix(" ") else {
                fail("MANIFEST.sha256 line \(number + 1) is not `DIGEST  FILE`")
                continue
            }
            listed[String(parts[1].dropFirst())] = String(parts[0]).lowercased()
        }
        var digests: [String: (sha256: String, size: Int64)] = [:]
        for file in present.sorted() where file != "MANIFEST.sha256" {
            digests[file] = try reader.digest(file)
        }
        for (file, expected) in listed.sorted(by: { $0.key < $1.key }) {
            guard let actual = digests[file] else { fail("\(file) is listed in MANIFEST.sha256 but missing"); continue }
            if actual.sha256 != expected { fail("\(file) was altered: its SHA-256 does not match MANIFEST.sha256") }
        }
        for file in present.sorted() where file != "MANIFEST.sha256" && listed[file] == nil {
            fail("\(file) is not part of the bundle (an extra file)")
        }
        pass("\(listed.count) files listed in MANIFEST.sha256")

        // 2. manifest.json: its own list agrees with the files.
        guard let manifestData = reader.contents("manifest.json") else {
            fail("manifest.json is missing")
            return report
        }
        guard let manifest = try? JSONSerialization.jsonObject(with: Data(manifestData)) as? [String: Any],
              let files = manifest["files"] as? [[String: Any]] else {
            fail("manifest.json is not a casebook manifest")
            return report
        }
        let sealing: Set<String> = ["manifest.json", "manifest.sig", "public-key.pem", "MANIFEST.sha256"]
        var inManifest = Set<String>()
        for file in files {
            guard let name = file["path"] as? String, let sha = file["sha256"] as? String else { continue }
            inManifest.insert(name)
            guard let actual = digests[name] else { fail("\(name) is listed in manifest.json but missing"); continue }
            if actual.sha256 != sha { fail("\(name) does not match the digest in manifest.json") }
            if let size = (file["size"] as? NSNumber)?.int64Value, size != actual.size { fail("\(name) has \(actual.size) bytes; manifest.json says \(size)") }
        }
        for file in present.sorted() where !sealing.contains(file) && !inManifest.contains(file) && listed[file] != nil {
            fail("\(file) is in MANIFEST.sha256 but not in the signed manifest.json")
        }
        pass("\(inManifest.count) files listed in manifest.json")

        // 3. The signature, by the bundled key and by the expected one.
        let bundledKey = reader.contents("public-key.pem").flatMap { SigningKey.publicKey(fromPEM: String(decoding: $0, as: UTF8.self)) }
        let signature = reader.contents("manifest.sig")
        if let bundledKey {
            report.keyFingerprint = SigningKey.fingerprint(bundledKey)
            if let signature, bundledKey.isValidSignature(signature, for: manifestData) {
                pass("manifest.json is signed by the bundled key \(SigningKey.fingerprint(bundledKey))")
            } else {
                fail(signature == nil ? "manifest.sig is missing" : "the signature does not match manifest.json and the bundled public key")
            }
            if let recorded = (manifest["signing_key"] as? [String: Any])?["public_key_sha256"] as? String,
               recorded != SigningKey.fingerprint(bundledKey) {
                fail("public-key.pem is not the key manifest.json names")
            }
        } else {
            fail("public-key.pem is missing or not an Ed25519 public key")
        }
        if let expectedKey {
            let expected: Curve25519.Signing.PublicKey?
            if let data = FileManager.default.contents(atPath: expectedKey) {
                expected = SigningKey.publicKey(fromPEM: String(decoding: data, as: UTF8.self))
                if expected == nil { throw ExportError.usage("\(expectedKey) holds no Ed25519 key in PEM") }
            } else {
                throw ExportError.usage("cannot read the expected key \(expectedKey)")
            }
            if let expected, let signature, expected.isValidSignature(signature, for: manifestData) {
                pass("manifest.json is signed by the expected key \(SigningKey.fingerprint(expected))")
            } else {
                fail("the bundle is not signed by the expected key \(expected.map(SigningKey.fingerprint) ?? "")")
            }
        }

        // 4. The audit excerpt chains, and ends at the recorded head.
        if let audit = reader.contents("data/audit.jsonl") {
            checkAudit(audit, head: manifest["audit_head"] as? [String: Any], pass: pass, fail: fail)
        } else {
            fail("data/audit.jsonl is missing")
        }
        return report
    }

    private static func checkAudit(_ data: [UInt8], head: [String: Any]?, pass: (String) -> Void, fail: (String) -> Void) {
        guard let scratch = try? Database(path: ":memory:", mode: .readWriteCreate),
              let canonical = try? scratch.prepare("SELECT json_array(?1, ?2, ?3, ?4, ?5, ?6)") else {
            fail("cannot check the audit excerpt")
            return
        }
        var previous: (seq: Int64, hash: String)?
        var recomputed = 0, opaque = 0
        for (number, line) in data.split(separator: 0x0A).enumerated() {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let seq = (entry["seq"] as? NSNumber)?.int64Value, let at = (entry["at_ms"] as? NSNumber)?.int64Value,
                  let actor = entry["actor"] as? String, let action = entry["action"] as? String, let target = entry["target"] as? String,
                  let payload = entry["payload"] as? String, let prev = entry["prev_hash"] as? String, let hash = entry["hash"] as? String else {
                fail("data/audit.jsonl line \(number + 1) is not an audit entry")
                return
            }
            if let previous {
                if seq != previous.seq + 1 { fail("the audit excerpt skips from entry \(previous.seq) to \(seq)"); return }
                if prev != previous.hash { fail("audit entry \(seq) does not chain to entry \(previous.seq)"); return }
            }
            let withheld = (entry["payload_withheld"] as? NSNumber)?.boolValue ?? false
            let redacted = (entry["payload_redacted"] as? NSNumber)?.boolValue ?? false
            if withheld || redacted {
                opaque += 1
            } else {
                let text = (try? canonical.rows([seq, at, actor, action, target, payload]) { $0.string(0) ?? "" }.first) ?? nil
                var hasher = SHA256()
                hasher.update(data: Data(prev.utf8))
                hasher.update(data: Data((text ?? "").utf8))
                if FileDigest.hex(hasher.finalize()) != hash { fail("audit entry \(seq) was altered: its hash does not match its content"); return }
                recomputed += 1
            }
            previous = (seq, hash)
        }
        if let head, let seq = (head["seq"] as? NSNumber)?.int64Value, let hash = head["hash"] as? String {
            guard let previous, previous.seq == seq, previous.hash == hash else {
                fail("the audit excerpt ends at entry \(previous?.seq ?? 0), not at the head (entry \(seq)) recorded in manifest.json: it was cut short or altered")
                return
            }
        } else if previous != nil {
            fail("manifest.json records no audit head but the excerpt has entries")
            return
        }
        pass("the audit excerpt chains to the recorded head (\(recomputed) entries recomputed, \(opaque) withheld or redacted)")
    }
}

/// The files of a bundle, wherever they lie.
protocol BundleReader {
    var files: [String] { get }
    func contents(_ file: String) -> [UInt8]?
    func digest(_ file: String) throws -> (sha256: String, size: Int64)
}

struct FolderReader: BundleReader {
    let root: String
    let files: [String]

    init(_ root: String) throws {
        self.root = root
        var found: [String] = []
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { throw ExportError.notFound("cannot read \(root)") }
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { continue }
            // Folders are implied; anything else (a link, a device) is reported as an extra file.
            if (info.st_mode & S_IFMT) != S_IFDIR { found.append(relative) }
        }
        files = found
    }

    func contents(_ file: String) -> [UInt8]? {
        var info = stat()
        guard lstat(root + "/" + file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 1 << 30 else { return nil }
        return FileManager.default.contents(atPath: root + "/" + file).map(Array.init)
    }

    func digest(_ file: String) throws -> (sha256: String, size: Int64) {
        var info = stat()
        guard lstat(root + "/" + file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return ("not a regular file", -1) }
        return (try FileDigest.sha256(path: root + "/" + file), Int64(info.st_size))
    }
}

struct ZipReader: BundleReader {
    let archive: Archive
    let entries: [String: Entry]
    var files: [String] { Array(entries.keys) }

    init(_ path: String) throws {
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw ExportError.usage("\(path) is neither a bundle folder nor a readable zip")
        }
        var entries: [String: Entry] = [:]
        for entry in archive where entry.type != .directory {
            entries[entry.path] = entry
        }
        self.entries = entries
    }

    func contents(_ file: String) -> [UInt8]? {
        guard let entry = entries[file], entry.type == .file, entry.uncompressedSize < 1 << 30 else { return nil }
        var bytes: [UInt8] = []
        _ = try? archive.extract(entry) { bytes.append(contentsOf: $0) }
        return bytes
    }

    func digest(_ file: String) throws -> (sha256: String, size: Int64) {
        guard let entry = entries[file], entry.type == .file else { return ("not a regular file", -1) }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            _ = try archive.extract(entry) { chunk in
                hasher.update(data: chunk)
                size += Int64(chunk.count)
            }
        } catch {
            return ("damaged in the zip", -1)
        }
        return (FileDigest.hex(hasher.finalize()), size)
    }
}
