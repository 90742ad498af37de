package scenarios

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/tasksim/tasksim/sim"
)

// MemoryLimitEnv overrides MemoryLimit, e.g. TASKSIM_MEMORY_LIMIT=4GiB on a shared machine.
const MemoryLimitEnv = "TASKSIM_MEMORY_LIMIT"

// MemoryLimit is what a run may be estimated to take: $TASKSIM_MEMORY_LIMIT if set, else
// half of this machine's memory, or of its cgroup's limit when that is lower. Half,
// because the estimate is rough and a machine runs more than one thing. 0 means unknown
// (nothing is refused).
func MemoryLimit() (int64, error) {
	if v, ok := os.LookupEnv(MemoryLimitEnv); ok {
		n, err := parseBytes(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: %w", MemoryLimitEnv, v, err)
		}
		return n, nil
	}
	total := memTotal()
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total / 2, nil
}

// parseBytes reads 4096, 512MiB, 4GiB or 1TiB.
func parseBytes(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("not a size > 0 (4096, 512MiB, 4GiB)")
	}
	return v * mult, nil
}

func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// CheckMemory refuses a scenario whose estimated peak memory (sim.EstimateMemory), times
// the runs made at once (a sweep's --parallel), is over limit, in one line that gives the
// estimate, the limit and the field that costs most. A limit of 0 or less checks nothing.
func CheckMemory(cfg *sim.Config, runs int, limit int64) error {
	e := sim.EstimateMemory(cfg)
	runs = max(runs, 1)
	total := e.Bytes
	if total > math.MaxInt64/int64(runs) {
		total = math.MaxInt64
	} else {
		total *= int64(runs)
	}
	if limit <= 0 || total <= limit {
		return nil
	}
	estimate := FormatBytes(total)
	if runs > 1 {
		estimate = fmt.Sprintf("%s (%s a run, %d runs at a time)", estimate, FormatBytes(e.Bytes), runs)
	}
	return fmt.Errorf("estimated peak memory %s is over the limit of %s (half of this machine's memory, or $%s): %s; --force runs it anyway",
		estimate, FormatBytes(limit), MemoryLimitEnv, costliest(cfg, e))
}

// costliest names the field behind the largest part of the estimate.
func costliest(cfg *sim.Config, e sim.MemoryEstimate) string {
	steps, workers := e.StepBytes, e.WorkerBytes
	switch {
	case e.PayloadBytes >= steps && e.PayloadBytes >= workers:
		i := argmax(len(cfg.Load), func(i int) int64 { return int64(cfg.Load[i].PayloadBytes) })
		return fmt.Sprintf("load[%d].payload %s, %s for payloads", i, FormatBytes(int64(cfg.Load[i].PayloadBytes)), FormatBytes(e.PayloadBytes))
	case workers >= steps:
		i := argmax(len(cfg.Workers), func(i int) int64 { return int64(cfg.Workers[i].Count) })
		return fmt.Sprintf("%d workers in all (workers[%d].count %d), %s", e.Workers, i, cfg.Workers[i].Count, FormatBytes(workers))
	default:
		i := argmax(len(cfg.Load), func(i int) int64 { return int64(cfg.Load[i].Tasks) })
		return fmt.Sprintf("%d steps in all can arrive (load[%d].tasks %d), %s", e.Steps, i, cfg.Load[i].Tasks, FormatBytes(steps))
	}
}

func argmax(n int, f func(int) int64) int {
	best := 0
	for i := 1; i < n; i++ {
		if f(i) > f(best) {
			best = i
		}
	}
	return best
}

// FormatBytes prints n in the largest binary unit it reaches, to one decimal (1.5 GiB).
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}
