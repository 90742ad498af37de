package shrink

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/tasksim/tasksim/reports/safefile"
)

// The files a search writes to its out directory.
const (
	ShrunkFile = "shrunk.yaml"
	ResultFile = "shrink.json"
)

// MarshalResult renders shrink.json. It holds no wall-clock figure, so that two searches
// of the same input write the same bytes.
func MarshalResult(r *Result) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", ResultFile, err)
	}
	return append(b, '\n'), nil
}

// WriteFiles writes shrunk.yaml and shrink.json to dir, each a fresh file (a symlink
// planted there is replaced, not followed).
func WriteFiles(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create out directory: %w", err)
	}
	b, err := MarshalResult(r)
	if err != nil {
		return err
	}
	if err := safefile.WriteFile(filepath.Join(dir, ShrunkFile), r.File); err != nil {
		return fmt.Errorf("write %s: %w", ShrunkFile, err)
	}
	if err := safefile.WriteFile(filepath.Join(dir, ResultFile), b); err != nil {
		return fmt.Errorf("write %s: %w", ResultFile, err)
	}
	return nil
}

// WriteText prints the verdict, the table of before and after, and the replay line.
func WriteText(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "SHRUNK  %s seed %d: still fails %s after %d of %d runs\n", r.Scenario, r.Seed, r.Expectation, r.RunsUsed, r.Budget)
	if r.SeedNote != "" {
		fmt.Fprintf(w, "note    %s\n", r.SeedNote)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name, before, after string) { fmt.Fprintf(tw, "%s\t%s\t%s\t\n", name, before, after) }
	b, a := r.Before, r.After
	itoa := func(n int) string { return fmt.Sprint(n) }
	row("", "before", "after")
	row("steps", itoa(b.Steps), itoa(a.Steps))
	row("workers", itoa(b.Workers), itoa(a.Workers))
	row("pools", itoa(b.Pools), itoa(a.Pools))
	row("streams", itoa(b.Streams), itoa(a.Streams))
	row("faults", itoa(b.Faults), itoa(a.Faults))
	row("fault time (s)", formatFloat(b.FaultSeconds), formatFloat(a.FaultSeconds))
	row("duration cap (s)", formatFloat(b.Duration), formatFloat(a.Duration))
	row("virtual time (s)", formatFloat(b.VirtualDuration), formatFloat(a.VirtualDuration))
	row("events", fmt.Sprint(b.Events), fmt.Sprint(a.Events))
	row(r.Expectation, formatFloat(b.Observed), formatFloat(a.Observed))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "seed    %d", r.ShrunkSeed)
	if r.ShrunkSeed != r.Seed {
		fmt.Fprintf(w, " (was %d)", r.Seed)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "kept    %d changes (see %s for every run)\n", len(r.Accepted), ResultFile)
	_, err := fmt.Fprintf(w, "replay  %s\n", r.Replay)
	return err
}
