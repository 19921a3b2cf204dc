/* A SQLite VFS that wraps the default one and gathers the writes to a WAL file into one
 * pwrite per commit.
 *
 * Why: SQLite writes each WAL frame with two pwrite calls (a 24-byte header, then the 4 KB
 * page), and at ~1.7 frames a create that was 16% of the store writer's CPU, on the one
 * thread every write goes through. The bytes are kept in memory until SQLite syncs the WAL,
 * reads it, sizes or truncates it, or writes out of sequence, and are written first then.
 * Durability is unchanged: a commit is acknowledged after its sync, which writes them out.
 *
 * Only for a connection that runs with synchronous=FULL: then every commit syncs the WAL
 * before other connections can see its frames (they read the file, not our buffer). */
#pragma once

/* Registers the VFS (once; later calls are no-ops) and returns its name for sqlite3_open_v2,
 * or NULL if SQLite has no default VFS to wrap or registration failed. Thread-safe. */
const char *walbuf_vfs_name(void);
