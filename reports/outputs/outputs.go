// Package outputs lists what `tasksim run` writes into a run's out directory. A new
// output is a reports.Reporter in its own package and one line in Run.
package outputs

import (
	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/metrics"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/plots"
)

// Run is every output of a run, in the order they are written: report.html embeds the
// plots' PNG files, so it comes after them.
func Run() []reports.Reporter {
	return []reports.Reporter{
		reports.WriteRun,         // summary.json, timeline.json, latency.json, run.json
		metrics.WriteMetricsFile, // metrics.prom
		plots.WriteRunPlots,      // NAME.png and NAME.svg for each of plots.PlotNames
		page.WriteHTMLFile,       // report.html
		page.WriteMarkdownFile,   // report.md
	}
}

// Write writes every output of run into dir.
func Write(dir string, run *reports.Run) error {
	return reports.WriteAll(dir, run, Run())
}
