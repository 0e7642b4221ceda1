import CasebookIO
import Foundation

/// An input opened for reading, with the digest of the bytes it will give.
struct OpenedInput {
    let source: FileSource
    /// SHA-256 of a regular file up to `source.size`; nil for a stream, which is hashed as it is read.
    let sha256: String?
}

/// Opens and hashes a regular input on a thread of its own, so that the next file is read
/// from disk and hashed while the current one loads (hashing first is what lets an ingest
/// skip a file it has already read). A stream is opened only when it is its turn: opening
/// a FIFO waits for its writer.
final class InputOpener: @unchecked Sendable {
    private let file: InputFile
    /// Written by the opening thread before it signals `done`; read after waiting for it.
    private var result: Result<OpenedInput, Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ file: InputFile) {
        self.file = file
        guard !file.isStream else { return }
        Thread.detachNewThread { [self] in
            result = Result { try Self.open(file) }
            done.signal()
        }
    }

    /// The opened input, once it is ready.
    func opened() throws -> OpenedInput {
        if file.isStream { return try Self.open(file) }
        done.wait()
        return try result!.get()
    }

    private static func open(_ file: InputFile) throws -> OpenedInput {
        // A regular file is read and hashed up to its size now, whatever is appended meanwhile.
        let source = try FileSource(path: file.path, dropsPagesRead: true)
        let sha256 = file.isStream ? nil : try FileDigest.sha256(path: file.path, length: source.size)
        return OpenedInput(source: source, sha256: sha256)
    }
}
