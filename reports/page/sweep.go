package page

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/reports/sweep"
)

// SweepFile is the page `tasksim sweep` writes beside sweep.json.
const SweepFile = "sweep.html"

// sweepRow is one summary path across the seeds: its quantiles and a histogram.
type sweepRow struct {
	Path                          string
	Min, P50, P90, P99, Max, Mean string
	Histogram                     template.HTML
	Constant                      bool
}

type sweepFailure struct {
	Seed   uint64
	Failed string
	Replay string
}

// sweepHistogramBins is the number of bars in each path's histogram.
const sweepHistogramBins = 24

// histogramSVG draws values as a small inline histogram (no script, nothing fetched):
// sweepHistogramBins bars from min to max, each as tall as its share of the seeds.
func histogramSVG(values []float64, lo, hi float64) template.HTML {
	const w, h = 240.0, 28.0
	counts := make([]int, sweepHistogramBins)
	for _, v := range values {
		i := 0
		if hi > lo {
			i = min(int((v-lo)/(hi-lo)*sweepHistogramBins), sweepHistogramBins-1)
		}
		counts[i]++
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="dist" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="distribution across seeds">`, w, h, w, h)
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" stroke="#d0d7de"/>`, h-0.5, w, h-0.5)
	bw := w / sweepHistogramBins
	for i, c := range counts {
		if c == 0 {
			continue
		}
		bh := math.Max(1.5, (h-2)*float64(c)/float64(top))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f77b4"><title>%d seeds</title></rect>`,
			float64(i)*bw+0.5, h-1-bh, bw-1, bh, c)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// WriteSweepHTML writes the sweep's page: the verdict, every failing seed with the line
// that replays it, and each summary path's distribution across the seeds as quantiles and
// a histogram; paths that never vary are listed apart, with their value.
func WriteSweepHTML(w io.Writer, sw *sweep.Sweep) error {
	failed := sw.Failed()
	data := struct {
		Title, Verdict, Sub string
		OK                  bool
		Failures            []sweepFailure
		Rows, Constant      []sweepRow
	}{Title: fmt.Sprintf("sweep %s, seeds %s", sw.Scenario, sw.SeedSpec), Verdict: "PASS", OK: len(failed) == 0,
		Sub: fmt.Sprintf("%d runs, %d failed", len(sw.Seeds), len(failed))}
	if sw.Shard != "" {
		data.Title = fmt.Sprintf("shard %s of %s", sw.Shard, data.Title)
	}
	if !data.OK {
		data.Verdict = "FAIL"
	}
	for _, f := range failed {
		var exprs []string
		for _, e := range f.Failed {
			exprs = append(exprs, fmt.Sprintf("%s (observed %s)", e.Expr, reports.FormatObserved(e.Expr, e.Observed)))
		}
		data.Failures = append(data.Failures, sweepFailure{Seed: f.Seed, Failed: strings.Join(exprs, "; "), Replay: reports.ReplayCommand(sw.Source, f.Seed, sw.Sets)})
	}
	values := make([]float64, len(sw.Seeds))
	for j, a := range sw.Aggregate {
		if a.Path == "seed" {
			continue
		}
		format := reports.FormatNumber
		if reports.IsDurationPath(a.Path) {
			format = reports.Seconds
		}
		row := sweepRow{Path: a.Path, Min: format(a.Min), P50: format(a.P50), P90: format(a.P90), P99: format(a.P99), Max: format(a.Max), Mean: format(a.Mean)}
		if a.Min == a.Max {
			row.Constant = true
			data.Constant = append(data.Constant, row)
			continue
		}
		for i, s := range sw.Seeds {
			values[i] = s.Values[j]
		}
		row.Histogram = histogramSVG(values, a.Min, a.Max)
		data.Rows = append(data.Rows, row)
	}
	var b bytes.Buffer
	if err := sweepTemplate.Execute(&b, data); err != nil {
		return fmt.Errorf("render %s: %w", SweepFile, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteSweepFile writes sweep.html into dir and returns its path.
func WriteSweepFile(dir string, sw *sweep.Sweep) (string, error) {
	var b bytes.Buffer
	if err := WriteSweepHTML(&b, sw); err != nil {
		return "", err
	}
	path := filepath.Join(dir, SweepFile)
	if err := safefile.WriteFile(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("write %s: %w", SweepFile, err)
	}
	return path, nil
}

var sweepTemplate = template.Must(template.New("sweep").Funcs(template.FuncMap{"style": func() template.CSS { return pageStyle }}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}} · {{.Title}} · tasksim</title>
<style>{{style}}</style>
</head>
<body>
<h1><span class="{{if .OK}}ok{{else}}bad{{end}}">{{.Verdict}}</span> {{.Title}}</h1>
<p class="sub">{{.Sub}}</p>
{{if .Failures}}<h2>Failing seeds</h2>
<table>
<tr><th>seed</th><th>failed expectations</th><th>replay</th></tr>
{{range .Failures}}<tr><td class="num">{{.Seed}}</td><td><code>{{.Failed}}</code></td><td><code>{{.Replay}}</code></td></tr>
{{end}}</table>{{end}}
<h2>Across seeds</h2>
<p class="sub">Each summary path's distribution over the seeds: nearest-rank quantiles, and a histogram from its min to its max.</p>
<div class="wide">
<table>
<tr><th>path</th><th class="num">min</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th class="num">mean</th><th>seeds from min to max</th></tr>
{{range .Rows}}<tr><td><code>{{.Path}}</code></td><td class="num">{{.Min}}</td><td class="num">{{.P50}}</td><td class="num">{{.P90}}</td><td class="num">{{.P99}}</td><td class="num">{{.Max}}</td><td class="num">{{.Mean}}</td><td>{{.Histogram}}</td></tr>
{{end}}</table>
</div>
{{if .Constant}}<h2>The same in every seed</h2>
<table>
<tr><th>path</th><th class="num">value</th></tr>
{{range .Constant}}<tr><td><code>{{.Path}}</code></td><td class="num">{{.Min}}</td></tr>
{{end}}</table>{{end}}
<footer>tasksim · durations are virtual seconds</footer>
</body>
</html>
`))
