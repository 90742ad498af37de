package plots

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is a plot and its legend. The legend is drawn in a strip below the plot, never
// over the data (a legend inside the plot area covered bars and crossed lines).
type Figure struct {
	Plot   *plot.Plot
	legend []legendEntry
	// Width overrides plotWidth (the codec chart grows with its groups).
	Width vg.Length
}

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

func newFigure(p *plot.Plot) *Figure { return &Figure{Plot: p} }

// add puts an entry in the legend.
func (f *Figure) add(text string, thumbs ...plot.Thumbnailer) {
	f.legend = append(f.legend, legendEntry{text, thumbs})
}

// LegendTexts are the legend's entries in order, as drawn.
func (f *Figure) LegendTexts() []string {
	out := make([]string, len(f.legend))
	for i, e := range f.legend {
		out[i] = e.text
	}
	return out
}

// legendColumns splits the entries into at most two columns, so that a long legend does
// not make the figure tall.
func (f *Figure) legendColumns() []plot.Legend {
	if len(f.legend) == 0 {
		return nil
	}
	// Two columns when there are many short entries; long ones (several runs) need the
	// whole width.
	cols, longest := 1, 0
	for _, e := range f.legend {
		longest = max(longest, len(e.text))
	}
	if len(f.legend) > 3 && longest <= 60 {
		cols = 2
	}
	per := (len(f.legend) + cols - 1) / cols
	var out []plot.Legend
	for c := 0; c < cols; c++ {
		l := plot.NewLegend()
		l.TextStyle.Font = sansFont
		l.TextStyle.Font.Size = vg.Points(10)
		l.ThumbnailWidth = vg.Points(22)
		l.Padding = vg.Points(3)
		l.Top, l.Left = true, true
		for _, e := range f.legend[c*per : min(len(f.legend), (c+1)*per)] {
			l.Add(e.text, e.thumbs...)
		}
		out = append(out, l)
	}
	return out
}

// legendHeight is the height of the strip the legend needs below the plot.
func (f *Figure) legendHeight(cols []plot.Legend) vg.Length {
	var h vg.Length
	for i := range cols {
		h = max(h, cols[i].Rectangle(draw.Canvas{}).Size().Y)
	}
	if h == 0 {
		return 0
	}
	return h + vg.Points(14)
}

func (f *Figure) size() (w, h vg.Length) {
	w = plotWidth
	if f.Width > 0 {
		w = f.Width
	}
	return w, plotHeight + f.legendHeight(f.legendColumns())
}

// Draw draws the plot above and the legend in the strip below it, its columns starting
// under the plot area's left edge.
func (f *Figure) Draw(c draw.Canvas) {
	cols := f.legendColumns()
	lh := f.legendHeight(cols)
	f.Plot.Draw(draw.Crop(c, 0, 0, lh, 0))
	if lh == 0 {
		return
	}
	strip := draw.Crop(c, 0, 0, 0, -(c.Max.Y - c.Min.Y - lh))
	left := f.Plot.DataCanvas(draw.Crop(c, 0, 0, lh, 0)).Min.X
	colWidth := (c.Max.X - left) / vg.Length(len(cols))
	for i := range cols {
		x0 := left + vg.Length(i)*colWidth
		cols[i].Draw(draw.Crop(strip, x0-c.Min.X, -(c.Max.X - x0 - colWidth), 0, -vg.Points(4)))
	}
}

// render draws f as PNG at pngDPI and as SVG.
func (f *Figure) render() (pngData, svgData []byte, err error) {
	w, h := f.size()
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	f.Draw(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, fmt.Errorf("encode PNG: %w", err)
	}
	svg := vgsvg.New(w, h)
	f.Draw(draw.New(svg))
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return nil, nil, fmt.Errorf("encode SVG: %w", err)
	}
	return pb.Bytes(), sb.Bytes(), nil
}
