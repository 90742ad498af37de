package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/reportstest"
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
	for name, run := range map[string]*reports.Run{"hand": reportstest.HandRun(), "crash-storm": reportstest.SmallRun(t)} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := WritePlots(dir, []*reports.Run{run})
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
	a := reportstest.SmallRun(t)
	b := reportstest.SmallRun(t)
	b.Info.Detector = "deadline"
	b.Info.Sets = append(append([]string(nil), b.Info.Sets...), "orchestrator.detector=deadline")
	labels := RunLabels([]*reports.Run{a, b})
	if labels[0] != "detector scan" || labels[1] != "detector deadline" {
		t.Errorf("labels = %q, want the detectors", labels)
	}
	dir := t.TempDir()
	if _, err := WritePlots(dir, []*reports.Run{a, b}); err != nil {
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
