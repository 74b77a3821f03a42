package node

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/digest"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// The DEBUG subcommands test suites and operators rely on, beyond
// POPULATE/SLEEP/LOG/ERROR (cmd_server.go), each as Redis 7.0 answers it.
// Those that only make sense for Redis's C internals (SDSLEN, LISTPACK,
// QUICKLIST, MALLCTL, JMAP...) or crash the server on purpose (SEGFAULT,
// PANIC, OOM, ASSERT) are not offered.

// debugHelp is DEBUG HELP: Redis 7.0's text for the subcommands warden has.
var debugHelp = []string{
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified it is",
	"    used instead of the 'key' prefix. These are not propagated to replica.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"RELOAD [option ...]",
	"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
	"    * MERGE: conflicting keys will be loaded from RDB.",
	"    * NOFLUSH: the existing database will not be removed before load, but",
	"      conflicting keys will generate an exception and kill the server.",
	"    * NOSAVE: the database will be loaded from an existing RDB file.",
	"    Examples:",
	"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
	"      the database.",
	"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
	"      existing RDB file.",
	"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
	"      file to the database.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"STRINGMATCH-TEST",
	"    Run a fuzz tester against the stringmatchlen() function.",
	"PAUSE-CRON <0|1>",
	"    Stop periodic cron job processing.",
}

// debugAllDBs reports whether a DEBUG invocation sees the whole data set,
// so that EXEC locks every database for it as it does for FLUSHALL.
func debugAllDBs(args [][]byte) bool {
	if len(args) < 2 {
		return false
	}
	for _, sub := range []string{"digest", "digest-value", "object", "reload"} {
		if eq(args[1], sub) {
			return true
		}
	}
	return false
}

// withAllDBs runs fn with every database locked: through EXEC's locks
// inside a transaction (debugAllDBs made it take them all), its own
// otherwise.
func (c *Ctx) withAllDBs(fn func(tx *keyspace.Tx)) {
	if c.inExec {
		fn(c.tx)
		return
	}
	tx := c.s.store.LockAll()
	defer tx.Unlock()
	fn(tx)
}

// debugMore runs the subcommands of this file; false when sub is not one
// of them (or has the wrong number of arguments).
func debugMore(c *Ctx, sub string) bool {
	n := len(c.Args)
	switch {
	case sub == "digest" && n == 2:
		var ds digest.Dataset
		c.withAllDBs(func(tx *keyspace.Tx) {
			for i := range c.s.store.NumDBs() {
				v := tx.DB(i)
				first := true
				v.Each(func(key string, o *keyspace.Object) bool {
					if first {
						ds.DB(i)
						first = false
					}
					ds.Key([]byte(key), o)
					return true
				})
			}
		})
		sum := ds.Sum()
		c.Status(sum.Hex())
	case sub == "digest-value" && n >= 2:
		c.withAllDBs(func(tx *keyspace.Tx) {
			v := tx.DB(c.cl.db)
			c.Array(n - 2)
			for _, k := range c.Args[2:] {
				var sum digest.Sum
				if o := v.Peek(k); o != nil {
					sum = digest.Value(o)
				}
				c.Status(sum.Hex())
			}
		})
	case sub == "object" && n == 3:
		c.withAllDBs(func(tx *keyspace.Tx) {
			o := tx.DB(c.cl.db).Peek(c.Args[2])
			if o == nil {
				c.Err("ERR no such key")
				return
			}
			c.Status(debugObject(o))
		})
	case sub == "set-active-expire" && n == 3:
		n, _ := strconv.Atoi(string(c.Args[2])) // atoi, as Redis: anything else is 0
		c.s.noActiveExpire.Store(n == 0)
		c.OK()
	case sub == "pause-cron" && n == 3:
		n, _ := strconv.Atoi(string(c.Args[2]))
		c.s.cronPaused.Store(n != 0)
		c.OK()
	case sub == "change-repl-id" && n == 2:
		l := &c.s.repl
		l.mu.Lock()
		l.id2, l.secondOff = noReplID, -1
		l.id = newReplID()
		l.mu.Unlock()
		c.s.log.Warn("Changed replication IDs after receiving DEBUG change-repl-id")
		c.OK()
	case sub == "protocol" && n == 3:
		debugProtocol(c, strings.ToLower(string(c.Args[2])))
	case sub == "reload" && n >= 2:
		debugReload(c)
	case sub == "stringmatch-test" && n == 2:
		stringmatchTest()
		c.Status("Apparently Redis did not crash: test passed")
	default:
		return false
	}
	return true
}

// debugObject is DEBUG OBJECT's line. warden has no object addresses or
// reference counts: the address is the value's identity within the
// process, the count 1 (Redis's for any value not shared).
func debugObject(o *keyspace.Object) string {
	payload := rdb.DumpPayload(o)
	serialized := len(payload) - 1 - 10 // without the type byte and footer
	line := fmt.Sprintf("Value at:%p refcount:1 encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d",
		o, o.Encoding(), serialized, o.LRU&(1<<24-1), o.IdleSeconds())
	if o.Type == keyspace.TList {
		// One node per 8 KB of elements, as Redis's list-max-listpack-size -2.
		l := o.List()
		size := 0
		for i := range l.Len() {
			size += len(l.Index(i)) + 2
		}
		nodes := max(1, (size+8191)/8192)
		line += fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:%d",
			nodes, float64(l.Len())/float64(nodes), size)
	}
	return line
}

func debugProtocol(c *Ctx, name string) {
	resp3 := c.resp3()
	switch name {
	case "string":
		c.BulkString("Hello World")
	case "integer":
		c.Int(12345)
	case "double":
		c.Double(3.141)
	case "bignum":
		if resp3 {
			c.conn.WriteRaw([]byte("(1234567999999999999999999999999999999\r\n"))
		} else {
			c.BulkString("1234567999999999999999999999999999999")
		}
	case "null":
		c.Null()
	case "array", "set":
		if name == "set" {
			c.SetHeader(3)
		} else {
			c.Array(3)
		}
		for j := range 3 {
			c.Int(int64(j))
		}
	case "map":
		c.Map(3)
		for j := range 3 {
			c.Int(int64(j))
			c.Bool(j == 1)
		}
	case "attrib":
		if resp3 {
			c.conn.WriteRaw([]byte("|1\r\n"))
			c.BulkString("key-popularity")
			c.Array(2)
			c.BulkString("key:123")
			c.Int(90)
		}
		c.BulkString("Some real reply following the attribute")
	case "push":
		if !resp3 {
			c.Err("ERR RESP2 is not supported by this command")
			return
		}
		c.conn.WriteRaw([]byte(">2\r\n"))
		c.BulkString("server-cpu-usage")
		c.Int(42)
		c.BulkString("Some real reply following the push reply")
	case "true", "false":
		c.Bool(name == "true")
	case "verbatim":
		c.Verbatim("This is a verbatim\nstring")
	default:
		c.Err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}

// debugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the RDB
// (a point-in-time snapshot), then with every database locked, as Redis
// holds its event loop, empty the data set and load the file back.
func debugReload(c *Ctx) {
	flush, save, merge := true, true, false
	for _, opt := range c.Args[2:] {
		switch {
		case eq(opt, "merge"):
			merge = true
		case eq(opt, "noflush"):
			flush = false
		case eq(opt, "nosave"):
			save = false
		default:
			c.Err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
			return
		}
	}
	if c.inExec && save {
		// The snapshot waits for the partitions this EXEC holds.
		c.Err("ERR DEBUG RELOAD cannot save inside MULTI in warden: use DEBUG RELOAD NOSAVE")
		return
	}
	if save {
		if err := c.s.rdbSave(false); err != nil {
			c.Err("ERR " + err.Error())
			return
		}
	}
	path := c.s.rdbPath()
	var loadErr error
	c.withAllDBs(func(tx *keyspace.Tx) {
		if flush {
			for i := range c.s.store.NumDBs() {
				tx.DB(i).Flush()
			}
			c.s.track.Flush() // as emptyData: tracking clients drop their caches
		}
		loadErr = c.s.loadRDBInto(tx, path, merge)
	})
	if loadErr != nil {
		c.s.log.Warn("DEBUG RELOAD failed", "file", path, "err", loadErr)
		c.Err("ERR Error trying to load the RDB dump, check server logs.")
		return
	}
	c.s.log.Warn("DB reloaded by DEBUG RELOAD")
	c.OK()
}

// loadRDBInto loads path through a Tx holding every database. A key that
// exists already is an error unless merge (then the file's value wins).
func (s *Server) loadRDBInto(tx *keyspace.Tx, path string, merge bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	now := time.Now().UnixMilli()
	info, err := rdb.Load(bufio.NewReaderSize(f, 1<<20), func(e rdb.LoadedEntry) error {
		if e.DB < 0 || e.DB >= s.store.NumDBs() {
			return fmt.Errorf("key %q is in db %d but databases is %d", e.Key, e.DB, s.store.NumDBs())
		}
		if e.Obj.Expire != 0 && e.Obj.Expire <= now {
			return nil
		}
		v := tx.DB(e.DB)
		if !merge && v.Peek(e.Key) != nil {
			return fmt.Errorf("duplicate key %q in db %d", e.Key, e.DB)
		}
		e.Obj.LRU = keyspace.LRUClock()
		v.Load(e.Key, e.Obj)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return s.loadFunctions(info.Functions, "replace")
}

// stringmatchTest is Redis's stringmatchlen fuzz: random patterns against
// random strings, which must simply not crash or hang.
func stringmatchTest() {
	const alphabet = "abc*?[]\\^-"
	str, pat := make([]byte, 32), make([]byte, 32)
	for range 100000 {
		for i := range str {
			str[i] = alphabet[rand.IntN(len(alphabet))]
			pat[i] = alphabet[rand.IntN(len(alphabet))]
		}
		globMatch(pat[:rand.IntN(len(pat))], str[:rand.IntN(len(str))])
	}
}
