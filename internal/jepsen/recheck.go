package jepsen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// ReadJSONL reads a history written by WriteJSONL.
func ReadJSONL(path string) ([]Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []Op
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var op Op
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		ops = append(ops, op)
	}
	return ops, sc.Err()
}

// Recheck runs the checkers again over a saved history (say, after a
// checker fix, or to read a failure closely) and prints the anomalies;
// it returns them.
func Recheck(path string, out io.Writer, limit time.Duration) (Anomalies, error) {
	ops, err := ReadJSONL(path)
	if err != nil {
		return Anomalies{}, err
	}
	var all Anomalies
	reg := CheckRegister(ops, limit)
	all.merge(reg.Anomalies)
	set := CheckSet(ops)
	all.merge(set.Anomalies)
	all.merge(CheckSplitBrain(ops, time.Second))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "anomaly\tcount\tguarantees\t")
	for _, c := range Classes {
		v := "allowed"
		if c.Forbidden() {
			v = "forbidden"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", c, all.Count[c], v)
	}
	tw.Flush()
	fmt.Fprintf(out, "register: %d keys, %d not linearizable (porcupine)\n", reg.Keys, len(reg.NonLinearizable))
	fmt.Fprintf(out, "set: %d WAIT-acknowledged adds, %d lost; %d async, %d lost (during a fault: the latest %v after it was in, %v after it began; before a fault: the earliest %v before it)\n",
		set.WaitAcked, set.LostWaitAcked, set.AsyncAcked, set.LostAsync, set.AsyncLossAfterFault, set.AsyncLossAfterBegin, set.AsyncLossBeforeFault)
	for _, a := range all.List {
		if a.Class.Forbidden() {
			fmt.Fprintf(out, "  %s\n", a)
		}
	}
	return all, nil
}
