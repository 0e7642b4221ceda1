import CasebookStore
import Foundation

/// Work too slow for a key press (counting a million rows, summarising an
/// account's traffic, building the full-text index): run on a connection of
/// its own, its result handed back to the UI thread, cancellable.
public protocol BackgroundWork: AnyObject {
    /// Queues `job`; `done` runs on the UI thread, from `deliver()`, with its result.
    func submit<T: Sendable>(_ label: String, job: @escaping @Sendable (Database) throws -> T,
                             done: @escaping (Result<T, Error>) -> Void)
    /// Runs the completions of finished jobs; true when any ran (the screen needs redrawing).
    @discardableResult func deliver() -> Bool
    /// Labels of queued and running jobs, for the status line.
    var running: [String] { get }
    /// Stops the running job and drops the queued ones.
    func cancelAll()
}

/// Runs each job at once on the UI's own connection: for headless runs and tests,
/// where every screen must show finished work.
public final class ImmediateWork: BackgroundWork {
    private let database: Database
    private var finished: [() -> Void] = []

    public init(database: Database) { self.database = database }

    public func submit<T: Sendable>(_ label: String, job: @escaping @Sendable (Database) throws -> T,
                                    done: @escaping (Result<T, Error>) -> Void) {
        let result = Result { try job(database) }
        finished.append { done(result) }
    }

    @discardableResult public func deliver() -> Bool {
        let ready = finished
        finished.removeAll()
        ready.forEach { $0() }
        return !ready.isEmpty
    }

    public var running: [String] { [] }
    public func cancelAll() { finished.removeAll() }
}

/// Runs jobs one at a time on a thread with its own read-only connection.
public final class ThreadedWork: BackgroundWork, @unchecked Sendable {
    private let path: String
    private let condition = NSCondition()
    private var queue: [(id: Int, label: String, job: @Sendable (Database) -> Any)] = []
    private var results: [(id: Int, value: Any)] = []
    private var current: (id: Int, label: String)?
    private var completions: [Int: (Any) -> Void] = [:]
    private var nextID = 0
    private var connection: Database?

    public init(path: String) {
        self.path = path
        Thread.detachNewThread { [self] in loop() }
    }

    public func submit<T: Sendable>(_ label: String, job: @escaping @Sendable (Database) throws -> T,
                                    done: @escaping (Result<T, Error>) -> Void) {
        nextID += 1
        let id = nextID
        completions[id] = { value in done(value as! Result<T, Error>) }
        condition.lock()
        queue.append((id, label, { database in Result { try job(database) } as Any }))
        condition.signal()
        condition.unlock()
    }

    @discardableResult public func deliver() -> Bool {
        condition.lock()
        let ready = results
        results.removeAll()
        condition.unlock()
        for (id, value) in ready { completions.removeValue(forKey: id)?(value) }
        return !ready.isEmpty
    }

    public var running: [String] {
        condition.lock()
        defer { condition.unlock() }
        return (current.map { [$0.label] } ?? []) + queue.map(\.label)
    }

    public func cancelAll() {
        condition.lock()
        for item in queue { completions.removeValue(forKey: item.id) }
        queue.removeAll()
        if let current { completions.removeValue(forKey: current.id) }
        connection?.interrupt()
        condition.unlock()
    }

    private func loop() {
        guard let database = try? CaseFile.open(path, access: .read) else { return }
        database.adopt()
        condition.lock()
        connection = database
        condition.unlock()
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let item = queue.removeFirst()
            current = (item.id, item.label)
            condition.unlock()
            let value = item.job(database)
            condition.lock()
            current = nil
            results.append((item.id, value))
            condition.unlock()
        }
    }
}

/// How far a long job is, shared with the thread that runs it, and whether to stop it.
public final class JobProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var done: Int64 = 0
    private var total: Int64 = 0
    private var stopRequested = false

    public init() {}

    /// Records progress; false once a stop was requested (the job should end).
    public func report(done: Int64, total: Int64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        self.done = done
        self.total = total
        return !stopRequested
    }

    public func stop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
    }

    /// "35%" once the total is known.
    public var percent: String {
        lock.lock()
        defer { lock.unlock() }
        return total > 0 ? "\(done * 100 / total)%" : "starting"
    }
}
