// Package reports turns a run's result into what people read: the text verdict on the
// terminal, summary.json, Prometheus metrics, plots, an HTML and a Markdown report, and
// the comparisons that gate CI.
package reports
