// Package reports holds a run as the reports need it (Run: summary.json and the data files
// `tasksim plot` re-draws from), the text verdict for a terminal, and the number formats
// every report shares. Each output of a run is a Reporter in a package of its own
// (metrics, plots, page), listed once in package outputs; the CI gate (gate), the seed
// sweep (sweep), the search for a smaller failing scenario (shrink) and the timed run
// the commands share (simulate) have their own packages, so that each depends only on
// what it needs.
package reports
