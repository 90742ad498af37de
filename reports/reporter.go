package reports

// A Reporter writes one output of a run (a file or a few) into the run's out directory,
// which exists and holds what the reporters before it wrote. Each output is one Reporter
// in its own file; reports/outputs lists them in the order `tasksim run` writes them, so
// that a new output is one file and one line there.
type Reporter func(dir string, run *Run) error

// WriteAll writes the outputs of reporters into dir, in order, stopping at the first error.
func WriteAll(dir string, run *Run, reporters []Reporter) error {
	for _, write := range reporters {
		if err := write(dir, run); err != nil {
			return err
		}
	}
	return nil
}
