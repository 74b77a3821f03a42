package node

import "time"

func registerPersistence(t table) {
	const g = "server"
	t.add(
		&Command{Name: "save", Arity: 1, Flags: fAdmin | fNoScript | fNoMulti, Run: cmdSave, Group: g},
		&Command{Name: "bgsave", Arity: -1, Flags: fAdmin | fNoScript, Run: cmdBgsave, Group: g},
		&Command{Name: "bgrewriteaof", Arity: 1, Flags: fAdmin | fNoScript, Run: cmdBgrewriteaof, Group: g},
		&Command{Name: "lastsave", Arity: 1, Flags: fLoading | fStale | fFast, Run: cmdLastsave, Group: g},
	)
}

func cmdSave(c *Ctx) {
	if c.s.persist.childKind() != "" {
		c.Err("ERR Background save already in progress")
		return
	}
	if err := c.s.rdbSave(false); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.OK()
}

func cmdBgsave(c *Ctx) {
	schedule := false
	if len(c.Args) > 2 || len(c.Args) == 2 && !eq(c.Args[1], "schedule") {
		c.Err(errSyntax)
		return
	}
	schedule = len(c.Args) == 2
	p := &c.s.persist
	switch p.childKind() {
	case "rdb":
		c.Err("ERR Background save already in progress")
		return
	case "aof":
		if !schedule && !c.InMulti() {
			c.Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
			return
		}
		p.scheduleBgsave()
		c.Status("Background saving scheduled")
		return
	}
	if c.InMulti() {
		// As Redis (server.in_exec): the snapshot needs every partition,
		// and EXEC holds some of them until it ends, so the cron starts it.
		p.scheduleBgsave()
		c.Status("Background saving scheduled")
		return
	}
	if err := c.s.rdbSave(true); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.Status("Background saving started")
}

func cmdBgrewriteaof(c *Ctx) {
	p := &c.s.persist
	switch p.childKind() {
	case "aof":
		c.Err("ERR Background append only file rewriting already in progress")
		return
	case "rdb":
		p.scheduleRewrite()
		c.Status("Background append only file rewriting scheduled")
		return
	}
	if c.InMulti() {
		// Scheduled, as Redis does inside EXEC (see cmdBgsave); warden
		// has no AOF to rewrite while appendonly is no.
		if !c.s.aofOn() {
			c.Err("ERR append only file is off (appendonly no)")
			return
		}
		p.scheduleRewrite()
		c.Status("Background append only file rewriting scheduled")
		return
	}
	if err := c.s.rewriteAOF(false); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.Status("Background append only file rewriting started")
}

func (p *persist) scheduleBgsave() {
	p.mu.Lock()
	p.bgsaveScheduled = true
	p.mu.Unlock()
}

func (p *persist) scheduleRewrite() {
	p.mu.Lock()
	p.rewriteScheduled = true
	p.mu.Unlock()
}

// aofOn reports whether the AOF is open (appendonly yes).
func (s *Server) aofOn() bool {
	s.persist.mu.Lock()
	defer s.persist.mu.Unlock()
	return s.persist.aof != nil
}

func cmdLastsave(c *Ctx) { c.Int(c.s.lastSave.Load()) }

func (p *persist) childKind() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.child
}

// infoPersistence is INFO's Persistence section, with Redis's field names.
func infoPersistence(s *Server, w *infoWriter) {
	p := &s.persist
	p.mu.Lock()
	child, childStart := p.child, p.childStart
	bgsaveErr, rewriteErr := p.lastBgsaveErr, p.lastRewriteErr
	lastBgsaveSecs, lastRewriteSecs := p.lastBgsaveSecs, p.lastRewriteSecs
	rdbSaves, rewrites, rewriteFailures := p.rdbSaves, p.rewrites, p.rewriteFailures
	rewriteScheduled := p.rewriteScheduled
	a := p.aof
	p.mu.Unlock()
	status := func(err error) string {
		if err != nil {
			return "err"
		}
		return "ok"
	}
	current := func(kind string) int64 {
		if child == kind {
			return int64(time.Since(childStart).Seconds())
		}
		return -1
	}
	flag := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	if lastBgsaveSecs == 0 && rdbSaves == 0 && bgsaveErr == nil {
		lastBgsaveSecs = -1
	}
	if lastRewriteSecs == 0 && rewrites == 0 && rewriteErr == nil {
		lastRewriteSecs = -1
	}
	w.int("loading", flag(p.loading.Load()))
	w.int("async_loading", 0)
	w.int("current_cow_peak", 0)
	w.int("current_cow_size", 0)
	w.int("current_cow_size_age", 0)
	w.str("current_fork_perc", "0.00")
	w.int("current_save_keys_processed", 0)
	w.int("current_save_keys_total", 0)
	w.int("rdb_changes_since_last_save", s.dirty.Load())
	w.int("rdb_bgsave_in_progress", flag(child == "rdb"))
	w.int("rdb_last_save_time", s.lastSave.Load())
	w.str("rdb_last_bgsave_status", status(bgsaveErr))
	w.int("rdb_last_bgsave_time_sec", lastBgsaveSecs)
	w.int("rdb_current_bgsave_time_sec", current("rdb"))
	w.int("rdb_saves", rdbSaves)
	w.int("rdb_last_cow_size", 0)
	w.int("rdb_last_load_keys_expired", p.expired.Load())
	w.int("rdb_last_load_keys_loaded", p.loaded.Load())
	w.int("aof_enabled", flag(a != nil))
	w.int("aof_rewrite_in_progress", flag(child == "aof"))
	w.int("aof_rewrite_scheduled", flag(rewriteScheduled))
	w.int("aof_last_rewrite_time_sec", lastRewriteSecs)
	w.int("aof_current_rewrite_time_sec", current("aof"))
	w.str("aof_last_bgrewrite_status", status(rewriteErr))
	w.int("aof_rewrites", rewrites)
	w.int("aof_rewrites_consecutive_failures", rewriteFailures)
	aofStatus := "ok"
	if a != nil && a.LastError() != nil { // a write or fsync failed (Redis counts both)
		aofStatus = "err"
	}
	w.str("aof_last_write_status", aofStatus)
	w.int("aof_last_cow_size", 0)
	w.int("module_fork_in_progress", 0)
	w.int("module_fork_last_cow_size", 0)
	if a != nil {
		total, base := a.Size()
		w.int("aof_current_size", total)
		w.int("aof_base_size", base)
		w.int("aof_pending_rewrite", flag(rewriteScheduled))
		w.int("aof_buffer_length", 0)
		w.int("aof_pending_bio_fsync", 0)
		w.int("aof_delayed_fsync", 0)
	}
}
