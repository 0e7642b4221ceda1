import Foundation

/// Reads a file from start to end on a background thread, so that a scan which
/// follows finds its pages in the operating system's cache.
///
/// `casebook link` first scans an index (CPU-bound), then walks the table in
/// row order; reading the table file meanwhile turns the walk's cold reads into
/// cache hits. Only done when the file fits comfortably in available memory, so
/// it never pushes out what the scan itself needs.
public final class Prefetcher: @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var cancelled = false
    private let finished = DispatchSemaphore(value: 0)
    private var started = false

    public init(path: String) { self.path = path }

    /// Starts reading if the file is smaller than 80% of the memory available now.
    public func start() {
        guard let size = Self.fileSize(path), let available = Self.availableMemory(), size < available / 10 * 8 else { return }
        started = true
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return }
            defer { close(descriptor) }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { buffer.deallocate() }
            while !isCancelled, read(descriptor, buffer, 1 << 20) > 0 {}
        }
    }

    /// Stops reading and waits for the thread.
    public func stop() {
        lock.lock()
        cancelled = true
        lock.unlock()
        if started { finished.wait() }
        started = false
    }

    private var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// MemAvailable from /proc/meminfo, in bytes.
    private static func availableMemory() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kilobytes = Int64(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }
}
