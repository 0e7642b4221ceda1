import Foundation

/// The target a run drives: `CASEBOOK_FUZZ_TARGET=files` reads each input as a whole file,
/// anything else (the default) as one record.
let fuzzTarget: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32 =
    ProcessInfo.processInfo.environment["CASEBOOK_FUZZ_TARGET"] == "files"
        ? { data, size in fuzzInputFiles(data, size) }
        : { data, size in fuzzRecordParsers(data, size) }

#if CASEBOOK_FUZZ
/// libFuzzer's driver, started from our own entry point (SwiftPM names the executable's
/// entry itself, so libFuzzer's `main` cannot be used).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@main
enum Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzTarget))
    }
}
#else
/// Without libFuzzer: replays the files named on the command line (a corpus, or a crash to reproduce).
@main
enum Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes { bytes in
                _ = fuzzTarget(bytes.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!, data.count)
            }
        }
    }
}
#endif
