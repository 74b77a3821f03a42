// Package aof implements Redis 7.0's append-only file in its multi-part
// layout, so an AOF directory can move between warden and redis-server 7.0:
//
//	<appenddirname>/
//	  appendonly.aof.manifest        file appendonly.aof.2.base.rdb seq 2 type b
//	                                 file appendonly.aof.3.incr.aof seq 3 type i
//	  appendonly.aof.2.base.rdb      RDB image (aof-use-rdb-preamble yes) or commands (.base.aof)
//	  appendonly.aof.3.incr.aof      RESP commands appended since that base
//
// Writes are encoded as RESP into a buffer (Append), written and, per
// appendfsync, fsynced with group commit (Sync). A rewrite (BGREWRITEAOF)
// opens a new incr file first, then writes a new base from a snapshot; the
// manifest is replaced atomically at each step, so a crash at any point
// leaves a manifest whose files hold every acknowledged write.
//
// A legacy single-file AOF (Redis < 7) in the server directory is adopted
// by Open as Redis 7.0 does: it becomes the base (its RDB preamble, if any,
// goes through the RDB loader and the commands after it are replayed).
//
// Not supported: aof-timestamp-enabled annotations are skipped when loading
// but never written; the AOF is not checked or repaired beyond the truncated
// tail (redis-check-aof's job).
package aof
