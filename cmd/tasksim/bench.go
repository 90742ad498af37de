package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/model/codecbench"
	"github.com/tasksim/tasksim/reports/plots"
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
	codec := &cobra.Command{
		Use:   "codec [--payload 512B,16KiB] [--time 1s] [--out DIR] [--baseline FILE]",
		Short: "Measure encoding and decoding of the task messages, variant by variant",
		Long: `bench codec measures encode and decode of TaskAssignment, TaskHeartbeatRequest,
TaskHeartbeatResponse and CompleteTaskRequest with every codec variant (proto,
proto-append, vtproto, vtproto-unsafe, hyperpb, protojson, the simulator's own 'wire'
path, and a memmove of the same bytes as the floor). It prints a table, writes
codec.json and a bar plot to --out, and with --baseline compares each row with a saved
codec.json using a Mann-Whitney U test over the repeated samples: it exits 1 only on a
significant slowdown larger than --threshold.`,
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
				opts.Progress = func(done, total int) {
					fmt.Fprintf(cmd.ErrOrStderr(), "\r  %d/%d samples ", done, total)
				}
			}
			rep, err := codecbench.Run(opts)
			if opts.Progress != nil {
				fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
			}
			if err != nil {
				return fmt.Errorf("bench codec: %w", err)
			}
			if err := rep.Table(cmd.OutOrStdout()); err != nil {
				return err
			}
			if err := rep.WriteJSON(filepath.Join(out, "codec.json")); err != nil {
				return err
			}
			if err := plots.CodecBars(rep, filepath.Join(out, "codec.png"), filepath.Join(out, "codec.svg")); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(out, "codec.json"))
			if base == nil {
				return nil
			}
			cmp, err := codecbench.Compare(base, rep, threshold)
			if err != nil {
				return badInput(fmt.Errorf("--baseline %s: %w", baseline, err))
			}
			if err := cmp.Table(cmd.OutOrStdout()); err != nil {
				return err
			}
			if cmp.Failed() {
				return failed(fmt.Errorf("codec slower than %s beyond %.0f%% in %d rows", baseline, 100*threshold, len(cmp.Regressions())))
			}
			return nil
		},
	}
	codec.Flags().StringVar(&payload, "payload", "512B,16KiB", "sizes of the Value payload, comma-separated")
	codec.Flags().DurationVar(&perCase, "time", codecbench.DefaultTime, "time per sample of each case")
	codec.Flags().IntVar(&count, "count", codecbench.DefaultCount, "samples per case (the gate's test needs several)")
	codec.Flags().StringVar(&out, "out", filepath.Join("out", "bench-codec"), "output directory for codec.json and the plot")
	codec.Flags().StringVar(&baseline, "baseline", "", "a codec.json to compare with; exit 1 on a significant slowdown")
	codec.Flags().Float64Var(&threshold, "threshold", codecbench.DefaultThreshold, "slowdown that counts, as a fraction (0.10 = 10%)")
	cmd.AddCommand(codec)
	return cmd
}
