/*
 * What SQLite costs per row when one INSERT carries 1 or N rows: a loop of inserts into a
 * table shaped like the case file's exchange_rows (17 values, a unique text index, WAL,
 * 16 KiB pages, checkpoints left to the end as the ingest's checkpointer does), timed by
 * the thread's CPU clock. Values are made up in the loop; nothing is read from disk.
 *
 *   gcc -O2 bench/rows-per-statement.c -lsqlite3 -o rows
 *   ./rows ROWS_PER_STATEMENT DB COUNT [scattered] [ignore]
 *     scattered  ids in no order (as UUIDs are) instead of ascending
 *     ignore     INSERT OR IGNORE instead of ON CONFLICT (exchange_id) DO NOTHING
 *   valgrind --tool=callgrind ./rows 16 t.db 64000     # instructions, stable on a noisy machine
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int has_flag(int argc, char **argv, const char *flag) {
    for (int i = 4; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return 1;
    return 0;
}

static void run(sqlite3 *db, const char *sql) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "%s\n", message);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s ROWS_PER_STATEMENT DB COUNT [scattered] [ignore]\n", argv[0]);
        return 2;
    }
    int per = atoi(argv[1]), count = atoi(argv[3]);
    const char *path = argv[2];
    int scattered = has_flag(argc, argv, "scattered"), ignore = has_flag(argc, argv, "ignore");
    if (per < 1 || per > 1000 || count < per) {
        fprintf(stderr, "ROWS_PER_STATEMENT must be 1-1000 and COUNT at least that\n");
        return 2;
    }

    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", path);
    remove(path);
    remove(wal);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    run(db, "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
            "PRAGMA cache_size = -196608; PRAGMA wal_autocheckpoint = 0;"
            "CREATE TABLE e (pk INTEGER PRIMARY KEY, exchange_id TEXT NOT NULL, account_pk INTEGER NOT NULL,"
            " ts_ms INTEGER NOT NULL, model_pk INTEGER, api_key_id TEXT, ip_pk INTEGER, user_agent_pk INTEGER,"
            " input_tokens INTEGER, output_tokens INTEGER, status INTEGER, latency_ms INTEGER, prompt TEXT,"
            " response TEXT, extra TEXT, source_file_id INTEGER NOT NULL, source_line INTEGER NOT NULL,"
            " content_hash INTEGER NOT NULL);"
            "CREATE UNIQUE INDEX e_by_id ON e (exchange_id);");

    size_t capacity = 512 + (size_t)per * 40;
    char *sql = malloc(capacity);
    int length = snprintf(sql, capacity,
                          "INSERT%s INTO e (exchange_id, account_pk, ts_ms, model_pk, api_key_id, ip_pk,"
                          " user_agent_pk, input_tokens, output_tokens, status, latency_ms, prompt, response,"
                          " extra, source_file_id, source_line, content_hash) VALUES ",
                          ignore ? " OR IGNORE" : "");
    for (int row = 0; row < per; row++)
        length += snprintf(sql + length, capacity - length, "%s(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row ? "," : "");
    if (!ignore) snprintf(sql + length, capacity - length, " ON CONFLICT (exchange_id) DO NOTHING");
    sqlite3_stmt *insert;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s\n", sqlite3_errmsg(db));
        return 1;
    }

    char prompt[400];
    memset(prompt, 'x', sizeof prompt);
    char id[32], key[32];
    double start = cpu_seconds();
    run(db, "BEGIN");
    int statements = 0;
    for (int first = 0; first + per <= count; first += per) {
        for (int row = 0; row < per; row++) {
            long long k = first + row;
            int base = row * 17;
            int id_length = scattered ? snprintf(id, sizeof id, "%016llx", (unsigned long long)k * 0x9E3779B97F4A7C15ULL)
                                      : snprintf(id, sizeof id, "ex-%012lld", k);
            int key_length = snprintf(key, sizeof key, "key-%lld", k % 7000);
            sqlite3_bind_text(insert, base + 1, id, id_length, SQLITE_TRANSIENT);
            sqlite3_bind_int64(insert, base + 2, k % 7000);
            sqlite3_bind_int64(insert, base + 3, 1769990400000LL + k * 100);
            sqlite3_bind_int64(insert, base + 4, k % 5);
            sqlite3_bind_text(insert, base + 5, key, key_length, SQLITE_TRANSIENT);
            sqlite3_bind_int64(insert, base + 6, k % 3000);
            sqlite3_bind_int64(insert, base + 7, k % 40);
            sqlite3_bind_int64(insert, base + 8, k % 900);
            sqlite3_bind_int64(insert, base + 9, k % 1900);
            sqlite3_bind_int64(insert, base + 10, 200);
            sqlite3_bind_int64(insert, base + 11, k % 2000);
            sqlite3_bind_text(insert, base + 12, prompt, 300 + (int)(k % 90), SQLITE_STATIC);
            sqlite3_bind_null(insert, base + 13);
            sqlite3_bind_null(insert, base + 14);
            sqlite3_bind_int64(insert, base + 15, 3);
            sqlite3_bind_int64(insert, base + 16, k + 1);
            sqlite3_bind_int64(insert, base + 17, k * 2654435761LL);
        }
        if (sqlite3_step(insert) != SQLITE_DONE) {
            fprintf(stderr, "%s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(insert);
        sqlite3_clear_bindings(insert);
        if (++statements * per >= 65536) {   /* a commit every 65,536 rows, as the ingest's */
            run(db, "COMMIT; BEGIN");
            statements = 0;
        }
    }
    run(db, "COMMIT");
    double seconds = cpu_seconds() - start;
    printf("%d rows a statement%s%s: %.3f s CPU, %.0f rows/s\n", per, scattered ? ", ids in no order" : "",
           ignore ? ", OR IGNORE" : "", seconds, (count / per * per) / seconds);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    free(sql);
    return 0;
}
