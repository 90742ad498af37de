package page

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/safefile"
)

// HTMLFile is the run's one-page report.
const HTMLFile = "report.html"

// htmlPlot is a plot as the page embeds it.
type htmlPlot struct {
	Name, Caption string
	Src           template.URL
}

// WriteHTML writes report.html: one self-contained page (styles inline, plots as data
// URLs, nothing fetched) with the verdict, every expectation, the key numbers and the
// plots, so that it can be mailed, attached to a CI run or opened offline.
func WriteHTML(w io.Writer, run *reports.Run, rendered map[string]plots.RenderedPlot) error {
	data := struct {
		*view
		Plots []htmlPlot
	}{view: newView(run), Plots: embedPlots(rendered)}
	return execute(w, htmlTemplate, HTMLFile, data)
}

// embedPlots lists the rendered plots in PlotNames order as images inlined in the page.
func embedPlots(rendered map[string]plots.RenderedPlot) []htmlPlot {
	var out []htmlPlot
	for _, name := range plots.PlotNames {
		p, ok := rendered[name]
		if !ok {
			continue
		}
		// The PNG, not the SVG: it looks the same in every browser, with or without fonts.
		src := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.PNG))
		out = append(out, htmlPlot{Name: name, Caption: plotCaptions[name], Src: src})
	}
	return out
}

// execute renders a page whole before writing it, so that a template error leaves no
// half-written page.
func execute(w io.Writer, tmpl *template.Template, file string, data any) error {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("render %s: %w", file, err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteHTMLFile is the Reporter of report.html. It embeds the PNGs that the plots'
// reporter wrote into dir before it, so that each plot is drawn once.
func WriteHTMLFile(dir string, run *reports.Run) error {
	rendered := map[string]plots.RenderedPlot{}
	for _, name := range plots.PlotNames {
		b, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read plot for %s: %w", HTMLFile, err)
		}
		rendered[name] = plots.RenderedPlot{PNG: b}
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, run, rendered); err != nil {
		return err
	}
	if err := safefile.WriteFile(filepath.Join(dir, HTMLFile), b.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", HTMLFile, err)
	}
	return nil
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Verdict}} · {{.Title}} · tasksim</title>
<style>
  :root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; }
  * { box-sizing: border-box; }
  body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
         max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
  .badge { display: inline-block; padding: 2px 12px; border-radius: 14px; color: #fff; font-weight: 600;
           font-size: 15px; vertical-align: 4px; margin-right: 10px; }
  .badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
  .sub { color: var(--muted); margin: 2px 0 10px; }
  .desc { max-width: 900px; }
  code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
        overflow-x: auto; margin: 8px 0; }
  table { border-collapse: collapse; margin: 6px 0; }
  th, td { text-align: left; padding: 5px 14px 5px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 13px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; padding-right: 18px; }
  th.num { text-align: right; padding-right: 18px; }
  td.note { color: var(--muted); }
  .mark { font-weight: 700; width: 64px; }
  .mark.ok { color: var(--ok); } .mark.bad { color: var(--bad); }
  tr.bad td { background: #ffebe9; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px 40px; }
  .wide { overflow-x: auto; }
  /* One plot per row, as wide as the page: at half width their text was 7 px. */
  figure { margin: 14px 0 28px; }
  figure img { display: block; width: 100%; max-width: 1200px; border: 1px solid var(--line); border-radius: 6px; }
  figure > a.zoom { display: block; cursor: zoom-in; }
  figcaption { color: var(--muted); font-size: 14px; margin-top: 4px; }
  figcaption a { color: var(--muted); }
  /* A click on a plot shows it at its full size over the page, without script or fetch. */
  figure .close { display: none; }
  figure:target { position: fixed; inset: 0; margin: 0; z-index: 10; overflow: auto; padding: 40px 16px 16px;
                  background: #fff; }
  figure:target img { width: auto; max-width: none; }
  figure:target > a.zoom { cursor: default; }
  figure:target .close { display: block; position: fixed; top: 8px; right: 20px; font-size: 15px; }
  footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<h1><span class="badge {{if .OK}}ok{{else}}bad{{end}}">{{.Verdict}}</span>{{.Scenario}} <span class="sub">seed {{.Seed}}</span></h1>
<p class="sub">{{.VerdictLine}}</p>
{{with .Description}}<p class="desc">{{.}}</p>{{end}}
{{with .Replay}}<pre>{{.}}</pre>{{end}}

<h2>Expectations</h2>
{{if .Expect}}
<table>
<tr><th></th><th>expectation</th><th class="num">observed</th></tr>
{{range .Expect}}<tr{{if not .OK}} class="bad"{{end}}><td class="mark {{if .OK}}ok{{else}}bad{{end}}">{{if .OK}}✓ ok{{else}}✗ FAIL{{end}}</td><td><code>{{.Expr}}</code></td><td class="num">{{.Observed}}</td></tr>
{{end}}</table>
{{else}}<p class="sub">The scenario states no expectations.</p>{{end}}

<h2>Key numbers</h2>
<div class="grid">
<div>
<table>
{{range .Counts}}<tr><td>{{.Key}}</td><td class="num">{{.Value}}</td><td class="note">{{.Note}}</td></tr>
{{end}}</table>
</div>
<div>
<table>
{{range .Run}}<tr><td>{{.Key}}</td><td><code>{{.Value}}</code></td><td class="note">{{.Note}}</td></tr>
{{end}}</table>
<table>
<tr><th>message</th><th class="num">count</th><th class="num">bytes</th><th class="num">average</th></tr>
{{range .Messages}}<tr><td>{{.Type}}</td><td class="num">{{.Count}}</td><td class="num">{{.Bytes}}</td><td class="num">{{.Avg}}</td></tr>
{{end}}</table>
</div>
</div>

<h2>Latency</h2>
<div class="wide">
<table>
<tr><th>detection</th><th class="num">n</th><th class="num">min</th>{{range .Quantiles}}<th class="num">{{.}}</th>{{end}}<th class="num">max</th><th class="num">mean</th></tr>
{{range .Detection}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td><td class="num">{{.Min}}</td>{{range .Quantiles}}<td class="num">{{.}}</td>{{end}}<td class="num">{{.Max}}</td><td class="num">{{.Mean}}</td></tr>
{{end}}
<tr><th>latency</th><th class="num">n</th><th class="num">min</th>{{range .Quantiles}}<th class="num">{{.}}</th>{{end}}<th class="num">max</th><th class="num">mean</th></tr>
{{range .Latency}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td><td class="num">{{.Min}}</td>{{range .Quantiles}}<td class="num">{{.}}</td>{{end}}<td class="num">{{.Max}}</td><td class="num">{{.Mean}}</td></tr>
{{end}}</table>
</div>

{{if or .Components .Pools}}<h2>Components and pools</h2>
<div class="wide">
<table>
<tr><th>component</th><th>pool</th><th class="num">completed</th><th class="num">failed</th><th class="num">queue timeouts</th><th class="num">heartbeat timeouts</th><th class="num">execution timeouts</th><th class="num">end-to-end p50</th><th class="num">p95</th><th class="num">p99</th></tr>
{{range .Components}}<tr><td><code>{{.Name}}</code></td><td>{{.Pool}}</td><td class="num">{{.Completed}}</td><td class="num">{{.Failed}}</td><td class="num">{{.QueueTimeouts}}</td><td class="num">{{.HeartbeatTimeouts}}</td><td class="num">{{.ExecutionTimeouts}}</td><td class="num">{{.P50}}</td><td class="num">{{.P95}}</td><td class="num">{{.P99}}</td></tr>
{{end}}
<tr><th>pool</th><th></th><th class="num">completed</th><th class="num">failed</th><th class="num">queue timeouts</th><th class="num">heartbeat timeouts</th><th class="num">execution timeouts</th><th class="num">end-to-end p50</th><th class="num">p95</th><th class="num">p99</th></tr>
{{range .Pools}}<tr><td>{{.Name}}</td><td></td><td class="num">{{.Completed}}</td><td class="num">{{.Failed}}</td><td class="num">{{.QueueTimeouts}}</td><td class="num">{{.HeartbeatTimeouts}}</td><td class="num">{{.ExecutionTimeouts}}</td><td class="num">{{.P50}}</td><td class="num">{{.P95}}</td><td class="num">{{.P99}}</td></tr>
{{end}}</table>
</div>{{end}}

{{if .Plots}}<h2 id="plots">Plots</h2>
{{range .Plots}}<figure id="{{.Name}}"><a class="close" href="#plots">close ✕</a><a class="zoom" href="#{{.Name}}" title="show at full size"><img alt="{{.Caption}}" src="{{.Src}}"></a>
<figcaption>{{.Caption}} <a href="{{.Name}}.png">PNG</a> · <a href="{{.Name}}.svg">SVG</a></figcaption></figure>
{{end}}{{end}}
<footer>tasksim · durations are virtual seconds · the same scenario and seed reproduce this page's numbers exactly</footer>
</body>
</html>
`))
