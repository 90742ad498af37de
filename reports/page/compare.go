package page

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/safefile"
)

// CompareFile is the page `tasksim plot A B ...` writes beside the overlaid plots.
const CompareFile = "compare.html"

// CompareRow is one key number of every run, side by side.
type CompareRow struct {
	Name   string
	Values []string
	// Differs is true when some run's value is not the first run's.
	Differs bool
}

// CompareRows are the key numbers of runs side by side, in the order a reader checks
// them: outcome, detections, latency quantiles, then what identifies the run.
func CompareRows(runs []*reports.Run) []CompareRow {
	var rows []CompareRow
	add := func(name string, f func(r *reports.Run) string) {
		row := CompareRow{Name: name}
		for _, r := range runs {
			row.Values = append(row.Values, f(r))
		}
		for _, v := range row.Values[1:] {
			row.Differs = row.Differs || v != row.Values[0]
		}
		rows = append(rows, row)
	}
	count := func(name string, f func(r *reports.Run) int64) {
		add(name, func(r *reports.Run) string { return fmt.Sprint(f(r)) })
	}
	quantile := func(name string, q float64, d func(r *reports.Run) *reports.Distribution) {
		add(name, func(r *reports.Run) string {
			if x := d(r); x.Count > 0 {
				return reports.Seconds(x.Quantile(q))
			}
			return "–"
		})
	}
	add("verdict", func(r *reports.Run) string { w, _, _ := verdict(&r.Summary); return w })
	count("steps", func(r *reports.Run) int64 { return r.Summary.Steps })
	count("completed", func(r *reports.Run) int64 { return r.Summary.Completed })
	count("failed", func(r *reports.Run) int64 { return r.Summary.Failed })
	count("lost", func(r *reports.Run) int64 { return r.Summary.Lost })
	count("attempts", func(r *reports.Run) int64 { return r.Summary.Attempts })
	add("timeouts queue/heartbeat/execution", func(r *reports.Run) string {
		t := r.Summary.Timeouts
		return fmt.Sprintf("%d/%d/%d", t.Queue, t.Heartbeat, t.Execution)
	})
	add("detections by cause", func(r *reports.Run) string {
		if s := reports.DetectionCauseCounts(r); s != "" {
			return s
		}
		return "none"
	})
	count("false detections", func(r *reports.Run) int64 { return r.Summary.FalseDetections })
	count("pause detections", func(r *reports.Run) int64 { return r.Summary.PauseDetections })
	count("partition detections", func(r *reports.Run) int64 { return r.Summary.PartitionDetections })
	count("missed detections", func(r *reports.Run) int64 { return r.Summary.MissedDetections })
	count("duplicate results", func(r *reports.Run) int64 { return r.Summary.DuplicateResults })
	count("double executions", func(r *reports.Run) int64 { return r.Summary.DoubleExecutions })
	lastHeartbeat := func(r *reports.Run) *reports.Distribution { return &r.Latency.Detection.SinceLastHeartbeat }
	sinceCrash := func(r *reports.Run) *reports.Distribution { return &r.Latency.Detection.SinceCrash }
	endToEnd := func(r *reports.Run) *reports.Distribution { return &r.Latency.Latency.EndToEnd }
	queueWait := func(r *reports.Run) *reports.Distribution { return &r.Latency.Latency.QueueWait }
	quantile("detection since last heartbeat p50", 0.5, lastHeartbeat)
	quantile("detection since last heartbeat p99", 0.99, lastHeartbeat)
	quantile("detection since last heartbeat max", 1, lastHeartbeat)
	quantile("detection since crash p50", 0.5, sinceCrash)
	quantile("detection since crash p99", 0.99, sinceCrash)
	for _, q := range reports.ReportQuantiles {
		quantile("end to end "+q.Name, q.Q, endToEnd)
	}
	quantile("end to end max", 1, endToEnd)
	quantile("queue wait p99", 0.99, queueWait)
	add("virtual time", func(r *reports.Run) string { return reports.Seconds(r.Summary.VirtualDuration) })
	add("detector", func(r *reports.Run) string { return r.Info.Detector })
	add("trace hash", func(r *reports.Run) string { return r.Summary.TraceHash })
	return rows
}

// WriteCompareHTML writes the comparison page: every run's key numbers side by side
// (a value that differs from the first run's in bold), then the overlaid plots.
func WriteCompareHTML(w io.Writer, runs []*reports.Run, rendered map[string]plots.RenderedPlot) error {
	data := struct {
		Title  string
		Labels []string
		Replay []string
		Rows   []CompareRow
		Plots  []htmlPlot
	}{Labels: plots.RunLabels(runs), Rows: CompareRows(runs)}
	for _, r := range runs {
		data.Replay = append(data.Replay, r.Info.Replay())
	}
	data.Title = strings.Join(data.Labels, " vs ")
	data.Plots = embedPlots(rendered)
	return execute(w, compareTemplate, CompareFile, data)
}

// WriteCompareFile writes compare.html into dir, beside the plots, and returns its path.
func WriteCompareFile(dir string, runs []*reports.Run, rendered map[string]plots.RenderedPlot) (string, error) {
	var b bytes.Buffer
	if err := WriteCompareHTML(&b, runs, rendered); err != nil {
		return "", err
	}
	path := filepath.Join(dir, CompareFile)
	if err := safefile.WriteFile(path, b.Bytes()); err != nil {
		return "", fmt.Errorf("write %s: %w", CompareFile, err)
	}
	return path, nil
}

// pageStyle is the comparison and sweep pages' style: report.html's, in short.
const pageStyle = `
  :root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; }
  * { box-sizing: border-box; }
  body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
         max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
  .sub { color: var(--muted); margin: 2px 0 10px; }
  code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  pre { background: var(--bg2); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; overflow-x: auto; }
  table { border-collapse: collapse; margin: 6px 0; }
  th, td { text-align: left; padding: 5px 14px 5px 0; border-bottom: 1px solid var(--line); vertical-align: middle; }
  th { font-weight: 600; color: var(--muted); font-size: 13px; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; padding-right: 18px; }
  td.differs { font-weight: 700; }
  .ok { color: var(--ok); } .bad { color: var(--bad); }
  .wide { overflow-x: auto; }
  figure { margin: 14px 0 28px; }
  figure img { display: block; width: 100%; max-width: 1200px; border: 1px solid var(--line); border-radius: 6px; }
  figure > a.zoom { display: block; cursor: zoom-in; }
  figcaption { color: var(--muted); font-size: 14px; margin-top: 4px; }
  figcaption a { color: var(--muted); }
  figure .close { display: none; }
  figure:target { position: fixed; inset: 0; margin: 0; z-index: 10; overflow: auto; padding: 40px 16px 16px; background: #fff; }
  figure:target img { width: auto; max-width: none; }
  figure:target .close { display: block; position: fixed; top: 8px; right: 20px; font-size: 15px; }
  svg.dist { display: block; }
  footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
`

var compareTemplate = template.Must(template.New("compare").Funcs(template.FuncMap{"style": func() template.CSS { return pageStyle }}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · tasksim</title>
<style>{{style}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">The key numbers of each run side by side; bold where a run differs from the first.</p>
<pre>{{range .Replay}}{{.}}
{{end}}</pre>
<h2>Key numbers</h2>
<div class="wide">
<table>
<tr><th></th>{{range .Labels}}<th class="num">{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Name}}</td>{{$d := .Differs}}{{range $i, $v := .Values}}<td class="num{{if and $d $i}} differs{{end}}">{{$v}}</td>{{end}}</tr>
{{end}}</table>
</div>
{{if .Plots}}<h2 id="plots">Plots</h2>
{{range .Plots}}<figure id="{{.Name}}"><a class="close" href="#plots">close ✕</a><a class="zoom" href="#{{.Name}}" title="show at full size"><img alt="{{.Caption}}" src="{{.Src}}"></a>
<figcaption>{{.Caption}} <a href="{{.Name}}.png">PNG</a> · <a href="{{.Name}}.svg">SVG</a></figcaption></figure>
{{end}}{{end}}
<footer>tasksim · durations are virtual seconds</footer>
</body>
</html>
`))
