package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes (DESIGN.md, Command line).
const (
	exitOK       = 0
	exitFailed   = 1 // an expectation, invariant or gate failed
	exitBadInput = 2 // flags, scenario file, input bytes
	exitInternal = 3
)

// exitError carries the exit code a failure maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as the user's input being wrong (exit 2).
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

// failed marks err as a check that did not hold (exit 1).
func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// outputFailed maps a failure to write outputs. An I/O error on a path (a read-only or
// full --out, a directory where a file goes, a closed stdout) comes from the place the
// user chose to write to, so it is bad input (2) like a read-only parent directory;
// anything else is tasksim's own failure (3).
func outputFailed(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return badInput(err)
	}
	return &exitError{code: exitInternal, err: err}
}

// Main runs the CLI and returns its exit code. Tests call it in-process.
//
// Errors marked with an exitError keep their code. An unmarked error is cobra's own
// rejection of the command line (unknown command or flag, wrong argument count) when no
// command has started: bad input, 2. Once a command has started, an unmarked error is an
// output I/O error if it is one (outputFailed: 2), else internal (3): a command marks
// every problem of its input as it finds it, so what is left unmarked is not the user's.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "tasksim: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "tasksim: %v\n", err)
	if !started {
		return exitBadInput // cobra rejected the command line
	}
	if errors.As(outputFailed(err), &ee) {
		return ee.code
	}
	return exitInternal
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tasksim",
		Short: "Deterministic simulation and load-test harness for heartbeat-based task dispatch",
		Long: `tasksim runs a reference Stepflow v1 orchestrator and its workers under virtual time,
drives scenario files through heartbeats, message loss, crashes, pauses and partitions,
and reports whether every crash was detected in time and what the protobuf codec costs.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(debug.ReadBuildInfo()),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return badInput(fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath()))
	})
	root.AddCommand(newRunCmd(), newScenariosCmd(), newCodecCmd(), newPlotCmd(), newSweepCmd(), newCheckCmd(), newBenchCmd(), newShrinkCmd())
	root.AddCommand(newConformCmd(), newVersionCmd())
	root.AddCommand(newServeCmd(), newWorkersCmd())
	return root
}
