#include <sqlite3.h>

/// SQLITE_TRANSIENT and SQLITE_STATIC are casts of integer constants to function
/// pointers, which Swift cannot import; these wrappers expose them.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }

/// sqlite3_db_config is variadic, which Swift cannot call; these set its on/off options.
static inline int csqlite_db_config_flag(sqlite3 *db, int option, int on) {
    return sqlite3_db_config(db, option, on, (int *)0);
}

/// sqlite3_config is variadic too. Memory statistics (on in Debian's build) take a global
/// mutex around every allocation SQLite makes; casebook never reads them.
static inline int csqlite_config_memory_statistics(int on) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, on);
}

/// Asks Linux to start writing a file's dirty pages to disk without waiting (sync_file_range
/// with SYNC_FILE_RANGE_WRITE), so a later fsync of a large new file finds little left to do.
/// Declared here: glibc shows it only to _GNU_SOURCE builds, which Swift's Glibc module is not.
extern int sync_file_range(int fd, long offset, long nbytes, unsigned int flags);
static inline int csqlite_start_writeback(int fd) { return sync_file_range(fd, 0, 0, 2); }

/// Extended result codes are macros built from others with | and <<, which Swift does not import.
static inline int csqlite_readonly_rollback(void) { return SQLITE_READONLY_ROLLBACK; }
