package redcon

import (
	"bytes"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// loopReader serves the same data forever, as a client pipelining the same
// batch would.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func benchReader(b *testing.B, cmd []byte, pipeline int) {
	data := bytes.Repeat(cmd, pipeline)
	rd := NewReader(&loopReader{data: data})
	rd.zeroCopy = true
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	// The CPU time of this thread, besides wall time: on a loaded machine
	// it is the steadier measure.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	start := cpu()
	for n := 0; n < b.N; {
		cmds, err := rd.readCommands(nil)
		if err != nil {
			b.Fatal(err)
		}
		n += len(cmds)
	}
	b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkReaderSet(b *testing.B) {
	benchReader(b, []byte("*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$10\r\nvalue:0001\r\n"), 1)
}

func BenchmarkReaderSetPipeline16(b *testing.B) {
	benchReader(b, []byte("*3\r\n$3\r\nSET\r\n$10\r\nkey:000001\r\n$10\r\nvalue:0001\r\n"), 16)
}

func BenchmarkReaderMSet10Pipeline16(b *testing.B) {
	cmd := []byte("*21\r\n$4\r\nMSET\r\n")
	for i := 0; i < 10; i++ {
		k := "key:" + strconv.Itoa(100000+i)
		cmd = append(cmd, "$10\r\n"+k+"\r\n$3\r\nxxx\r\n"...)
	}
	benchReader(b, cmd, 16)
}

func BenchmarkReaderBigValue(b *testing.B) {
	v := bytes.Repeat([]byte("v"), 100<<10)
	cmd := []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$" + strconv.Itoa(len(v)) + "\r\n")
	cmd = append(append(cmd, v...), "\r\n"...)
	benchReader(b, cmd, 1)
}
