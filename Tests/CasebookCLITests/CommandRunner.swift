import CasebookStore
import Foundation
import XCTest

/// Runs the built `casebook` binary, as a user or a script would.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Casebook {
    /// The executable SwiftPM built next to the test bundle.
    static var executable: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("casebook")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.appendingPathComponent("casebook")
    }

    static func process(_ arguments: [String], directory: String, environment: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "CASEBOOK_DB")
        env.merge(environment) { $1 }
        process.environment = env
        return process
    }

    @discardableResult
    static func run(_ arguments: [String], in directory: String, stdin: Data? = nil,
                    environment: [String: String] = [:], shell: String? = nil) throws -> CommandResult {
        let process: Process
        if let shell {
            // For resource limits: `ulimit -f N; exec casebook ...`.
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            process.arguments = ["-c", shell + "; exec " + quoted.joined(separator: " ")]
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        } else {
            process = Self.process(arguments, directory: directory, environment: environment)
        }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                             stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

extension Casebook {
    /// Generates a campaign big enough to take a while, starts ingesting it into `case.db` in
    /// `directory`, and returns once the ingest is writing exchanges (or has ended).
    static func ingestInBackground(in directory: String) throws -> Process {
        let generated = try run(["generate", "--out", "big", "--accounts", "300", "--exchanges", "40000", "--seed", "3"], in: directory)
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let ingest = process(["ingest", "--db", "case.db", "big"], directory: directory)
        ingest.standardOutput = FileHandle.nullDevice
        try ingest.run()
        for _ in 0..<2_000 {
            let count = (try? CaseFile.open(directory + "/case.db", access: .read).scalarInt("SELECT count(*) FROM exchange_rows")) ?? nil
            if (count ?? 0) > 1 || !ingest.isRunning { break }
            usleep(5_000)
        }
        return ingest
    }
}

func temporaryDirectory(_ name: String) throws -> String {
    let path = NSTemporaryDirectory() + "casebook-cli-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
