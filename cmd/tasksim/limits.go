package main

import (
	"fmt"
	"io"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// forceHelp is the --force flag's help, the same on every command that runs scenarios.
const forceHelp = "run even if the scenario's estimated peak memory is over the limit"

// admit prints the scenario's warnings to stderr and refuses (exit 2) a scenario
// estimated not to fit in memory, `runs` at a time, unless forced: better one line now
// than the machine swapping in an hour.
func admit(cfg *sim.Config, runs int, force bool, stderr io.Writer) error {
	for _, w := range scenarios.Warnings(cfg) {
		fmt.Fprintf(stderr, "tasksim: warning: scenario %s: %s\n", cfg.Name, w)
	}
	if force {
		return nil
	}
	limit, err := scenarios.MemoryLimit()
	if err != nil {
		return badInput(err)
	}
	if err := scenarios.CheckMemory(cfg, runs, limit); err != nil {
		return badInput(fmt.Errorf("scenario %s: %w", cfg.Name, err))
	}
	return nil
}
