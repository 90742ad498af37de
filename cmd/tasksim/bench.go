package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	var payload, out, baseline string
	var perCase time.Duration
	var count int
	var threshold float64
	var asJSON bool
	codec := &cobra.Command{
		Use:   "codec [--payload 512B,16KiB] [--time 1s] [--out DIR] [--baseline FILE]",
		Short: "Measure encoding and decoding of the task messages, variant by variant",
		Long: `bench codec measures encode and decode of TaskAssignment, TaskHeartbeatRequest,
TaskHeartbeatResponse and CompleteTaskRequest with every codec variant (proto,
proto-append, vtproto, vtproto-unsafe, hyperpb, protojson, the simulator's own 'wire'
path, and a memmove of the same bytes as the floor). It prints a table, writes
codec.json and a bar plot to --out, and with --baseline compares each row with a saved
codec.json: each row is timed in short chunks alternating with its reference codec
(protobuf-go; vtprotobuf for protobuf-go itself), and judged by its time relative to
the reference with a Mann-Whitney U test over the samples, so that a busier machine
slowing both does not count; it exits 1 only on a significant slowdown larger than
--threshold. Each case takes --time (the 78 cases at the default payloads about 1.1
times 78 x --time in all), in --count samples.`,
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
			var base *codecbench.Report
			if baseline != "" {
				if base, err = codecbench.ReadReport(baseline); err != nil {
					return badInput(fmt.Errorf("--baseline: %w", err))
				}
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("create --out directory: %w", err)
			}
			opts := codecbench.Options{Payloads: payloads, Time: perCase, Count: count}
			if isTerminal(cmd.ErrOrStderr()) {
				n, err := codecbench.CaseCount(opts)
				if err != nil {
					return badInput(fmt.Errorf("--payload: %w", err))
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "measuring %d cases for %v each: about %s\n", n, perCase, shortDuration(codecbench.Estimate(n, perCase)))
				m := newMeter(cmd.ErrOrStderr(), "samples", 0)
				opts.Progress = func(done, total int) { m.update(int64(done), int64(total), "") }
				defer m.clear()
			}
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
	cmd.AddCommand(codec)
	return cmd
}
