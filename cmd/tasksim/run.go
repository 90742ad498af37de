package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/metrics"
	"github.com/tasksim/tasksim/reports/outputs"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/reports/simulate"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// defaultScenario is what `tasksim run` runs with no SCENARIO.
const defaultScenario = "default"

type runFlags struct {
	seed  string
	sets  []string
	out   string
	trace bool
	json  bool
	push  string
	// cpuProfile names a file for a Go CPU profile of the run.
	cpuProfile string
	// memProfile names a file for a Go memory profile of the run.
	memProfile string
	force      bool
	// live runs both sides on loopback sockets in real time instead of simulating.
	live bool
	// nats is the JetStream queue of a live run (queue.kind jetstream).
	nats natsFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Run a scenario (a file or a built-in name; default: the built-in default)",
		Long: `Run simulates a scenario under virtual time and checks its expectations.

SCENARIO is a scenario file or the name of a built-in scenario ('tasksim scenarios list').
It prints the verdict and the key numbers and writes to --out (default out/NAME-SEED, or
out/NAME-SEED-set-HASH with --set overrides, HASH naming them, so that the plain run's
results stay):
summary.json, metrics.prom (Prometheus text format), the plots as PNG and SVG,
report.html (one self-contained page), report.md (for a CI job summary), and the data
'tasksim plot' re-draws from (timeline.json, latency.json, run.json); with --trace also
trace.jsonl. --push URL sends the metrics to a Prometheus Pushgateway (job tasksim,
grouped by scenario and seed); a failed push is reported on stderr and does not change
the exit code. Exit code 0: every expectation held; 1: one failed;
2: bad input; 3: internal error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := defaultScenario
			if len(args) == 1 {
				name = args[0]
			}
			if f.live {
				return runLive(cmd, name, f)
			}
			return runScenario(cmd, name, f)
		},
	}
	cmd.Flags().BoolVar(&f.live, "live", false, "run the orchestrator and the workers on loopback gRPC sockets in real time")
	addNATSFlags(cmd, &f.nats, false)
	cmd.Flags().StringVar(&f.seed, "seed", "", "seed (default: the scenario's seed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario field, e.g. --set orchestrator.detector=deadline (repeatable)")
	cmd.Flags().StringVar(&f.out, "out", "", "output directory (default out/NAME-SEED, out/NAME-SEED-set-HASH with --set)")
	cmd.Flags().BoolVar(&f.trace, "trace", false, "also write trace.jsonl, one line per event")
	cmd.Flags().BoolVar(&f.json, "json", false, "print summary.json to stdout instead of the text summary")
	cmd.Flags().StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the simulation to this file")
	cmd.Flags().StringVar(&f.memProfile, "memprofile", "", "write a Go memory profile (allocations, and what is live at the end) of the simulation to this file")
	cmd.Flags().BoolVar(&f.force, "force", false, forceHelp)
	cmd.Flags().StringVar(&f.push, "push", "", "also push the metrics to this Pushgateway URL (e.g. http://localhost:9091)")
	return cmd
}

// loadScenario resolves and loads a scenario with overrides; errors are bad input.
func loadScenario(name string, sets []string, seed string) (*sim.Config, error) {
	file, data, err := scenarios.Resolve(name)
	if err != nil {
		return nil, badInput(err)
	}
	cfg, err := scenarios.Load(file, data, sets)
	if err != nil {
		return nil, badInput(fmt.Errorf("scenario %s is not valid:\n%w", file, err))
	}
	if seed != "" {
		n, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return nil, badInput(fmt.Errorf("--seed %q: must be a whole number >= 0", seed))
		}
		cfg.Seed = n
	}
	return cfg, nil
}

func runScenario(cmd *cobra.Command, name string, f runFlags) error {
	cfg, err := loadScenario(name, f.sets, f.seed)
	if err != nil {
		return err
	}
	if err := admit(cfg, 1, f.force, cmd.ErrOrStderr()); err != nil {
		return err
	}
	if f.push != "" {
		if u, err := url.Parse(f.push); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badInput(fmt.Errorf("--push %q: want the Pushgateway's http(s) URL, e.g. http://localhost:9091", reports.RedactURL(f.push)))
		}
	}
	dir := f.out
	if dir == "" {
		dir = defaultRunDir(cfg.Name, cfg.Seed, f.sets)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create --out directory: %w", err)
	}
	var traceFile *os.File
	opts := sim.Options{}
	if f.trace {
		traceFile, err = safefile.Create(filepath.Join(dir, "trace.jsonl"))
		if err != nil {
			return fmt.Errorf("create trace: %w", err)
		}
		defer traceFile.Close()
		opts.Trace = traceFile
	}
	if f.cpuProfile != "" {
		pf, err := safefile.Create(f.cpuProfile)
		if err != nil {
			return badInput(fmt.Errorf("--cpuprofile: %w", err))
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var memFile *os.File
	if f.memProfile != "" {
		// Created before the run, so a bad path is reported before minutes of work.
		if memFile, err = safefile.Create(f.memProfile); err != nil {
			return badInput(fmt.Errorf("--memprofile: %w", err))
		}
		defer memFile.Close()
	}
	res, err := simulateWithProgress(cfg, opts, cmd.ErrOrStderr(), isTerminal(cmd.OutOrStdout()))
	if err != nil {
		return err
	}
	if memFile != nil {
		// The allocs profile holds both views: -sample_index=alloc_space for what the run
		// allocated, inuse_space for what was still live (after a GC) when it ended.
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(memFile, 0); err != nil {
			return fmt.Errorf("write memory profile: %w", err)
		}
	}
	ok, err := res.Summary.Check(cfg.Expect)
	if err != nil {
		return err
	}
	run := reports.NewRun(cfg, res, name, f.sets)
	if err := outputs.Write(dir, run); err != nil {
		return outputFailed(err)
	}
	if f.json {
		b, err := reports.MarshalSummary(&res.Summary)
		if err != nil {
			return err
		}
		if _, err := cmd.OutOrStdout().Write(b); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "tasksim: wrote %s\n", dir) // stdout holds only the JSON
	} else {
		if err := reports.WriteText(cmd.OutOrStdout(), run); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote      %s\n", filepath.Join(dir, page.HTMLFile))
	}
	// The verdict is printed and decides the exit code whether or not the push works: a
	// Pushgateway that is down is reported, not taken for a failed run.
	if f.push != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := metrics.Push(ctx, f.push, run, nil); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "tasksim: %v (the run's verdict stands)\n", err)
		}
	}
	if !ok {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s seed %d: expectations failed", cfg.Name, cfg.Seed)}
	}
	return nil
}

// defaultRunDir is out/NAME-SEED, and for a run with --set overrides
// out/NAME-SEED-set-HASH (a short hash of the overrides), so that comparing a setting
// against the plain run does not overwrite the plain run's results.
func defaultRunDir(name string, seed uint64, sets []string) string {
	dir := fmt.Sprintf("%s-%d", name, seed)
	if len(sets) > 0 {
		h := sha256.Sum256([]byte(strings.Join(sets, "\x00")))
		dir += "-set-" + hex.EncodeToString(h[:4])
	}
	return filepath.Join("out", dir)
}

// simulateWithProgress runs one scenario, showing progress on a terminal once it has
// taken two seconds: the share of all steps settled, wall time and ETA, virtual time.
func simulateWithProgress(cfg *sim.Config, opts sim.Options, progress io.Writer, tty bool) (*sim.Result, error) {
	if tty {
		var steps int64
		for _, l := range cfg.Load {
			steps += int64(l.Tasks)
		}
		m := newMeter(progress, "steps settled", 2*time.Second)
		opts.ProgressEvery = 1 << 18
		opts.Progress = func(virtual time.Duration, settled, submitted int64) {
			m.update(settled, steps, "virtual "+virtual.Truncate(time.Second).String())
		}
		defer m.clear()
	}
	res, err := simulate.Run(cfg, opts)
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	return res, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
