package scenarios

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/sim"
)

// Each input of the report that validated and then took more than 6 GiB is refused with
// the estimate, the limit and the field behind it; every built-in fits.
func TestMemoryEstimateRefusesWhatCannotFit(t *testing.T) {
	const limit = 6 << 30
	pools := &strings.Builder{}
	pools.WriteString("name: pools\nworkers:\n")
	for i := range 1000 {
		fmt.Fprintf(pools, "  - {pool: p%d, count: 1000000}\n", i)
	}
	pools.WriteString("components: [{path: /c, pool: p0}]\nload: [{component: /c, tasks: 10}]\n")
	aliases := &strings.Builder{}
	aliases.WriteString("name: aliases\nload:\n  - &s {component: /c, tasks: 10000000, arrival: {process: burst}}\n")
	for range 999 {
		aliases.WriteString("  - *s\n")
	}
	cases := []struct{ name, yaml, want string }{
		{"10^9 tasks", "name: many\nload: [{component: /c, tasks: 1000000000, arrival: {process: burst}}]\n",
			"estimated peak memory 1.1 TiB is over the limit of 6.0 GiB (half of this machine's memory, or $TASKSIM_MEMORY_LIMIT): 1000000000 steps in all can arrive (load[0].tasks 1000000000), 1.1 TiB; --force runs it anyway"},
		{"1000 pools of 10^6 workers", pools.String(),
			"estimated peak memory 476.9 GiB is over the limit of 6.0 GiB (half of this machine's memory, or $TASKSIM_MEMORY_LIMIT): 1000000000 workers in all (workers[0].count 1000000), 476.8 GiB; --force runs it anyway"},
		{"aliases multiplying a stream", aliases.String(),
			"estimated peak memory 10.9 TiB is over the limit of 6.0 GiB (half of this machine's memory, or $TASKSIM_MEMORY_LIMIT): 10000000000 steps in all can arrive (load[0].tasks 10000000), 10.9 TiB; --force runs it anyway"},
		{"1 GiB payload", "name: big\nworkers: [{pool: p, count: 100}]\nload: [{component: /c, tasks: 1000, payload: 1GiB}]\n",
			"estimated peak memory 416.0 GiB is over the limit of 6.0 GiB (half of this machine's memory, or $TASKSIM_MEMORY_LIMIT): load[0].payload 1.0 GiB, 416.0 GiB for payloads; --force runs it anyway"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("f.yaml", []byte(c.yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckMemory(cfg, 1, limit)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got  %v\nwant %s", err, c.want)
			}
		})
	}
	for _, name := range Names() {
		data, _ := Builtin(name)
		cfg, err := Load(name+".yaml", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckMemory(cfg, 1, 2<<30); err != nil {
			t.Errorf("built-in %s does not fit 2 GiB: %v", name, err)
		}
	}
}

// A sweep runs --parallel scenarios at once; the estimate is multiplied accordingly.
func TestMemoryEstimateCountsParallelRuns(t *testing.T) {
	cfg, err := Load("f.yaml", []byte("name: one\nload: [{component: /c, tasks: 1000000, arrival: {process: burst}}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMemory(cfg, 1, 2<<30); err != nil {
		t.Fatalf("one run: %v", err)
	}
	err = CheckMemory(cfg, 8, 2<<30)
	if err == nil || !strings.HasPrefix(err.Error(), "estimated peak memory 9.2 GiB (1.1 GiB a run, 8 runs at a time) is over the limit of 2.0 GiB") {
		t.Fatalf("eight runs: %v", err)
	}
}

func TestMemoryLimitFromTheEnvironment(t *testing.T) {
	t.Setenv(MemoryLimitEnv, "512MiB")
	if n, err := MemoryLimit(); err != nil || n != 512<<20 {
		t.Fatalf("got %d, %v", n, err)
	}
	t.Setenv(MemoryLimitEnv, "lots")
	if _, err := MemoryLimit(); err == nil || err.Error() != `TASKSIM_MEMORY_LIMIT="lots": not a size > 0 (4096, 512MiB, 4GiB)` {
		t.Fatalf("got %v", err)
	}
}

func TestWarnings(t *testing.T) {
	src := ok + "orchestrator: {heartbeat_interval: 5s}\nworkers: [{pool: p, heartbeat_interval: 6s}, {pool: q, heartbeat_interval: 2s}]\ncomponents: [{path: /c, pool: p}]\n"
	cfg, err := Load("f.yaml", []byte(src), []string{"load[0].component=/c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"orchestrator.heartbeat_interval 5s is not less than orchestrator.heartbeat_timeout 5s: every task running longer than the timeout will be failed while its worker is alive",
		"workers[0].heartbeat_interval 6s is not less than orchestrator.heartbeat_timeout 5s: every task of pool p running longer than the timeout will be failed while its worker is alive",
	}
	if got := Warnings(cfg); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range Names() {
		data, _ := Builtin(name)
		cfg, err := Load(name+".yaml", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := Warnings(cfg); len(w) > 0 {
			t.Errorf("built-in %s: %s", name, w)
		}
	}
}

// FuzzCounts loads scenarios with fuzzed counts, sizes and rates: the loader answers
// with a config or errors, and the estimate is positive and never overflows.
func FuzzCounts(f *testing.F) {
	f.Add(uint64(1000), uint64(40), uint64(4), uint64(512), uint64(100), uint16(1))
	f.Add(uint64(1_000_000_000), uint64(1_000_000), uint64(100_000), uint64(1<<30), uint64(1_000_000_000), uint16(1000))
	f.Fuzz(func(t *testing.T, tasks, count, conc, payload, rate uint64, streams uint16) {
		var b strings.Builder
		fmt.Fprintf(&b, "name: f\nnetwork: {wire: true}\nworkers: [{pool: p, count: %d, concurrency: %d}]\nload:\n", count, conc)
		fmt.Fprintf(&b, "  - &s {component: /c, tasks: %d, payload: %d, arrival: {process: poisson, rate: %d/s}}\n", tasks, payload, rate)
		for range streams % 2000 {
			b.WriteString("  - *s\n")
		}
		cfg, err := Load("f.yaml", []byte(b.String()), nil)
		if err != nil {
			return
		}
		e := sim.EstimateMemory(cfg)
		if e.Bytes <= 0 || e.Bytes < e.StepBytes || e.Bytes < e.WorkerBytes || e.Bytes < e.PayloadBytes {
			t.Fatalf("estimate %+v", e)
		}
		_ = CheckMemory(cfg, int(streams), 1<<30)
	})
}

// FuzzSet applies fuzzed --set flags: an error or a config, never a panic, and a path
// with a key glued to an index (a[0]b) is always refused.
func FuzzSet(f *testing.F) {
	for _, s := range []string{"workers[0].count=5", "workers[0]count=1", "faults[1].at=2m", "seed=", "a[0][1].b=x", "load=[{tasks: 1}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, set string) {
		_, err := Load("f.yaml", []byte(ok), []string{set})
		path, _, _ := strings.Cut(set, "=")
		if glued.MatchString(path) && err == nil {
			t.Fatalf("--set %q: a key glued to an index was accepted", set)
		}
	})
}

var glued = regexp.MustCompile(`\][A-Za-z_]`)
