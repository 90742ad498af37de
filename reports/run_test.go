package reports_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
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
