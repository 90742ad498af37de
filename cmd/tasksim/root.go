package main

import (
	"errors"
	"fmt"
	"io"

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

// Main runs the CLI and returns its exit code. Tests call it in-process.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
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
	// Anything cobra itself rejects (unknown command or flag, wrong arg count) is bad input.
	fmt.Fprintf(stderr, "tasksim: %v\n", err)
	return exitBadInput
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
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return badInput(fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath()))
	})
	root.AddCommand(newRunCmd(), newScenariosCmd(), newCodecCmd(), newPlotCmd(), newSweepCmd(), newCheckCmd(), newBenchCmd(), newShrinkCmd())
	root.AddCommand(newConformCmd())
	return root
}
