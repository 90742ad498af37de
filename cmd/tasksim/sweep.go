package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/reports/shrink"
	"github.com/tasksim/tasksim/reports/simulate"
	"github.com/tasksim/tasksim/reports/sweep"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

type sweepFlags struct {
	seeds    string
	parallel int
	shard    string
	sets     []string
	out      string
	shrink   bool
	force    bool
	json     bool
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO --seeds 1..N [--parallel P] [--shard i/n]",
		Short: "Run a scenario over many seeds; aggregate, and list every failing seed with its replay line",
		Long: `Sweep runs SCENARIO once per seed, P runs at a time (each run is single-threaded and
deterministic, so the result does not depend on P), and writes sweep.json to --out
(default out/sweep-NAME): each seed's outcome and summary numbers, and each number's
distribution across seeds. It prints the failing seeds, each with the 'tasksim run' line
that replays it. Exit code 1 when any seed's expectations failed.

--seeds takes 1..100, 7, 1,5,9 or a mix. --shard i/n runs only the i-th of n shares of
the seeds (1 <= i <= n; a Kubernetes indexed Job passes $((JOB_COMPLETION_INDEX+1))/n);
'tasksim sweep merge' joins the shards' sweep.json files into the unsharded result.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, args[0], f) },
	}
	cmd.Flags().StringVar(&f.seeds, "seeds", "", "seeds to run: 1..100, 7, 1,5,9 (required)")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "runs at a time")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run only shard i of n of the seeds, e.g. 2/4")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario field for every seed (repeatable)")
	cmd.Flags().StringVar(&f.out, "out", "", "output directory (default out/sweep-NAME, or out/sweep-NAME-I-of-N for a shard)")
	cmd.Flags().BoolVar(&f.shrink, "shrink", false, "shrink the first failing seed ('tasksim shrink'); its files go to OUT/shrink-SEED")
	cmd.Flags().BoolVar(&f.force, "force", false, forceHelp)
	cmd.Flags().BoolVar(&f.json, "json", false, "print sweep.json to stdout instead of the text summary")

	var mergeOut string
	var mergeJSON bool
	merge := &cobra.Command{
		Use:   "merge SWEEP_JSON_OR_DIR...",
		Short: "Join the shards of a sweep into one sweep.json",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var shards []*sweep.Sweep
			for _, a := range args {
				sw, err := sweep.Read(a)
				if err != nil {
					return badInput(err)
				}
				shards = append(shards, sw)
			}
			sw, err := sweep.Merge(shards, args)
			if err != nil {
				return badInput(err)
			}
			dir := mergeOut
			if dir == "" {
				dir = filepath.Join("out", "sweep-"+sw.Scenario)
			}
			return finishSweep(cmd, sw, dir, mergeJSON)
		},
	}
	merge.Flags().StringVar(&mergeOut, "out", "", "output directory (default out/sweep-NAME)")
	merge.Flags().BoolVar(&mergeJSON, "json", false, "print sweep.json to stdout instead of the text summary")
	cmd.AddCommand(merge)
	return cmd
}

func runSweep(cmd *cobra.Command, name string, f sweepFlags) error {
	if f.seeds == "" {
		return badInput(errors.New("sweep: --seeds is required, e.g. --seeds 1..100"))
	}
	if _, err := sweep.ParseSeeds(f.seeds); err != nil {
		return badInput(fmt.Errorf("--seeds: %w", err))
	}
	if f.parallel < 1 {
		return badInput(fmt.Errorf("--parallel %d: must be at least 1", f.parallel))
	}
	opts := sweep.Options{Source: name, Sets: f.sets, SeedSpec: f.seeds, Parallel: f.parallel}
	if f.shard != "" {
		i, n, err := sweep.ParseShard(f.shard)
		if err != nil {
			return badInput(fmt.Errorf("--shard: %w", err))
		}
		opts.Shard, opts.Shards = i, n
	}
	cfg, err := loadScenario(name, f.sets, "")
	if err != nil {
		return err
	}
	if err := admit(cfg, f.parallel, f.force, cmd.ErrOrStderr()); err != nil {
		return err
	}
	defer paceSweepGC(cfg, f.parallel)()
	opts.Scenario = cfg.Name
	if _, data, err := scenarios.Resolve(name); err == nil {
		opts.ScenarioSHA256 = fmt.Sprintf("%x", sha256.Sum256(data))
	}
	if isTerminal(cmd.ErrOrStderr()) {
		m := newMeter(cmd.ErrOrStderr(), "seeds", 2*time.Second)
		opts.Progress = func(done, total int) { m.update(int64(done), int64(total), "") }
		defer m.clear()
	}
	sw, err := sweep.Run(opts, func(seed uint64) (*sim.Summary, error) {
		c := *cfg // the simulator only reads its config, so runs may share the slices
		c.Seed = seed
		return simulate.Checked(&c)
	})
	if err != nil {
		return &exitError{code: exitInternal, err: fmt.Errorf("sweep %s: %w", cfg.Name, err)}
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("out", "sweep-"+cfg.Name)
		if opts.Shards > 0 {
			dir += fmt.Sprintf("-%d-of-%d", opts.Shard, opts.Shards)
		}
	}
	err = finishSweep(cmd, sw, dir, f.json)
	if failed := sw.Failed(); f.shrink && len(failed) > 0 {
		if serr := shrinkSeed(cmd, name, f.sets, failed[0].Seed, filepath.Join(dir, fmt.Sprintf("shrink-%d", failed[0].Seed))); serr != nil {
			return serr
		}
	}
	return err
}

// shrinkSeed shrinks one failing seed of a sweep, as 'tasksim shrink' would.
func shrinkSeed(cmd *cobra.Command, name string, sets []string, seed uint64, dir string) error {
	file, data, err := scenarios.Resolve(name)
	if err != nil {
		return badInput(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\nshrinking seed %d, the first that failed\n", seed)
	err = shrinkAndReport(cmd, shrink.Options{File: file, Source: name, Data: data, Sets: sets, Seed: seed, SeedSet: true}, dir)
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitFailed {
		// The sweep saw this seed fail; a shrink that does not is the program's fault.
		return &exitError{code: exitInternal, err: err}
	}
	return err
}

// finishSweep writes sweep.json, prints the sweep (or, asJSON, sweep.json itself), and
// fails when a seed failed.
func finishSweep(cmd *cobra.Command, sw *sweep.Sweep, dir string, asJSON bool) error {
	b, err := sweep.Marshal(sw)
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create --out directory: %w", err)
	}
	path := filepath.Join(dir, sweep.File)
	if err := safefile.WriteFile(path, b); err != nil {
		return fmt.Errorf("write sweep: %w", err)
	}
	htmlPath, err := page.WriteSweepFile(dir, sw)
	if err != nil {
		return outputFailed(err)
	}
	if asJSON {
		if _, err := cmd.OutOrStdout().Write(b); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "tasksim: wrote %s and %s\n", path, htmlPath) // stdout holds only the JSON
	} else {
		if err := sweep.WriteText(cmd.OutOrStdout(), sw); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\nwrote %s\n", path, htmlPath)
	}
	if n := len(sw.Failed()); n > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("sweep %s: %d of %d seeds failed", sw.Scenario, n, len(sw.Seeds))}
	}
	return nil
}
