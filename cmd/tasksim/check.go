package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports/gate"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/reports/simulate"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// checkSkipped are built-ins that `tasksim check` leaves out by default: too big for CI.
var checkSkipped = []string{"scale"}

type checkFlags struct {
	baseline string
	sets     []string
	junit    string
	update   bool
	out      string
	parallel int
	verbose  bool
	json     bool
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [SCENARIO...] --baseline FILE",
		Short: "Gate CI: run scenarios and compare them with a committed baseline",
		Long: `Check runs each SCENARIO (default: every built-in but scale) with its own seed and
compares it with the baseline file: the trace hash, and the summary paths the file lists,
each with its tolerance (abs, rel, and which way is worse). It prints what changed,
writes report.md to --out (default out/check) and, with --junit, JUnit XML with one test
case per scenario. Exit code 1 when a scenario regressed, failed an expectation or is
missing from the baseline; a changed trace hash alone fails only with "strict_hash": true.

--update records what ran as the new baseline (keeping the file's paths and tolerances,
or starting from the defaults) and still fails on a failed expectation. The baseline
records the --set overrides it was made with: a check without --set applies them, one
with other overrides is refused (exit 2), since a changed flag would read as a
regression. Each path's "worse" says which way is a regression ("up", "down" or
"either"; empty is the path's natural direction: down for completed and speeds, up for
the rest). Changes within tolerance are listed with --verbose.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(cmd, args, f) },
	}
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "baseline file (required)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a field of every scenario (repeatable)")
	cmd.Flags().StringVar(&f.junit, "junit", "", "also write JUnit XML to this file")
	cmd.Flags().BoolVar(&f.update, "update", false, "rewrite the baseline from this run")
	cmd.Flags().StringVar(&f.out, "out", filepath.Join("out", "check"), "directory for report.md")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "scenarios at a time")
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "also list the changes within tolerance")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the check as JSON instead of text")
	return cmd
}

func runCheck(cmd *cobra.Command, names []string, f checkFlags) error {
	if f.baseline == "" {
		return badInput(errors.New("check: --baseline FILE is required"))
	}
	if f.parallel < 1 {
		return badInput(fmt.Errorf("--parallel %d: must be at least 1", f.parallel))
	}
	if len(names) == 0 {
		for _, n := range scenarios.Names() {
			if !slices.Contains(checkSkipped, n) {
				names = append(names, n)
			}
		}
	}
	base, err := gate.ReadBaseline(f.baseline, f.update)
	if err != nil {
		return badInput(err)
	}
	given := len(f.sets) > 0
	if f.sets, err = base.ApplySets(f.sets, f.update); err != nil {
		return badInput(fmt.Errorf("check %s: %w", f.baseline, err))
	}
	if !given && len(f.sets) > 0 && !f.json {
		fmt.Fprintf(cmd.OutOrStdout(), "applying the baseline's --set %s\n", strings.Join(f.sets, " --set "))
	}
	// Load every scenario first, so that a bad name or --set is bad input, not a failed check.
	cfgs := map[string]*sim.Config{}
	for _, n := range names {
		cfg, err := loadScenario(n, f.sets, "")
		if err != nil {
			return err
		}
		cfgs[n] = cfg
	}
	rep := gate.Run(names, base, f.parallel, f.update, func(name string) (*sim.Summary, error) {
		return simulate.Checked(cfgs[name])
	})
	rep.Sets = f.sets
	if f.json {
		if err := gate.WriteJSON(cmd.OutOrStdout(), rep); err != nil {
			return err
		}
	} else if err := gate.WriteText(cmd.OutOrStdout(), rep, f.verbose); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := gate.WriteMarkdown(&md, rep); err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("create --out directory: %w", err)
	}
	if err := safefile.WriteFile(filepath.Join(f.out, page.MarkdownFile), md.Bytes()); err != nil {
		return fmt.Errorf("write report.md: %w", err)
	}
	if f.junit != "" {
		var x bytes.Buffer
		if err := gate.WriteJUnit(&x, rep); err != nil {
			return err
		}
		if err := safefile.WriteFile(f.junit, x.Bytes()); err != nil {
			return fmt.Errorf("write --junit file: %w", err)
		}
	}
	if f.update {
		if err := gate.WriteBaseline(f.baseline, base); err != nil {
			return err
		}
		if !f.json {
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", f.baseline)
		}
	}
	for _, r := range rep.Results {
		if r.Err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("check: scenario %s did not run: %w", r.Scenario, r.Err)}
		}
	}
	if !rep.Passed() {
		return &exitError{code: exitFailed, err: errors.New("check failed")}
	}
	return nil
}
