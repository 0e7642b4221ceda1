import CasebookAudit
import CasebookIO
import CasebookStore
import Foundation

/// What happened to one input.
public struct FileResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Read to its end.
        case complete
        /// The same content was ingested before (under `path`): skipped.
        case alreadyIngested(path: String, status: String)
        /// Read up to damage; everything before it is loaded.
        case damaged(String)
        /// Could not be opened or read at all.
        case unreadable(String)
    }

    public let file: InputFile
    public let outcome: Outcome
    /// Totals for the file as stored (including work of an interrupted earlier run).
    public let counts: FileCounts
    /// True when this run continued an interrupted one.
    public let resumed: Bool
    /// True when the bytes read were not those hashed before reading (the file was rewritten
    /// in between): the digest and size recorded are then those of the bytes read.
    public var changedSinceHashed = false
}

/// Figures for a progress line.
public struct IngestProgress: Sendable {
    public let file: String
    public let records: Int
    public let bytesRead: Int64
    /// Total input bytes, when every input's size is known.
    public let bytesTotal: Int64?
    public let seconds: Double
}

/// Where an ingest's time went: wall-clock stages in order, and the CPU time of its busy
/// threads (the writer's, the parser's, the readers' ahead of it), so a reader sees which one
/// bounds the load.
public struct IngestStage: Sendable {
    public let name: String
    public let seconds: Double
}

public struct IngestSummary: Sendable {
    public let files: [FileResult]
    public let seconds: Double
    public let bytesRead: Int64
    public let stages: [IngestStage]

    /// 0 when every file was read to its end, 1 when one was damaged (now or when it was
    /// ingested before) or unreadable.
    public var exitStatus: Int32 {
        files.contains { result in
            switch result.outcome {
            case .complete: return false
            case let .alreadyIngested(_, status): return status == "damaged"
            case .damaged, .unreadable: return true
            }
        } ? 1 : 0
    }

    public func total(_ kind: RecordKind? = nil) -> FileCounts {
        var sum = FileCounts()
        for result in files where kind == nil || result.file.kind == kind {
            if case .alreadyIngested = result.outcome { continue }
            sum.read += result.counts.read
            sum.loaded += result.counts.loaded
            sum.duplicate += result.counts.duplicate
            sum.rejected += result.counts.rejected
            sum.rejectedByReason.merge(result.counts.rejectedByReason, uniquingKeysWith: +)
            for (reason, example) in result.counts.firstRejects where sum.firstRejects[reason] == nil {
                sum.firstRejects[reason] = RejectExample(path: result.file.path, line: example.line, detail: example.detail)
            }
        }
        return sum
    }
}

/// A failure of the case file itself (not of an input): locked, full, unwritable, too new.
public struct CaseFileFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// `casebook ingest`: reads inputs into a case file, losslessly and resumably.
public final class Ingest {
    public let databasePath: String
    private let maxRecordBytes: Int
    /// Who the audit log names for each file read.
    private let actor: String
    /// The writer's page cache.
    private let cacheBytes: Int
    /// Records at most in one transaction of several batches (eight batches of 8,192).
    static let recordsPerTransaction = 65_536
    public static let defaultCacheMiB = 192

    /// Keep the case file to this ingest while it loads (`CaseFile.beginExclusiveLoad`).
    private let exclusive: Bool

    public init(databasePath: String, maxRecordBytes: Int = 64 << 20, actor: String = Investigator.resolve(),
                cacheMiB: Int = Ingest.defaultCacheMiB, exclusive: Bool = false) {
        self.databasePath = databasePath
        self.maxRecordBytes = maxRecordBytes
        self.actor = actor
        cacheBytes = cacheMiB << 20
        self.exclusive = exclusive
    }

    /// Reads every file in order. Input problems are reported per file; a
    /// problem with the case file itself throws `CaseFileFailure`.
    public func run(_ files: [InputFile], progress: @escaping (IngestProgress) -> Void = { _ in }) throws -> IngestSummary {
        let lock: WriterLock
        let database: Database
        do {
            (lock, database) = try CaseFile.openExclusive(databasePath, create: true)
            if exclusive { try CaseFile.beginExclusiveLoad(database, path: databasePath) }
        } catch {
            throw CaseFileFailure(description: CaseFile.explain(error, path: databasePath))
        }
        // An exclusive load has no write-ahead log to copy.
        let checkpointer = exclusive ? nil : Checkpointer(path: databasePath)
        checkpointer?.start()
        let channel = WriterChannel()
        let writerDone = DispatchSemaphore(value: 0)
        let transfer = DatabaseTransfer(database: database)
        let writerStages = StageBox()
        let actor = self.actor, cacheBytes = self.cacheBytes, exclusive = self.exclusive
        Thread.detachNewThread {
            defer { writerDone.signal() }
            transfer.database.adopt()
            // A load that fails or is stopped gives the file back as well (a killed one leaves
            // that to the next opener, which also rolls back its unfinished transaction).
            var givenBack = !exclusive
            defer { if !givenBack { _ = try? CaseFile.endExclusiveLoad(transfer.database) } }
            do {
                let writer = try BatchWriter(database: transfer.database, actor: actor, cacheBytes: cacheBytes)
                // After the writer's settings: turning SQLite's own checkpoints off removes any WAL hook.
                checkpointer?.follow(transfer.database)
                defer { checkpointer?.unfollow(transfer.database) }
                try writer.closeInterruptedStreams(finishedAt: Self.nowMilliseconds())
                try writer.deferIndexesIfEmpty()
                while let job = channel.receive() {
                    switch job {
                    case let .batch(batch):
                        _ = try writer.write(batch)
                        channel.recycle(batch)
                        // Batches share a transaction while more are waiting, up to a bound;
                        // when the writer keeps up, each is committed at once. The log is started
                        // over between two transactions (see `Checkpointer`).
                        let restartDue = checkpointer?.restartDue ?? false
                        if writer.recordsInTransaction >= Self.recordsPerTransaction || channel.isEmpty || restartDue {
                            try writer.commit()
                        }
                        if restartDue { checkpointer?.restartWhileIdle() }
                    case let .call(body):
                        try writer.commit()
                        try body(writer)
                    case .stop:
                        try writer.commit()
                        var clock = StageClock()
                        if exclusive {
                            givenBack = true
                            try CaseFile.endExclusiveLoad(transfer.database)
                            writerStages.add("case file given back (WAL mode again)", clock.lap())
                        } else {
                            try writer.finishLoad()
                            writerStages.add("final checkpoint (WAL into the case file)", clock.lap())
                        }
                        return
                    }
                }
            } catch {
                channel.fail(error)
            }
        }

        defer { checkpointer?.stop() }
        let clock = ProgressClock(files: files, report: progress)
        var results: [FileResult] = []
        var stages = StageClock()
        var loading = 0.0, parserCPU = 0.0
        do {
            var upcoming = files.first.map(InputOpener.init)
            for (index, file) in files.enumerated() {
                let opener = upcoming!
                upcoming = index + 1 < files.count ? InputOpener(files[index + 1]) : nil
                results.append(try ingest(file, opener: opener, channel: channel, clock: clock))
            }
            parserCPU = ThreadCPU.seconds()
            loading = stages.lap()
            // The background checkpointer copies the load's last pages into the case file while the
            // writer sorts the indexes it set aside (asked at once: no commit wakes it before the
            // sort ends); the final checkpoint needs it gone.
            let (writerCPU, idCheck) = try channel.call { writer in
                let cpu = ThreadCPU.seconds()
                checkpointer?.catchUp()
                return (cpu, try writer.rebuildDeferredIndexes())
            }
            writerStages.add("writer thread CPU while loading", writerCPU)
            if let paused = checkpointer?.writerPaused, paused.count > 0 {
                // Fewer restarts than pauses: a reader (the TUI, a script) held an old snapshot.
                let restarts = checkpointer?.restarts ?? 0
                let times = restarts == paused.count ? "\(paused.count) times" : "\(paused.count) times, \(restarts) started over"
                writerStages.add("writer waiting while the log started over (\(times), within the load)", paused.seconds)
            }
            let building = stages.lap()
            if let idCheck {
                writerStages.add("exchange ids checked for repeats (their index set aside during the load, built)", idCheck)
            }
            writerStages.add("indexes set aside during the load, built", building - (idCheck ?? 0))
            checkpointer?.stop()
            try channel.send(.stop)
        } catch {
            channel.fail(error)
            writerDone.wait()
            throw CaseFileFailure(description: CaseFile.explain(channel.failed ?? error, path: databasePath))
        }
        writerDone.wait()
        if let failure = channel.failed {
            throw CaseFileFailure(description: CaseFile.explain(failure, path: databasePath))
        }
        withExtendedLifetime(lock) {}
        let hashing = clock.hashingSeconds
        let summaryStages = [IngestStage(name: "waiting for files to be hashed (SHA-256, done ahead while the file before loads)",
                                         seconds: hashing),
                             IngestStage(name: "records read, parsed and written", seconds: loading - hashing)]
            + writerStages.stages
            + [IngestStage(name: "parser thread CPU (parsing, checks, hashing)", seconds: parserCPU),
               IngestStage(name: "reading thread CPU (file reads, gzip)", seconds: clock.readingCPUSeconds)]
        return IngestSummary(files: results, seconds: clock.elapsed, bytesRead: clock.bytesDone, stages: summaryStages)
    }

    // MARK: - One file

    private func ingest(_ file: InputFile, opener: InputOpener, channel: WriterChannel, clock: ProgressClock) throws -> FileResult {
        let startedAt = Self.nowMilliseconds()
        let fileSource: FileSource
        let sha256: String?
        do {
            var waiting = StageClock()
            let input = try opener.opened()
            clock.hashingSeconds += waiting.lap()
            fileSource = input.source
            sha256 = input.sha256
        } catch {
            return FileResult(file: file, outcome: .unreadable("\(error)"), counts: FileCounts(), resumed: false)
        }
        let size = fileSource.size
        let continuing = try size.flatMap { try grownFrom(file, size: $0, channel: channel) }
        let start = try channel.call { [sha256, size] writer in
            try writer.begin(file, sha256: sha256, sizeBytes: size, startedAt: startedAt, continuing: continuing)
        }
        let fileID: Int64, resumeOffset: Int64, resumeLine: Int64
        switch start {
        case let .alreadyIngested(existingID, path, status):
            let counts = try channel.call { writer in try writer.fileReport(fileID: existingID) }
            clock.finishFile(size: size ?? 0)
            return FileResult(file: file, outcome: .alreadyIngested(path: path, status: status), counts: counts, resumed: false)
        case let .read(id, offset, line):
            (fileID, resumeOffset, resumeLine) = (id, offset, line)
        }

        // Every byte read is hashed as it passes: a regular file was hashed ahead, while the file
        // before it loaded, and may have been rewritten since; a stream can be read only once.
        let hashing = HashingSource(upstream: fileSource)
        var damage: String?
        do {
            let inflated: ByteSource = file.gzip ? GzipSource(upstream: hashing, path: file.path) : hashing
            let decoded: ByteSource = LineBreakSource(upstream: TextDecodingSource(upstream: inflated, encoding: file.options.encoding))
            // A regular file is read and inflated on a thread of its own while this one parses.
            let readAhead = file.isStream ? nil : ReadAheadSource(upstream: decoded)
            defer { clock.readingCPUSeconds += readAhead?.close() ?? 0 }
            let source = readAhead ?? decoded
            let reader = FileReader(file: file, fileID: fileID, source: source, maxRecordBytes: maxRecordBytes)
            damage = try reader.read(from: resumeOffset, line: resumeLine, channel: channel) { records in
                clock.tick(file: file.path, records: records, fileBytes: source.consumedBytes)
            }
        } catch let error as FileError {
            damage = error.description
        }
        clock.finishFile(size: size ?? fileSource.consumedBytes)
        // The digest recorded is that of every byte the input gave (what `sha256sum` prints):
        // reading stops at damage, and the rest is read on for it, so that an input that differs
        // only after the damage is not taken for this one.
        let whole = try? hashing.digestToEnd()
        var readDigest: (sha256: String, size: Int64)?
        var changed = false
        if file.isStream {
            readDigest = (whole ?? hashing.digest(), hashing.totalBytes)
        } else if let whole, whole != sha256 || hashing.totalBytes != size {
            readDigest = (whole, hashing.totalBytes)
            changed = true
            if resumeOffset > 0 {
                damage = damage ?? "the file changed after an interrupted run had read its lines before line \(resumeLine); "
                    + "the records of those lines came from the earlier content"
            }
        }
        let finishedAt = Self.nowMilliseconds()
        let (counts, earlier) = try channel.call { [damage, readDigest] writer in
            let earlier = try writer.finish(file, fileID: fileID, damage: damage, sha256: readDigest?.sha256,
                                            sizeBytes: readDigest?.size, finishedAt: finishedAt)
            return (try writer.fileReport(fileID: earlier?.fileID ?? fileID), earlier)
        }
        var result = earlier.map { earlier in
            FileResult(file: file, outcome: .alreadyIngested(path: earlier.path, status: earlier.status),
                       counts: counts, resumed: false)
        } ?? FileResult(file: file, outcome: damage.map { .damaged($0) } ?? .complete, counts: counts,
                        resumed: resumeOffset > 0)
        result.changedSinceHashed = changed
        return result
    }

    /// The earlier complete read of this file, if the file is that read's bytes with more
    /// appended after a line break: only the new records are read then, so nothing is
    /// loaded or rejected twice. (Uncompressed files only: that is how exports grow.)
    private func grownFrom(_ file: InputFile, size: Int64, channel: WriterChannel) throws -> EarlierRead? {
        guard !file.gzip else { return nil }
        let earlier = try channel.call { writer in try writer.earlierReads(of: file, sizeBytes: size) }
        return earlier.first { read in
            Self.byte(at: read.sizeBytes - 1, of: file.path) == 0x0A
                && (try? FileDigest.sha256(path: file.path, length: read.sizeBytes)) == read.sha256
        }
    }

    private static func byte(at offset: Int64, of path: String) -> UInt8? {
        let descriptor = SystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0, offset >= 0 else { return nil }
        defer { close(descriptor) }
        var byte: UInt8 = 0
        return pread(descriptor, &byte, 1, off_t(offset)) == 1 ? byte : nil
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Wall-clock laps.
private struct StageClock {
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the previous lap (or since the clock was made).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}

/// Stages measured on the writer thread and on the calling thread, added in turn (the
/// writer's channel orders them) and read only after the writer has finished.
private final class StageBox: @unchecked Sendable {
    private(set) var stages: [IngestStage] = []
    func add(_ name: String, _ seconds: Double) { stages.append(IngestStage(name: name, seconds: seconds)) }
}

/// Moves the connection opened (and checked) on the calling thread to the
/// writer thread, which is its only user from then on.
private final class DatabaseTransfer: @unchecked Sendable {
    let database: Database
    init(database: Database) { self.database = database }
}

/// Paces progress reports (at most four a second) and keeps the running totals.
private final class ProgressClock {
    private let report: (IngestProgress) -> Void
    private let started = Date()
    private var lastReport = Date.distantPast
    private let bytesTotal: Int64?
    private(set) var bytesDone: Int64 = 0
    var hashingSeconds = 0.0
    /// CPU time of the threads that read and inflated files ahead of the parser.
    var readingCPUSeconds = 0.0
    private var records = 0

    init(files: [InputFile], report: @escaping (IngestProgress) -> Void) {
        self.report = report
        var total: Int64 = 0
        var known = true
        for file in files {
            var info = stat()
            if file.isStream || SystemPath.withCString(file.path, { stat($0, &info) }) != 0 { known = false; continue }
            total += Int64(info.st_size)
        }
        bytesTotal = known ? total : nil
    }

    var elapsed: Double { Date().timeIntervalSince(started) }

    func tick(file: String, records newRecords: Int, fileBytes: Int64) {
        records += newRecords
        let now = Date()
        guard now.timeIntervalSince(lastReport) >= 0.25 else { return }
        lastReport = now
        report(IngestProgress(file: file, records: records, bytesRead: bytesDone + fileBytes, bytesTotal: bytesTotal,
                              seconds: now.timeIntervalSince(started)))
    }

    func finishFile(size: Int64) { bytesDone += size }
}
