package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports/shrink"
	"github.com/tasksim/tasksim/scenarios"
)

type shrinkFlags struct {
	seed   string
	expect string
	budget int
	out    string
}

func newShrinkCmd() *cobra.Command {
	var f shrinkFlags
	cmd := &cobra.Command{
		Use:   "shrink SCENARIO [--seed N] [--expect EXPR] [--budget N] [--out DIR]",
		Short: "Reduce a failing run to the smallest scenario that still fails the same expectation",
		Long: `Shrink starts from a run that fails (the first failing expectation of the file, or
--expect PATH OP VALUE) and searches for a smaller scenario that fails it too: fewer and
shorter faults, fewer workers, pools, steps and streams, lower rates, shorter durations,
constant instead of random distributions, a shorter duration. Other seeds are tried only
as a last resort, and the output says so. Every candidate is a full deterministic run;
--budget caps the runs (the original's included); they run in parallel on every core,
and the result is the same whatever the number of cores.

It writes to --out (default out/shrink-NAME-SEED): shrunk.yaml, a scenario file commented
with what was removed and what each changed value was, and shrink.json, every run of the
search. Exit code 0: the shrunk file fails as the original did; 1: the original does not
fail; 2: bad input; 3: internal error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runShrink(cmd, args[0], f) },
	}
	cmd.Flags().StringVar(&f.seed, "seed", "", "seed of the failing run (default: the scenario's seed)")
	cmd.Flags().StringVar(&f.expect, "expect", "", "expectation to keep failing, PATH OP VALUE (default: the first of the file's that fails)")
	cmd.Flags().IntVar(&f.budget, "budget", shrink.DefaultBudget, "most runs the search may make")
	cmd.Flags().StringVar(&f.out, "out", "", "output directory (default out/shrink-NAME-SEED)")
	return cmd
}

func runShrink(cmd *cobra.Command, name string, f shrinkFlags) error {
	if f.budget < 1 {
		return badInput(fmt.Errorf("--budget %d: must be at least 1 (the original's run)", f.budget))
	}
	opts := shrink.Options{Source: name, Expect: f.expect, Budget: f.budget}
	if f.seed != "" {
		n, err := strconv.ParseUint(f.seed, 10, 64)
		if err != nil {
			return badInput(fmt.Errorf("--seed %q: must be a whole number >= 0", f.seed))
		}
		opts.Seed, opts.SeedSet = n, true
	}
	file, data, err := scenarios.Resolve(name)
	if err != nil {
		return badInput(err)
	}
	opts.File, opts.Data = file, data
	return shrinkAndReport(cmd, opts, f.out)
}

// shrinkAndReport runs the search, writes its files to dir (default out/shrink-NAME-SEED)
// and prints the table; the error carries the exit code. On a terminal it shows how far
// the search has got.
func shrinkAndReport(cmd *cobra.Command, opts shrink.Options, dir string) error {
	w := cmd.OutOrStdout()
	if dir == "" {
		cfg, err := scenarios.Load(opts.File, opts.Data, opts.Sets)
		if err != nil {
			return badInput(fmt.Errorf("scenario %s is not valid:\n%w", opts.File, err))
		}
		seed := cfg.Seed
		if opts.SeedSet {
			seed = opts.Seed
		}
		dir = filepath.Join("out", fmt.Sprintf("shrink-%s-%d", cfg.Name, seed))
	}
	opts.Path = filepath.Join(dir, shrink.ShrunkFile)
	if stderr := cmd.ErrOrStderr(); isTerminal(stderr) {
		opts.Progress = func(runs, budget int, best shrink.Size) {
			fmt.Fprintf(stderr, "\r  run %d/%d  smallest failing so far: %d steps, %d workers, %d faults ", runs, budget, best.Steps, best.Workers, best.Faults)
		}
	}
	res, err := shrink.Shrink(opts)
	if opts.Progress != nil {
		fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
	}
	var inputErr *shrink.InputError
	var passes *shrink.NotFailingError
	switch {
	case errors.As(err, &inputErr):
		return badInput(err)
	case errors.As(err, &passes):
		return failed(err)
	case err != nil:
		return &exitError{code: exitInternal, err: err}
	}
	if err := shrink.WriteFiles(dir, res); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if err := shrink.WriteText(w, res); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote   %s, %s\n", opts.Path, filepath.Join(dir, shrink.ResultFile))
	return nil
}
