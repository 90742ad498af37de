package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkPlotFiles asserts that every plot exists as a PNG that decodes and is not blank,
// and as an SVG that parses and draws something.
func checkPlotFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range PlotNames {
		f, err := os.Open(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s.png does not decode: %v", name, err)
		}
		b := img.Bounds()
		if b.Dx() < 800 || b.Dy() < 400 {
			t.Errorf("%s.png is %dx%d, too small", name, b.Dx(), b.Dy())
		}
		// Not blank: a fair share of pixels is drawn, in more than a couple of colours.
		drawn, colours := 0, map[[3]uint32]bool{}
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
					drawn++
				}
				colours[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
			}
		}
		if total := b.Dx() * b.Dy() / 4; drawn < total/100 || len(colours) < 4 {
			t.Errorf("%s.png looks blank: %d of %d sampled pixels drawn, %d colours", name, drawn, total, len(colours))
		}

		data, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(data))
		elems := map[string]int{}
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s.svg does not parse: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elems[se.Name.Local]++
			}
		}
		if elems["svg"] != 1 || elems["path"] < 10 || elems["text"] < 5 {
			t.Errorf("%s.svg draws too little: %v", name, elems)
		}
	}
}

func TestPlotsOfOneRun(t *testing.T) {
	for name, run := range map[string]*Run{"hand": handRun(), "crash-storm": testRun(t)} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := WritePlots(dir, []*Run{run})
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 2*len(PlotNames) {
				t.Errorf("wrote %d files, want %d", len(files), 2*len(PlotNames))
			}
			checkPlotFiles(t, dir)
		})
	}
}

func TestPlotsOverlayRunsWithLegendByRun(t *testing.T) {
	a := testRun(t)
	b := testRun(t)
	b.Info.Detector = "deadline"
	b.Info.Sets = append(append([]string(nil), b.Info.Sets...), "orchestrator.detector=deadline")
	labels := RunLabels([]*Run{a, b})
	if labels[0] != "detector scan" || labels[1] != "detector deadline" {
		t.Errorf("labels = %q, want the detectors", labels)
	}
	dir := t.TempDir()
	if _, err := WritePlots(dir, []*Run{a, b}); err != nil {
		t.Fatal(err)
	}
	checkPlotFiles(t, dir)
	svg, _ := os.ReadFile(filepath.Join(dir, PlotEndToEndCDF+".svg"))
	for _, l := range labels {
		if !bytes.Contains(svg, []byte(l)) {
			t.Errorf("end-to-end CDF legend lacks %q", l)
		}
	}
}

func TestPlotsOfARunWithoutDetections(t *testing.T) {
	run := handRun()
	run.Latency.Detection.SinceLastHeartbeat = Distribution{}
	run.Latency.Detection.SinceCrash = Distribution{}
	plots, err := RenderPlots([]*Run{run})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plots[PlotDetectionHistogram].SVG, []byte("no task was failed by the heartbeat timer")) {
		t.Error("an empty detection histogram does not say why it is empty")
	}
}

func TestWriteRunReadRunRoundTrip(t *testing.T) {
	run := testRun(t)
	dir := t.TempDir()
	if err := WriteAll(dir, run); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SummaryFile, TimelineFile, LatencyFile, InfoFile, MetricsFile, HTMLFile, MarkdownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	checkPlotFiles(t, dir)
	for _, arg := range []string{dir, filepath.Join(dir, SummaryFile)} {
		got, err := ReadRun(arg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Latency, run.Latency) || !reflect.DeepEqual(got.Info, run.Info) ||
			!reflect.DeepEqual(got.Timeline, run.Timeline) || got.Summary.TraceHash != run.Summary.TraceHash {
			t.Errorf("ReadRun(%s) differs from what was written", arg)
		}
	}
	// Re-drawn plots are the same bytes as the first ones.
	again, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := RenderPlots([]*Run{run})
	second, _ := RenderPlots([]*Run{again})
	for name := range first {
		if !bytes.Equal(first[name].SVG, second[name].SVG) {
			t.Errorf("%s re-drawn from the saved run differs", name)
		}
	}
}

func TestReadRunErrorsNameFileAndProblem(t *testing.T) {
	run := handRun()
	tests := []struct {
		name    string
		breakIt func(dir string)
		want    []string
	}{
		{"no directory", func(dir string) { os.RemoveAll(dir) }, []string{"no such file or directory"}},
		{"missing latency", func(dir string) { os.Remove(filepath.Join(dir, LatencyFile)) }, []string{LatencyFile, "missing"}},
		{"bad json", func(dir string) { os.WriteFile(filepath.Join(dir, TimelineFile), []byte("{"), 0o644) }, []string{TimelineFile, "not valid"}},
		{"unknown field", func(dir string) { os.WriteFile(filepath.Join(dir, InfoFile), []byte(`{"nope":1}`), 0o644) }, []string{InfoFile, `unknown field "nope"`}},
		{"bucket counts", func(dir string) {
			l := run.Latency
			l.Latency.EndToEnd.Count++
			b, _ := json.Marshal(&l)
			os.WriteFile(filepath.Join(dir, LatencyFile), b, 0o644)
		}, []string{LatencyFile, "latency.end_to_end", "bucket counts sum to 9 but count is 10"}},
		{"other run", func(dir string) {
			os.WriteFile(filepath.Join(dir, InfoFile), []byte(`{"scenario":"x","seed":1,"source":"x","detector":"scan","heartbeat_timeout":5,"task_ids":"reuse","workers":1}`), 0o644)
		}, []string{InfoFile, "files of different runs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := WriteRun(dir, run); err != nil {
				t.Fatal(err)
			}
			tt.breakIt(dir)
			_, err := ReadRun(dir)
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
	d := handRun().Latency.Latency.EndToEnd // 10ms 200ms 1s 1.5s 2s 3s 4s 20s 40s
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
