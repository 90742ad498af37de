package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/reports/plots"
)

func newPlotCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR_OR_SUMMARY...",
		Short: "Re-draw the plots of saved runs; several runs are overlaid, with a legend by run",
		Long: `Plot re-draws the plots (PNG and SVG) from runs saved by 'tasksim run': give each run's
out directory or its summary.json. With one run the plots go back into its directory;
with several, each plot overlays them (e.g. the same scenario with
--set orchestrator.detector=scan and =deadline) and goes to --out (default out/plot),
with compare.html: the runs' key numbers side by side, and the overlaid plots.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var runs []*reports.Run
			for _, a := range args {
				r, err := reports.ReadRun(a)
				if err != nil {
					return badInput(err)
				}
				runs = append(runs, r)
			}
			dir := out
			if dir == "" && len(runs) == 1 {
				dir = runs[0].Dir
			} else if dir == "" {
				dir = filepath.Join("out", "plot")
			}
			rendered, err := plots.RenderPlots(runs)
			if err != nil {
				return &exitError{code: exitInternal, err: err}
			}
			files, err := plots.WritePlotFiles(dir, rendered)
			if err != nil {
				return outputFailed(err)
			}
			if len(runs) > 1 {
				// Several runs also get a page of their key numbers side by side.
				comparePage, err := page.WriteCompareFile(dir, runs, rendered)
				if err != nil {
					return outputFailed(err)
				}
				files = append(files, comparePage)
			}
			for _, f := range files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for the plots (default: the run's own directory, or out/plot for several runs)")
	return cmd
}
