#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the calling thread: an ingest reports it for each of its threads, so a
/// reader sees which one bounds the load.
public enum ThreadCPU {
    public static func seconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
