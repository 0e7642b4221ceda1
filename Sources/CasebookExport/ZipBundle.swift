import Foundation
import ZIPFoundation

/// A bundle as one `.zip` file (ZIP64 where large), for sending; the same files as the folder.
enum ZipBundle {
    /// Zips the files of `folder` into `path`, which should lie inside the private `folder`
    /// (the library creates it with the default mode; it is made 0600 before it leaves).
    static func write(folder: String, to path: String) throws {
        let names = try files(in: folder)
        do {
            let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
            let base = URL(fileURLWithPath: folder)
            for file in names {
                try archive.addEntry(with: file, relativeTo: base, compressionMethod: .deflate)
            }
        } catch let error as ExportError {
            throw error
        } catch {
            unlink(path)
            throw ExportError.output("cannot write the zip \(path): \(error)")
        }
        chmod(path, 0o600)
        let synced = open(path, O_RDONLY | O_CLOEXEC)
        if synced >= 0 {
            fsync(synced)
            close(synced)
        }
    }

    /// Regular files under `folder`, as relative paths, sorted.
    static func files(in folder: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var out: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var info = stat()
            if lstat(folder + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { out.append(relative) }
        }
        return out.sorted()
    }
}
