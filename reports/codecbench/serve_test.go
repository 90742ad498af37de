package codecbench

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestServeHelper is the far end of the Remote tests: this test binary again, serving
// its cases (wire three times as slow when TASKSIM_SERVE_SLOW is set). It does nothing
// in a normal run.
func TestServeHelper(t *testing.T) {
	if os.Getenv("TASKSIM_SERVE_HELPER") != "1" {
		t.Skip("the far end of TestRemote")
	}
	opts := Options{Payloads: []int{512}, Match: os.Getenv("TASKSIM_SERVE_MATCH")}
	if os.Getenv("TASKSIM_SERVE_SLOW") != "" {
		opts.Wrap = func(c Case, op func(n int) error) func(n int) error {
			if c.Variant != VariantWire {
				return op
			}
			return func(n int) error { return op(3 * n) }
		}
	}
	if err := Serve(os.Stdin, os.Stdout, opts); err != nil {
		t.Fatal(err)
	}
}

func startHelper(t *testing.T, slow bool) *Remote {
	t.Helper()
	t.Setenv("TASKSIM_SERVE_HELPER", "1")
	t.Setenv("TASKSIM_SERVE_MATCH", `^TaskHeartbeatRequest/encode/(wire|proto)$`)
	if slow {
		t.Setenv("TASKSIM_SERVE_SLOW", "1")
	} else {
		t.Setenv("TASKSIM_SERVE_SLOW", "")
	}
	r, err := StartRemote(os.Args[0], "-test.run=^TestServeHelper$")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close the helper: %v", err)
		}
	})
	return r
}

// Two processes serving their cases are timed alternately, as `bench codec --against`
// times two tasksim binaries: a three times slower wire in one is caught, and only wire.
func TestRemote(t *testing.T) {
	base, slow := startHelper(t, false), startHelper(t, true)
	if got := strings.Join(base.Names(), ","); got != "TaskHeartbeatRequest/encode/proto,TaskHeartbeatRequest/encode/wire" {
		t.Fatalf("the helper serves %s", got)
	}
	if _, err := base.Time(7, 1); err == nil || !strings.Contains(err.Error(), "want a case below 2") {
		t.Errorf("a request for case 7 of 2: %v", err)
	}
	c, err := ABCompare(base, slow, ABOptions{Time: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	regs := c.Regressions()
	if len(regs) != 1 || regs[0].Case != "TaskHeartbeatRequest/encode/wire" || regs[0].Low < 2 {
		var b strings.Builder
		_ = c.Table(&b)
		t.Fatalf("want the 3x slower wire caught, and nothing else:\n%s", b.String())
	}
}

// A binary that does not serve (an older tasksim, or not a tasksim) is named as such.
func TestRemoteRefusesANonServer(t *testing.T) {
	_, err := StartRemote("/bin/sh", "-c", "echo tasksim 0.1")
	if err == nil || !strings.Contains(err.Error(), "does not serve codec timings") {
		t.Fatalf("StartRemote of a non-server: %v", err)
	}
}
