package node

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace/rdb"
	"github.com/wardenkv/warden/scripting"
)

// FUNCTION: libraries live in the scripting engine; this is their command
// surface, propagation (as received, like Redis) and DUMP/RESTORE payloads.

// rdbOpFunction2 is RDB_OPCODE_FUNCTION2: a library's code follows.
const rdbOpFunction2 = 245

func cmdFunctionLoad(c *Ctx) {
	replace := false
	code := c.Args[len(c.Args)-1]
	for _, a := range c.Args[2 : len(c.Args)-1] {
		if !eq(a, "replace") {
			c.Err(fmt.Sprintf("ERR Unknown option given: %s", a))
			return
		}
		replace = true
	}
	name, msg := c.s.scripting.engine.FunctionLoad(string(code), replace)
	if msg != "" {
		c.Err(msg)
		return
	}
	c.propagateKeyless()
	c.BulkString(name)
}

func cmdFunctionDelete(c *Ctx) {
	if msg := c.s.scripting.engine.FunctionDelete(string(c.Args[2])); msg != "" {
		c.Err(msg)
		return
	}
	c.propagateKeyless()
	c.OK()
}

func cmdFunctionFlush(c *Ctx) {
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 3 && (eq(c.Args[2], "async") || eq(c.Args[2], "sync")):
	default:
		c.Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.s.scripting.engine.FunctionFlush()
	c.propagateKeyless()
	c.OK()
}

func cmdFunctionList(c *Ctx) {
	withCode := false
	pattern, named := "", false
	for i := 2; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case !withCode && eq(a, "withcode"):
			withCode = true
		case !named && eq(a, "libraryname"):
			if i >= len(c.Args)-1 {
				c.Err("ERR library name argument was not given")
				return
			}
			i++
			pattern, named = string(c.Args[i]), true
		default:
			c.Err(fmt.Sprintf("ERR Unknown argument %s", a))
			return
		}
	}
	if named && pattern == "" {
		pattern = "\x00" // matches nothing, as an empty pattern in Redis
	}
	libs := c.s.scripting.engine.Libraries(pattern)
	c.Array(len(libs))
	for _, lib := range libs {
		n := 3
		if withCode {
			n = 4
		}
		c.Map(n)
		c.BulkString("library_name")
		c.BulkString(lib.Name)
		c.BulkString("engine")
		c.BulkString("LUA")
		c.BulkString("functions")
		fns := lib.SortedFunctions()
		c.Array(len(fns))
		for _, f := range fns {
			c.Map(3)
			c.BulkString("name")
			c.BulkString(f.Name)
			c.BulkString("description")
			if f.Desc == "" {
				c.Null()
			} else {
				c.BulkString(f.Desc)
			}
			c.BulkString("flags")
			c.statusSet(f.Flags.Names())
		}
		if withCode {
			c.BulkString("library_code")
			c.BulkString(lib.Code)
		}
	}
}

// functionsPayload is FUNCTION DUMP's payload: each library as the RDB
// writes it (FUNCTION2 opcode, code string), the RDB version and a CRC64.
func functionsPayload(libs []*scripting.Library) []byte {
	var b []byte
	for _, lib := range libs {
		b = append(b, rdbOpFunction2)
		b = rdb.AppendString(b, []byte(lib.Code))
	}
	b = append(b, byte(rdb.Version), byte(rdb.Version>>8))
	crc := rdb.CRC64(0, b)
	for i := 0; i < 8; i++ {
		b = append(b, byte(crc>>(8*i)))
	}
	return b
}

func cmdFunctionDump(c *Ctx) {
	c.Bulk(functionsPayload(c.s.scripting.engine.Libraries("")))
}

// parseFunctionsPayload checks a FUNCTION DUMP payload and returns the
// libraries' code.
func parseFunctionsPayload(p []byte) ([]string, string) {
	const bad = "ERR DUMP payload version or checksum are wrong"
	if len(p) < 10 {
		return nil, bad
	}
	footer := p[len(p)-10:]
	ver := int(footer[0]) | int(footer[1])<<8
	var crc uint64
	for i := 0; i < 8; i++ {
		crc |= uint64(footer[2+i]) << (8 * i)
	}
	if ver > rdb.MaxVersion || (crc != 0 && rdb.CRC64(0, p[:len(p)-8]) != crc) {
		return nil, bad
	}
	d := rdb.NewDecoder(bytes.NewReader(p[:len(p)-10]))
	var codes []string
	for {
		op, err := d.ReadByte()
		if err != nil {
			return codes, ""
		}
		if op != rdbOpFunction2 {
			return nil, "ERR given type is not a function"
		}
		s, err := d.ReadString()
		if err != nil {
			return nil, "ERR Failed loading library"
		}
		codes = append(codes, string(s))
	}
}

func cmdFunctionRestore(c *Ctx) {
	policy := "append"
	if len(c.Args) > 4 {
		c.Err(errSyntax)
		return
	}
	if len(c.Args) == 4 {
		switch {
		case eq(c.Args[3], "append"):
		case eq(c.Args[3], "replace"):
			policy = "replace"
		case eq(c.Args[3], "flush"):
			policy = "flush"
		default:
			c.Err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	codes, msg := parseFunctionsPayload(c.Args[2])
	if msg != "" {
		c.Err(msg)
		return
	}
	e := c.s.scripting.engine
	if msg := e.RestoreLibraries(codes, policy); msg != "" {
		c.Err(msg)
		return
	}
	c.propagateKeyless()
	c.OK()
}

func cmdFunctionStats(c *Ctx) {
	e := c.s.scripting.engine
	// Allowed while busy, but not about an EVAL: Redis says BUSY then.
	if r := e.Current(); r != nil && !r.Function && time.Since(r.Start) >= time.Duration(c.s.scripting.busyMs.Load())*time.Millisecond {
		c.Err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
		return
	}
	c.Map(2)
	c.BulkString("running_script")
	if r := e.Current(); r != nil && r.Function {
		c.Map(3)
		c.BulkString("name")
		c.BulkString(r.Name)
		c.BulkString("command")
		c.Bulks(r.Command)
		c.BulkString("duration_ms")
		c.Int(time.Since(r.Start).Milliseconds())
	} else {
		c.Null()
	}
	c.BulkString("engines")
	c.Map(1)
	c.BulkString("LUA")
	libs, funcs := e.FunctionCounts()
	c.Map(2)
	c.BulkString("libraries_count")
	c.Int(int64(libs))
	c.BulkString("functions_count")
	c.Int(int64(funcs))
}

func cmdFunctionHelp(c *Ctx) {
	serverHelp(c, "function",
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	)
}

// propagateKeyless records a keyless write (FUNCTION LOAD...) as received,
// in the client's database.
func (c *Ctx) propagateKeyless() {
	if c.inExec {
		c.txWrites = append(c.txWrites, txWrite{db: c.cl.db, argv: c.txArena.copy(c.Args)})
		return
	}
	c.notePropagated(c.s.propagate(c.cl.db, c.Args))
}

// functionCodes returns the code of every library, for snapshots.
func (s *Server) functionCodes() []string {
	libs := s.scripting.engine.Libraries("")
	codes := make([]string, len(libs))
	for i, lib := range libs {
		codes[i] = lib.Code
	}
	return codes
}

// loadFunctions installs the libraries an RDB carried.
func (s *Server) loadFunctions(codes []string, policy string) error {
	if len(codes) == 0 && policy != "flush" {
		return nil
	}
	if msg := s.scripting.engine.RestoreLibraries(codes, policy); msg != "" {
		return fmt.Errorf("function libraries: %s", msg)
	}
	return nil
}

// writeFunctionLoads starts an AOF without RDB preamble with a FUNCTION
// LOAD per library, as Redis's rewrite does.
func writeFunctionLoads(w io.Writer, codes []string) error {
	var b []byte
	for _, code := range codes {
		b = redcon.AppendArray(b, 3)
		b = redcon.AppendBulkString(b, "FUNCTION")
		b = redcon.AppendBulkString(b, "LOAD")
		b = redcon.AppendBulkString(b, code)
	}
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}
