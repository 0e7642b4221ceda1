#include <sqlite3.h>

/// SQLITE_TRANSIENT and SQLITE_STATIC are casts of integer constants to function
/// pointers, which Swift cannot import; these wrappers expose them.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }

/// sqlite3_db_config is variadic, which Swift cannot call; these set its on/off options.
static inline int csqlite_db_config_flag(sqlite3 *db, int option, int on) {
    return sqlite3_db_config(db, option, on, (int *)0);
}
