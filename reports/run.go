package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tasksim/tasksim/sim"
)

// SummaryFile and TimelineFile are the names of a run's saved data in its out directory.
const (
	SummaryFile  = "summary.json"
	TimelineFile = "timeline.json"
)

// MarshalSummary renders summary.json.
func MarshalSummary(s *sim.Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render summary.json: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteRun writes a run's files to dir: summary.json and timeline.json (what `tasksim
// plot` re-draws from).
func WriteRun(dir string, res *sim.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create out directory: %w", err)
	}
	b, err := MarshalSummary(&res.Summary)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), b, 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	tl, err := json.Marshal(&res.Timeline)
	if err != nil {
		return fmt.Errorf("render timeline: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, TimelineFile), tl, 0o644); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// ReadSummary loads a summary.json.
func ReadSummary(path string) (*sim.Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s sim.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a summary.json: %w", path, err)
	}
	return &s, nil
}
