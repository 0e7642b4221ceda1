import Foundation

/// The bounded hand-off between the parsing thread and the writing thread.
///
/// Parsing (and gzip) runs on one core and SQLite on the other; the bound
/// keeps memory flat when one side is faster. It is bounded in bytes as well as
/// in batches, because a batch of wide rows holds many times the memory of one
/// of narrow rows. Four batches, on purpose: the writer is the bound, so a full
/// queue is the usual state, and every buffer in it is memory touched for the
/// first time, which a virtual machine may charge dearly; sixteen gained nothing
/// at campaign scale and lost on narrow rows (BENCHMARKS.md). The byte bound only
/// binds for batches of huge records, which it lets be kept for reuse.
/// A writer failure is stored and handed to the parser at its next send, so the
/// parser stops promptly.
final class WriterChannel: @unchecked Sendable {
    enum Job {
        case batch(RecordBatch)
        /// Runs on the writer thread, in order with the batches before it.
        case call(@Sendable (BatchWriter) throws -> Void)
        case stop
    }

    private let condition = NSCondition()
    /// Waiting jobs with the memory each holds.
    private var jobs: [(job: Job, bytes: Int)] = []
    private var head = 0
    private var failure: Error?
    private let capacity: Int
    private let byteBudget: Int
    /// The memory held by the batches waiting in `jobs`.
    private var queuedBytes = 0
    private var spareBatches: [(batch: RecordBatch, bytes: Int)] = []
    private var spareBytes = 0

    /// - Parameters:
    ///   - capacity: the most jobs waiting at once.
    ///   - byteBudget: the most memory the waiting batches hold; a batch is
    ///     always taken when nothing waits, however large.
    init(capacity: Int = 4, byteBudget: Int = 256 << 20) {
        self.capacity = capacity
        self.byteBudget = byteBudget
    }

    func send(_ job: Job) throws {
        let bytes = Self.footprint(of: job)
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && jobs.count > head
                && (jobs.count - head >= capacity || queuedBytes + bytes > byteBudget) {
            condition.wait()
        }
        if let failure { throw failure }
        jobs.append((job, bytes))
        queuedBytes += bytes
        condition.broadcast()
    }

    private static func footprint(of job: Job) -> Int {
        if case let .batch(batch) = job { return batch.footprint }
        return 0
    }

    /// Whether no job is waiting (the writer is keeping up with the readers).
    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count == head
    }

    /// The next job, waiting for one; nil once the writer has failed.
    func receive() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.count == head && failure == nil { condition.wait() }
        if failure != nil { return nil }
        let (job, bytes) = jobs[head]
        queuedBytes -= bytes
        jobs[head] = (.stop, 0)  // drop the queue's reference so a batch can be recycled without a copy
        head += 1
        if head > 64 {
            jobs.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return job
    }

    /// Hands a written batch back for reuse. Spares are kept up to the queue's
    /// own bounds, so the batches alive never hold much more than a full queue.
    func recycle(_ batch: consuming RecordBatch) {
        let bytes = batch.footprint
        condition.lock()
        if spareBatches.count < capacity && spareBytes + bytes <= byteBudget {
            spareBatches.append((batch, bytes))
            spareBytes += bytes
        }
        condition.unlock()
    }

    /// An empty batch, reusing a written one when there is one.
    func emptyBatch(kind: RecordKind, fileID: Int64) -> RecordBatch {
        condition.lock()
        var batch = spareBatches.popLast().map { spare in
            spareBytes -= spare.bytes
            return spare.batch
        }
        condition.unlock()
        guard batch != nil else { return RecordBatch(kind: kind, fileID: fileID) }
        batch!.reuse(kind: kind, fileID: fileID)
        return batch!
    }

    func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    var failed: Error? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// Runs `body` on the writer thread after everything sent before it, and waits for its result.
    func call<T: Sendable>(_ body: @escaping @Sendable (BatchWriter) throws -> T) throws -> T {
        let reply = Reply<T>()
        try send(.call { writer in
            do { reply.fulfil(.success(try body(writer))) } catch {
                reply.fulfil(.failure(error))
                throw error
            }
        })
        return try reply.wait(orFailureOf: self)
    }
}

/// A one-shot result from the writer thread.
final class Reply<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, Error>?

    func fulfil(_ value: Result<T, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    func wait(orFailureOf channel: WriterChannel) throws -> T {
        condition.lock()
        defer { condition.unlock() }
        while result == nil {
            if let failure = channel.failed { throw failure }
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
        return try result!.get()
    }
}
