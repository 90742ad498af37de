package codecbench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slowdown makes every case of one variant do 25% more work, as a codec change that
// costs 25% would: a quarter more operations per call, the fraction of one carried to
// the next call so that chunks of a few slow operations also average 25% more.
func slowdown(variant string) func(c Case, op func(n int) error) func(n int) error {
	return func(c Case, op func(n int) error) func(n int) error {
		if c.Variant != variant {
			return op
		}
		carry := 0
		return func(n int) error {
			extra := (n + carry) / 4
			carry = (n + carry) % 4
			return op(n + extra)
		}
	}
}

// cpuLoad starts a busy process per CPU competing with the measurement until the test
// ends: this test binary again, running TestCPULoadHelper, which mixes arithmetic with
// copying a buffer larger than the caches, so that the load costs the benchmark both
// CPU time and memory bandwidth, as another engineer's build would.
func cpuLoad(t *testing.T) {
	t.Helper()
	for range runtime.NumCPU() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCPULoadHelper$")
		cmd.Env = append(os.Environ(), "TASKSIM_CPU_LOAD_HELPER=1")
		// The helper stops when this pipe closes, so that it cannot outlive a test
		// binary that crashed before its cleanup.
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start CPU load: %v", err)
		}
		t.Cleanup(func() {
			_ = stdin.Close()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
}

// TestCPULoadHelper is the busy process of cpuLoad; it does nothing in a normal run.
func TestCPULoadHelper(t *testing.T) {
	if os.Getenv("TASKSIM_CPU_LOAD_HELPER") != "1" {
		t.Skip("the CPU load of TestGateUnderLoad")
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	src, dst := make([]byte, 16<<20), make([]byte, 16<<20)
	for start := time.Now(); time.Since(start) < time.Hour; {
		copy(dst, src)
		x := uint64(1)
		for i := range 1 << 20 {
			x = x*6364136223846793005 + uint64(i)
		}
		src[0] = byte(x)
	}
}

// loadAverage is the first field of /proc/loadavg, or "?" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// TestGateUnderLoad is the gate's noise experiment, run on request:
//
//	TASKSIM_GATE_TRIALS=20 go test -run GateUnderLoad -v -timeout 30m ./reports/codecbench/
//
// With a busy process per CPU competing (cpuLoad), each trial compares this build with
// itself (it must pass) and with itself made 25% slower on one variant, wire (it must
// fail, on wire's rows only), both by ABCompare as `bench codec --against` does. It
// prints the tally and wants at least 19 of 20 of each. It is not part of
// `go test ./...`: it takes minutes.
func TestGateUnderLoad(t *testing.T) {
	s := os.Getenv("TASKSIM_GATE_TRIALS")
	if s == "" {
		t.Skip("set TASKSIM_GATE_TRIALS=N to run the noise experiment")
	}
	trials, err := strconv.Atoi(s)
	if err != nil || trials < 1 {
		t.Fatalf("TASKSIM_GATE_TRIALS=%q: want a positive number", s)
	}
	opts := Options{Payloads: []int{512}, Match: `^TaskAssignment/512B/|^TaskHeartbeatRequest/`}
	ab := ABOptions{Time: 100 * time.Millisecond}
	if s := os.Getenv("TASKSIM_GATE_TIME"); s != "" {
		if ab.Time, err = time.ParseDuration(s); err != nil {
			t.Fatalf("TASKSIM_GATE_TIME: %v", err)
		}
	}
	base, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	same, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Wrap = slowdown(VariantWire)
	slow, err := NewLocal(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load average before the CPU load: %s", loadAverage())
	cpuLoad(t)
	passed, caught := 0, 0
	var worstSelf, leastSlow float64 = 0, 10
	var misses []string
	start := time.Now()
	for i := range trials {
		c, err := ABCompare(base, same, ab)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range c.Deltas {
			worstSelf = max(worstSelf, d.Low)
		}
		selfVerdict := "passed"
		if !c.Failed() {
			passed++
		} else {
			selfVerdict = "FAILED"
			misses = append(misses, fmt.Sprintf("trial %d: self against self failed: %s", i, abNames(c.Regressions())))
		}
		if c, err = ABCompare(base, slow, ab); err != nil {
			t.Fatal(err)
		}
		wrong, wireRows, wireCaught := false, 0, 0
		for _, d := range c.Deltas {
			if variantOfName(d.Case) == VariantWire {
				wireRows++
				leastSlow = min(leastSlow, d.Low)
				if d.Regression {
					wireCaught++
				}
			} else if d.Regression {
				wrong = true
			}
		}
		if c.Failed() && !wrong {
			caught++
		} else {
			misses = append(misses, fmt.Sprintf("trial %d: 25%% slower wire: regressions %s", i, abNames(c.Regressions())))
		}
		t.Logf("trial %d (load %s): self %v, slower wire caught on %d of %d wire rows, %d pairs per case",
			i, loadAverage(), selfVerdict, wireCaught, wireRows, c.Pairs)
	}
	t.Logf("under a busy process per CPU (%d), %d cases, %v per case, %v in all: self against self passed %d of %d (highest lower bound %.3f); 25%% slower wire caught, and only wire, %d of %d (lowest lower bound of a wire row %.3f)",
		runtime.NumCPU(), len(base.Names()), ab.Time, time.Since(start).Round(time.Second), passed, trials, worstSelf, caught, trials, leastSlow)
	for _, m := range misses {
		t.Log(m)
	}
	need := trials - trials/20 // 19 of 20
	if passed < need || caught < need {
		t.Errorf("want at least %d of %d each", need, trials)
	}
}

func abNames(ds []ABDelta) string {
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s x%.3f [%.3f, %.3f]", d.Case, d.Ratio, d.Low, d.High))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}
