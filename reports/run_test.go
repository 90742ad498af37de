package reports_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/sim"
)

func TestReadRunErrorsNameFileAndProblem(t *testing.T) {
	run := reportstest.HandRun()
	tests := []struct {
		name    string
		breakIt func(dir string)
		want    []string
	}{
		{"no directory", func(dir string) { os.RemoveAll(dir) }, []string{"no such file or directory"}},
		{"missing latency", func(dir string) { os.Remove(filepath.Join(dir, reports.LatencyFile)) }, []string{reports.LatencyFile, "missing"}},
		{"bad json", func(dir string) { os.WriteFile(filepath.Join(dir, reports.TimelineFile), []byte("{"), 0o644) }, []string{reports.TimelineFile, "not valid"}},
		{"unknown field", func(dir string) { os.WriteFile(filepath.Join(dir, reports.InfoFile), []byte(`{"nope":1}`), 0o644) }, []string{reports.InfoFile, `unknown field "nope"`}},
		{"bucket counts", func(dir string) {
			l := run.Latency
			l.Latency.EndToEnd.Count++
			b, _ := json.Marshal(&l)
			os.WriteFile(filepath.Join(dir, reports.LatencyFile), b, 0o644)
		}, []string{reports.LatencyFile, "latency.end_to_end", "bucket counts sum to 9 but count is 10"}},
		{"uneven timeline", func(dir string) {
			os.WriteFile(filepath.Join(dir, reports.TimelineFile), []byte(`{"bucket_seconds":1,"in_flight":[1,2],"settled":[1],"faults":[]}`), 0o644)
		}, []string{reports.TimelineFile, "in_flight has 2 buckets, settled 1"}},
		{"endless file", func(dir string) {
			os.Remove(filepath.Join(dir, reports.TimelineFile))
			os.Symlink("/dev/zero", filepath.Join(dir, reports.TimelineFile))
		}, []string{reports.TimelineFile, "not valid"}},
		{"other run", func(dir string) {
			os.WriteFile(filepath.Join(dir, reports.InfoFile), []byte(`{"scenario":"x","seed":1,"source":"x","detector":"scan","heartbeat_timeout":5,"task_ids":"reuse","workers":1}`), 0o644)
		}, []string{reports.InfoFile, "files of different runs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := reports.WriteRun(dir, run); err != nil {
				t.Fatal(err)
			}
			tt.breakIt(dir)
			_, err := reports.ReadRun(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDistributionQuantilesAndCounts(t *testing.T) {
	d := reportstest.HandRun().Latency.Latency.EndToEnd // 10ms 200ms 1s 1.5s 2s 3s 4s 20s 40s
	if d.Quantile(0) != 0.01 || d.Quantile(1) != 40 {
		t.Errorf("extremes %g, %g; want exact 0.01, 40", d.Quantile(0), d.Quantile(1))
	}
	if q := d.Quantile(0.5); q < 1.998 || q > 2.002 {
		t.Errorf("p50 = %g, want 2 within 0.1%%", q)
	}
	for x, want := range map[float64]int64{0.001: 0, 1: 3, 2: 5, 39: 8, 40: 9, 100: 9} {
		if got := d.CountAtMost(x); got != want {
			t.Errorf("CountAtMost(%g) = %d, want %d", x, got, want)
		}
	}
	xs, ys := d.CDF()
	if xs[0] != 0.01 || ys[0] != 0 || xs[len(xs)-1] != 40 || ys[len(ys)-1] != 1 {
		t.Errorf("CDF runs from (%g,%g) to (%g,%g)", xs[0], ys[0], xs[len(xs)-1], ys[len(ys)-1])
	}
}

// A timeline file with far more buckets than a run writes is merged down to what a plot
// needs when it is read, keeping its totals: plotting a million buckets took gigabytes.
func TestReadRunFitsALargeTimeline(t *testing.T) {
	run := reportstest.HandRun()
	dir := filepath.Join(t.TempDir(), "run")
	if err := reports.WriteRun(dir, run); err != nil {
		t.Fatal(err)
	}
	const n = 1 << 20
	tl := run.Timeline
	tl.InFlight, tl.Settled = make([]int64, n), make([]int64, n)
	for i := range n {
		tl.InFlight[i], tl.Settled[i] = int64(i), 1
	}
	b, _ := json.Marshal(&tl)
	if err := os.WriteFile(filepath.Join(dir, reports.TimelineFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := reports.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := got.Timeline
	if len(g.InFlight) > sim.MaxBuckets || len(g.Settled) != len(g.InFlight) {
		t.Fatalf("%d buckets after reading, want at most %d", len(g.InFlight), sim.MaxBuckets)
	}
	var settled int64
	for _, s := range g.Settled {
		settled += s
	}
	if settled != n || g.BucketSeconds != tl.BucketSeconds*n/float64(len(g.Settled)) {
		t.Errorf("settled %d (want %d), bucket %gs", settled, n, g.BucketSeconds)
	}
}
