package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports/codecbench"
	"github.com/tasksim/tasksim/reports/plots"
	"github.com/tasksim/tasksim/reports/safefile"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks (see 'tasksim bench codec')",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return badInput(errors.New("bench needs a subcommand: codec (see 'tasksim bench --help')"))
		},
	}
	var payload, out, baseline, against, match string
	var serve bool
	var perCase time.Duration
	var count int
	var threshold float64
	var asJSON bool
	codec := &cobra.Command{
		Use:   "codec [--payload 512B,16KiB] [--time 1s] [--out DIR] [--baseline FILE | --against BINARY]",
		Short: "Measure encoding and decoding of the task messages, variant by variant",
		Long: `bench codec measures encode and decode of TaskAssignment, TaskHeartbeatRequest,
TaskHeartbeatResponse and CompleteTaskRequest with every codec variant (proto,
proto-append, vtproto, vtproto-unsafe, protojson, the simulator's own 'wire'
path, and a memmove of the same bytes as the floor). It prints a table, writes
codec.json and a bar plot to --out, and with --baseline compares each row with a saved
codec.json: each row is timed in short chunks alternating with its reference codec
(protobuf-go; vtprotobuf for protobuf-go itself), and judged by its time relative to
the reference with a Mann-Whitney U test over the samples, so that a busier machine
slowing both does not count; it exits 1 only on a significant slowdown larger than
--threshold. Each case takes --time (the 72 cases at the default payloads about 1.1
times 72 x --time in all), in --count samples.

--against BINARY is the gate that a busy machine cannot fool: it times every case on
BINARY (another tasksim, e.g. built from main) and on this tasksim alternately, in
pairs of short chunks, and judges each row by the median of the per-pair ratios with
a 99% interval; it exits 1 when a row's whole interval is beyond --threshold.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payloads, err := codecbench.ParseSizes(payload)
			if err != nil {
				return badInput(fmt.Errorf("--payload: %w", err))
			}
			if perCase <= 0 {
				return badInput(fmt.Errorf("--time %v: must be more than 0", perCase))
			}
			if count < 2 {
				return badInput(fmt.Errorf("--count %d: must be at least 2 (the gate compares samples)", count))
			}
			if threshold < 0 {
				return badInput(fmt.Errorf("--threshold %v: must be 0 or more", threshold))
			}
			if serve {
				// The other end of --against: answer timing requests on stdin.
				return codecbench.Serve(cmd.InOrStdin(), cmd.OutOrStdout(), codecbench.Options{Payloads: payloads, Match: match})
			}
			if against != "" {
				if baseline != "" {
					return badInput(errors.New("--against and --baseline: give one (--against times both builds now, --baseline compares with a saved codec.json)"))
				}
				return benchAgainst(cmd, against, payload, match, perCase, threshold, asJSON)
			}
			var base *codecbench.Report
			if baseline != "" {
				if base, err = codecbench.ReadReport(baseline); err != nil {
					return badInput(fmt.Errorf("--baseline: %w", err))
				}
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("create --out directory: %w", err)
			}
			opts := codecbench.Options{Payloads: payloads, Time: perCase, Count: count, Match: match}
			n, err := codecbench.CaseCount(opts)
			if err != nil {
				return badInput(fmt.Errorf("--payload or --match: %w", err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "measuring %d cases for %v each: about %s\n", n, perCase, shortDuration(codecbench.Estimate(n, perCase)))
			progress, done := benchProgress(cmd.ErrOrStderr(), "samples")
			defer done()
			opts.Progress = progress
			rep, err := codecbench.Run(opts)
			if err != nil {
				return fmt.Errorf("bench codec: %w", err)
			}
			if !asJSON {
				if err := rep.Table(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			b, err := rep.JSON()
			if err != nil {
				return err
			}
			if err := safefile.WriteFile(filepath.Join(out, "codec.json"), b); err != nil {
				return err
			}
			if err := plots.CodecBars(rep, filepath.Join(out, "codec.png"), filepath.Join(out, "codec.svg")); err != nil {
				return err
			}
			var cmp *codecbench.Comparison
			if base != nil {
				c, err := codecbench.Compare(base, rep, threshold)
				if err != nil {
					return badInput(fmt.Errorf("--baseline %s: %w", baseline, err))
				}
				cmp = &c
			}
			if asJSON {
				b, err := json.MarshalIndent(struct {
					Report     *codecbench.Report     `json:"report"`
					Comparison *codecbench.Comparison `json:"comparison,omitempty"`
					Pass       bool                   `json:"pass"`
				}{rep, cmp, cmp == nil || !cmp.Failed()}, "", "  ")
				if err != nil {
					return fmt.Errorf("render bench JSON: %w", err)
				}
				if _, err := cmd.OutOrStdout().Write(append(b, '\n')); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, "codec.json"))
			}
			if cmp == nil {
				return nil
			}
			if !asJSON {
				if err := cmp.Table(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			if cmp.Failed() {
				return failed(fmt.Errorf("codec slower than %s beyond %.0f%% in %d rows", baseline, 100*threshold, len(cmp.Regressions())))
			}
			return nil
		},
	}
	codec.Flags().StringVar(&payload, "payload", "512B,16KiB", "sizes of the Value payload, comma-separated")
	codec.Flags().DurationVar(&perCase, "time", codecbench.DefaultTime, "measuring time of each case, all its samples together")
	codec.Flags().IntVar(&count, "count", codecbench.DefaultCount, "samples per case, each --time/--count long (the gate's test needs several)")
	codec.Flags().BoolVar(&asJSON, "json", false, "print the report (and the comparison) as JSON instead of tables")
	codec.Flags().StringVar(&out, "out", filepath.Join("out", "bench-codec"), "output directory for codec.json and the plot")
	codec.Flags().StringVar(&baseline, "baseline", "", "a codec.json to compare with; exit 1 on a significant slowdown")
	codec.Flags().Float64Var(&threshold, "threshold", codecbench.DefaultThreshold, "slowdown that counts, as a fraction (0.10 = 10%)")
	codec.Flags().StringVar(&against, "against", "", "another tasksim binary (a path or a name in PATH) to time alternately with this one; exit 1 on a slowdown beyond --threshold")
	codec.Flags().StringVar(&match, "match", "", "only the cases whose name (e.g. TaskAssignment/512B/encode/wire) matches this regular expression")
	codec.Flags().BoolVar(&serve, "serve", false, "serve timings on stdin/stdout for --against (internal)")
	_ = codec.Flags().MarkHidden("serve")
	cmd.AddCommand(codec)
	return cmd
}

// benchAgainst is bench codec --against: both builds serve their cases from a process of
// their own (this one re-executed too, so that neither side runs in the process that
// coordinates), timed alternately by codecbench.ABCompare.
func benchAgainst(cmd *cobra.Command, against, payload, match string, perCase time.Duration, threshold float64, asJSON bool) error {
	against, err := exec.LookPath(against) // a path, or a name in PATH
	if err != nil {
		return badInput(fmt.Errorf("--against: %w", err))
	}
	// This tasksim as it was started (what os.Executable names may be a binary that
	// acts as tasksim only under that name, as in the tests).
	self, err := exec.LookPath(os.Args[0])
	if err != nil {
		if self, err = os.Executable(); err != nil {
			return fmt.Errorf("bench codec: find this tasksim: %w", err)
		}
	}
	args := []string{"bench", "codec", "--serve", "--payload", payload}
	if match != "" {
		args = append(args, "--match", match)
	}
	base, err := codecbench.StartRemote(against, args...)
	if err != nil {
		return badInput(fmt.Errorf("--against: %w", err))
	}
	defer base.Close()
	cand, err := codecbench.StartRemote(self, args...)
	if err != nil {
		return fmt.Errorf("bench codec: %w", err)
	}
	defer cand.Close()
	fmt.Fprintf(cmd.ErrOrStderr(), "timing %d cases on %s and on this tasksim alternately, %v each: about %s\n",
		len(cand.Names()), against, perCase, shortDuration(codecbench.Estimate(len(cand.Names()), perCase)))
	progress, done := benchProgress(cmd.ErrOrStderr(), "ms measured")
	c, err := codecbench.ABCompare(base, cand, codecbench.ABOptions{Time: perCase, Threshold: threshold, Progress: progress})
	done()
	if err != nil {
		return fmt.Errorf("bench codec --against: %w", err)
	}
	if asJSON {
		b, err := json.MarshalIndent(struct {
			Comparison codecbench.ABComparison `json:"comparison"`
			Pass       bool                    `json:"pass"`
		}{c, !c.Failed()}, "", "  ")
		if err != nil {
			return fmt.Errorf("render bench JSON: %w", err)
		}
		if _, err := cmd.OutOrStdout().Write(append(b, '\n')); err != nil {
			return err
		}
	} else if err := c.Table(cmd.OutOrStdout()); err != nil {
		return err
	}
	if c.Failed() {
		return failed(fmt.Errorf("codec slower than %s beyond %.0f%% in %d rows", against, 100*c.Threshold, len(c.Regressions())))
	}
	return nil
}

// benchProgress reports progress on w: a meter with an ETA on a terminal, otherwise a
// line at every tenth, so that a CI log shows the run is alive. Call done at the end.
func benchProgress(w io.Writer, unit string) (progress func(done, total int), done func()) {
	if isTerminal(w) {
		m := newMeter(w, unit, 0)
		return func(d, t int) { m.update(int64(d), int64(t), "") }, m.clear
	}
	start, shown := time.Now(), 0
	return func(d, t int) {
		if t <= 0 {
			return
		}
		if tenth := 10 * d / t; tenth > shown {
			shown = tenth
			fmt.Fprintln(w, progressLine(int64(d), int64(t), unit, time.Since(start), ""))
		}
	}, func() {}
}
