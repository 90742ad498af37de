package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/sim/live/conform"
)

func newConformCmd() *cobra.Command {
	var cfg conform.Config
	var out, expect string
	cmd := &cobra.Command{
		Use:   "conform [--queue NAME] [--component ID --input JSON] [--out DIR] -- CMD [ARG...]",
		Short: "Put a real worker process through scripted protocol situations and classify it",
		Long: `conform serves TasksService and OrchestratorService on 127.0.0.1, starts CMD with
STEPFLOW_TASKS_URL=127.0.0.1:PORT and STEPFLOW_QUEUE_NAME=NAME in its environment
({tasks_url} and {queue} in its arguments are replaced too), and drives it through
scripted situations, each on a fresh task: discovery, the heartbeat period, a claim
answered ALREADY_CLAIMED, should_abort or UNAVAILABLE, heartbeats answered UNAVAILABLE,
NOT_FOUND or never, CompleteTask answered UNAVAILABLE (its retry schedule) or NOT_FOUND,
an unknown component, a second copy of a running task, a broken stream and refused
reconnects, SIGTERM and SIGKILL with a task running.

It prints what the worker did in each, what each worker flavour of tasksim's model
(python, rust, strict) does there, the best-matching flavour with its differences and
the hazards the worker shows, and writes the same as conform.json to --out.
--component and --input name a component of the worker that runs for at least 3.5s;
without them the heartbeat situations are reported as not run. Retry schedules are
compared over their first pauses (about 20s); --full waits them out (minutes).

Exit codes: 0 it ran; 1 --expect-flavour was given and did not match every situation,
or the worker never connected (reported within 10s); 2 bad input.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 0 {
				return badInput(errors.New("conform: give the worker command after --, as in 'tasksim conform -- python -m stepflow_py.worker.main --grpc'"))
			}
			if expect != "" {
				if _, ok := model.ParseFlavour(expect); !ok {
					return badInput(fmt.Errorf("--expect-flavour %q: allowed python, rust, strict", expect))
				}
			}
			cfg.Command = args
			cfg.Progress = cmd.ErrOrStderr()
			logPath := filepath.Join(out, "worker.log")
			if err := os.MkdirAll(out, 0o755); err != nil {
				return outputFailed(fmt.Errorf("create --out directory: %w", err))
			}
			logFile, err := safefile.Create(logPath)
			if err != nil {
				return outputFailed(err)
			}
			defer logFile.Close()
			cfg.Log = logFile
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := conform.Run(ctx, cfg)
			switch {
			case errors.Is(err, conform.ErrBadInput):
				return badInput(err)
			case errors.Is(err, conform.ErrNoConnect):
				rep.Print(cmd.OutOrStdout())
				if werr := writeConformJSON(rep, out); werr != nil {
					return werr
				}
				return failed(fmt.Errorf("conform: %s (its output is in %s)", rep.Error, logPath))
			case errors.Is(err, context.Canceled):
				return failed(errors.New("conform: interrupted"))
			case err != nil:
				return &exitError{code: exitInternal, err: err}
			}
			rep.Print(cmd.OutOrStdout())
			if err := writeConformJSON(rep, out); err != nil {
				return err
			}
			if expect != "" && !rep.Matches(expect) {
				return failed(fmt.Errorf("conform: the worker does not match flavour %s in %v", expect, rep.Differing(expect)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Queue, "queue", "conform", "queue name (STEPFLOW_QUEUE_NAME)")
	f.StringVar(&cfg.Component, "component", "", "component id of the worker that runs for at least 3.5s")
	f.StringVar(&cfg.Input, "input", "", "that component's input, JSON")
	f.StringVar(&out, "out", "out/conform", "directory for conform.json and worker.log")
	f.StringVar(&expect, "expect-flavour", "", "exit 1 unless every situation matches this flavour (python, rust, strict)")
	f.IntVar(&cfg.Parallel, "parallel", 1, "task situations run at once on the worker (it needs that many free slots)")
	f.BoolVar(&cfg.Full, "full", false, "wait out the real retry and reconnect schedules (minutes)")
	f.IntVar(&cfg.Port, "port", 0, "port on 127.0.0.1 to serve on (0: a free one)")
	f.StringSliceVar(&cfg.Only, "only", nil, "run only these situations (comma-separated ids) after discovery")
	return cmd
}

// writeConformJSON writes the report to DIR/conform.json, never through a symlink.
func writeConformJSON(rep *conform.Report, dir string) error {
	b, err := rep.JSON()
	if err != nil {
		return err
	}
	if err := safefile.WriteFile(filepath.Join(dir, "conform.json"), b); err != nil {
		return outputFailed(err)
	}
	return nil
}
