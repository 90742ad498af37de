package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tasksim/tasksim/reports/codecbench"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// quickCodecRun measures a few cheap cases briefly: enough to draw.
func quickCodecRun(t *testing.T) *codecbench.Report {
	t.Helper()
	r, err := codecbench.Run(codecbench.Options{Payloads: []int{512}, Time: time.Millisecond, Count: 2,
		Match: `^TaskHeartbeat|^TaskAssignment/512B/encode/(proto|wire|memmove)$`})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCodecBars(t *testing.T) {
	dir := t.TempDir()
	pngPath, svgPath := filepath.Join(dir, "codec.png"), filepath.Join(dir, "codec.svg")
	if err := CodecBars(quickCodecRun(t), pngPath, svgPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
		t.Errorf("PNG is only %v", b)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element is %q", root)
	}
	for _, want := range []string{"ns/op", "wire (sim path)", "TaskHeartbeat", "Request", "Liberation Sans"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks the text %q", want)
		}
	}
}

// TestCodecChartLayout pins what made codec.png hard to read: group labels overlapped,
// the legend covered the bars, and it was set in another font than the run plots.
func TestCodecChartLayout(t *testing.T) {
	f, err := codecFigure(quickCodecRun(t))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Plot
	for _, ts := range []struct {
		what string
		font string
	}{{"title", string(p.Title.TextStyle.Font.Typeface) + " " + string(p.Title.TextStyle.Font.Variant)}, {"x ticks", string(p.X.Tick.Label.Font.Typeface) + " " + string(p.X.Tick.Label.Font.Variant)},
		{"y ticks", string(p.Y.Tick.Label.Font.Typeface) + " " + string(p.Y.Tick.Label.Font.Variant)}, {"x label", string(p.X.Label.TextStyle.Font.Typeface) + " " + string(p.X.Label.TextStyle.Font.Variant)}} {
		if want := string(sansFont.Typeface) + " " + string(sansFont.Variant); ts.font != want {
			t.Errorf("%s is set in %q, the run plots in %q", ts.what, ts.font, want)
		}
	}
	// The legend is below the plot (the figure's strip), not in the plot area.
	if len(f.LegendTexts()) == 0 {
		t.Fatal("no legend")
	}
	w, h := f.size()
	data := p.DataCanvas(draw.New(vgimg.New(w, h)))
	ticks := p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max)
	pitch := (data.Max.X - data.Min.X) / vg.Length(p.X.Max-p.X.Min)
	for _, tk := range ticks {
		for _, line := range strings.Split(tk.Label, "\n") {
			if lw := p.X.Tick.Label.Width(line); lw >= pitch {
				t.Errorf("label line %q is %v wide, groups are %v apart: labels overlap", line, lw, pitch)
			}
		}
	}
}
