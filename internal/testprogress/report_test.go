package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealGoTest runs `go test -json` on a throwaway module with a passing,
// a failing, a panicking and a test-less package and checks the report.
func TestRealGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.22\n",
		"good/g_test.go":    "package good\nimport \"testing\"\nfunc TestOK(t *testing.T) { t.Log(\"quiet\") }\n",
		"bad/b_test.go":     "package bad\nimport \"testing\"\nfunc TestOK(t *testing.T) {}\nfunc TestBroken(t *testing.T) { t.Run(\"sub\", func(t *testing.T) { t.Error(\"the reason\") }) }\n",
		"boom/b_test.go":    "package boom\nimport \"testing\"\nfunc TestPanic(t *testing.T) { var m map[int]int; m[1] = 1 }\n",
		"notest/n.go":       "package notest\n",
		"nobuild/x_test.go": "package nobuild\nimport \"testing\"\nfunc TestX(t *testing.T) { undefined() }\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	js, err := cmd.Output()
	if err == nil {
		t.Fatalf("go test passed a module with failing tests")
	}
	var out bytes.Buffer
	if rc := run(bytes.NewReader(js), &out, time.Hour); rc != 1 {
		t.Errorf("exit status %d, want 1", rc)
	}
	got := out.String()
	t.Logf("report:\n%s", got)
	for _, want := range []string{
		"ok    example.com/m/good",
		"--- FAIL: example.com/m/bad TestBroken",
		"the reason",
		"FAIL  example.com/m/bad",
		"FAIL  example.com/m/boom",
		"assignment to entry in nil map", // a panic shows the package's own output
		"-     example.com/m/notest (no tests)",
		"undefined: undefined",
		"5 packages: 1 ok, 3 failed, 1 without tests",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, unwanted := range []string{"quiet", "ok    example.com/m/bad"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("report shows %q (only failures are shown, once)", unwanted)
		}
	}
}

// TestAllPassExitsZero: a clean run exits 0 and names what it ran.
func TestAllPassExitsZero(t *testing.T) {
	in := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"noise\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.5}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.6s\n"}
{"Action":"pass","Package":"p","Elapsed":0.6}
`
	var out bytes.Buffer
	if rc := run(strings.NewReader(in), &out, time.Hour); rc != 0 {
		t.Errorf("exit status %d, want 0", rc)
	}
	if got := out.String(); !strings.Contains(got, "ok    p ") || strings.Contains(got, "noise") || !strings.Contains(got, "1 packages: 1 ok, 0 failed") {
		t.Errorf("report:\n%s", got)
	}
}
