package outputs

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/metrics"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/reportstest"
)

func TestWriteRunReadRunRoundTrip(t *testing.T) {
	run := reportstest.SmallRun(t)
	dir := t.TempDir()
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{reports.SummaryFile, reports.TimelineFile, reports.LatencyFile, reports.InfoFile, metrics.MetricsFile, page.HTMLFile, page.MarkdownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	checkPlotFiles(t, dir)
	for _, arg := range []string{dir, filepath.Join(dir, reports.SummaryFile)} {
		got, err := reports.ReadRun(arg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Latency, run.Latency) || !reflect.DeepEqual(got.Info, run.Info) ||
			!reflect.DeepEqual(got.Timeline, run.Timeline) || got.Summary.TraceHash != run.Summary.TraceHash {
			t.Errorf("reports.ReadRun(%s) differs from what was written", arg)
		}
	}
	// Re-drawn plots are the same bytes as the first ones.
	again, err := reports.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := plots.RenderPlots([]*reports.Run{run})
	second, _ := plots.RenderPlots([]*reports.Run{again})
	for name := range first {
		if !bytes.Equal(first[name].SVG, second[name].SVG) {
			t.Errorf("%s re-drawn from the saved run differs", name)
		}
	}
}

// checkPlotFiles asserts that every plot exists as a PNG that decodes and as an SVG.
func checkPlotFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range plots.PlotNames {
		f, err := os.Open(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s.png does not decode: %v", name, err)
		}
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg is not an SVG (%v)", name, err)
		}
	}
}
