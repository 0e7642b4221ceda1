@testable import CasebookIngest
import Foundation
import XCTest

/// The queue between parser and writer is bounded in batches and in the memory they hold:
/// a few batches of wide rows must stop the parser as surely as many batches of narrow ones.
final class WriterChannelTests: XCTestCase {
    private func batch(text bytes: Int) -> RecordBatch {
        var batch = RecordBatch(kind: .exchanges, fileID: 1)
        batch.arena = [UInt8](repeating: UInt8(ascii: "x"), count: bytes)
        return batch
    }

    /// Sends `job` on another thread; the semaphore is signalled once the send returns.
    private func sendInBackground(_ job: WriterChannel.Job, on channel: WriterChannel) -> DispatchSemaphore {
        let sent = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? channel.send(job)
            sent.signal()
        }
        return sent
    }

    func testABatchWaitsWhileTheQueuedBatchesHoldTheByteBudget() throws {
        let wide = batch(text: 8 << 20)
        let channel = WriterChannel(capacity: 8, byteBudget: wide.footprint + wide.footprint / 2)
        try channel.send(.batch(wide))
        let sent = sendInBackground(.batch(batch(text: 8 << 20)), on: channel)
        XCTAssertEqual(sent.wait(timeout: .now() + 0.3), .timedOut, "the second batch went past the byte budget")
        guard case .batch = channel.receive() else { return XCTFail("the first job was not the batch") }
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success, "taking a batch out did not let the next in")
    }

    func testABatchLargerThanTheBudgetIsTakenWhenNothingWaits() throws {
        let channel = WriterChannel(capacity: 8, byteBudget: 1 << 20)
        let sent = sendInBackground(.batch(batch(text: 4 << 20)), on: channel)
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success, "an oversized batch was never taken")
        XCTAssertFalse(channel.isEmpty)
    }

    func testTheQueueHoldsAtMostItsCapacityOfSmallJobs() throws {
        let channel = WriterChannel(capacity: 3, byteBudget: 1 << 30)
        for _ in 0..<3 { try channel.send(.call { _ in }) }
        let sent = sendInBackground(.call { _ in }, on: channel)
        XCTAssertEqual(sent.wait(timeout: .now() + 0.3), .timedOut, "a fourth job went into a queue of three")
        _ = channel.receive()
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success)
    }

    func testSpareBatchesAreKeptOnlyWithinTheByteBudget() throws {
        let wide = batch(text: 8 << 20)
        let channel = WriterChannel(capacity: 8, byteBudget: wide.footprint + wide.footprint / 2)
        channel.recycle(wide)
        channel.recycle(batch(text: 8 << 20))
        let first = channel.emptyBatch(kind: .exchanges, fileID: 2)
        let second = channel.emptyBatch(kind: .exchanges, fileID: 2)
        XCTAssertGreaterThanOrEqual(first.arena.capacity, 8 << 20, "the first spare was not kept")
        XCTAssertLessThan(second.arena.capacity, 8 << 20, "a spare past the budget was kept")
    }

    func testAFailedWriterReleasesAWaitingParser() throws {
        let channel = WriterChannel(capacity: 1, byteBudget: 1 << 30)
        try channel.send(.call { _ in })
        let sent = sendInBackground(.call { _ in }, on: channel)
        XCTAssertEqual(sent.wait(timeout: .now() + 0.3), .timedOut)
        channel.fail(CocoaError(.fileWriteOutOfSpace))
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success, "the parser was left waiting on a failed writer")
        XCTAssertThrowsError(try channel.send(.stop))
    }
}
