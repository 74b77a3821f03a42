package aof

import (
	"fmt"
	"os"
	"path/filepath"
)

// legacyPath is where Redis < 7 kept its single AOF: appendfilename in the
// server directory, which is the parent of the AOF directory.
func legacyPath(dir, fileName string) (string, bool) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if parent == dir {
		return "", false
	}
	return filepath.Join(parent, fileName), true
}

// needsUpgrade applies Redis 7.0's three conditions for adopting a legacy
// AOF (loadAppendOnlyFiles): it exists and the AOF directory is missing, or
// its manifest lists nothing, or the manifest already names it as the only
// file (an upgrade interrupted between the manifest and the move).
func needsUpgrade(dir, fileName string, dirExisted bool, m *manifest) bool {
	legacy, ok := legacyPath(dir, fileName)
	if !ok || !isFile(legacy) {
		return false
	}
	switch {
	case !dirExisted, m.empty():
		return true
	case m.base != nil && len(m.incr) == 0 && m.base.name == fileName && !isFile(filepath.Join(dir, fileName)):
		return true
	}
	return false
}

// upgrade makes the legacy file the base, as aofUpgradePrepare does:
// manifest first, then the move, so a crash between them is resumed by the
// third condition of needsUpgrade.
func upgrade(opts Options, m *manifest) (*manifest, error) {
	legacy, _ := legacyPath(opts.Dir, opts.FileName)
	m = m.clone()
	m.base = &fileInfo{name: opts.FileName, seq: 1, typ: typeBase}
	m.baseSeq = 1
	if err := persistManifest(opts.Dir, opts.FileName, m); err != nil {
		return nil, err
	}
	if err := os.Rename(legacy, filepath.Join(opts.Dir, opts.FileName)); err != nil {
		return nil, fmt.Errorf("aof: moving legacy AOF %s into %s: %w", legacy, opts.Dir, err)
	}
	for _, d := range []string{filepath.Dir(legacy), opts.Dir} {
		if err := syncDir(d); err != nil {
			return nil, fmt.Errorf("aof: upgrading legacy AOF: %w", err)
		}
	}
	opts.Log.Info("AOF: legacy single-file AOF upgraded to the multi-part layout", "file", opts.FileName, "dir", opts.Dir)
	return m, nil
}
