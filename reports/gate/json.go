package gate

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/tasksim/tasksim/sim"
)

// checkJSON is `tasksim check --json`: the verdict, and per scenario what failed and
// what changed, in the units of summary.json.
type checkJSON struct {
	Pass      bool           `json:"pass"`
	Updated   bool           `json:"updated,omitempty"`
	Sets      []string       `json:"sets,omitempty"`
	Scenarios []scenarioJSON `json:"scenarios"`
}

type scenarioJSON struct {
	Scenario           string                  `json:"scenario"`
	Pass               bool                    `json:"pass"`
	Seed               uint64                  `json:"seed"`
	TraceHash          string                  `json:"trace_hash,omitempty"`
	BaselineHash       string                  `json:"baseline_trace_hash,omitempty"`
	HashChanged        bool                    `json:"hash_changed"`
	NotInBaseline      bool                    `json:"not_in_baseline,omitempty"`
	Error              string                  `json:"error,omitempty"`
	FailedExpectations []sim.ExpectationResult `json:"failed_expectations,omitempty"`
	Changes            []changeJSON            `json:"changes,omitempty"`
}

type changeJSON struct {
	Path       string  `json:"path"`
	Baseline   float64 `json:"baseline"`
	Observed   float64 `json:"observed"`
	Allowed    float64 `json:"allowed"`
	Worse      string  `json:"worse"`
	Regression bool    `json:"regression"`
}

// WriteJSON writes the check as JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	out := checkJSON{Pass: rep.Passed(), Updated: rep.Updated, Sets: rep.Sets, Scenarios: []scenarioJSON{}}
	for _, r := range rep.Results {
		s := scenarioJSON{Scenario: r.Scenario, Pass: r.Passed(rep.Baseline.StrictHash), HashChanged: r.HashChanged,
			BaselineHash: r.BaselineHash, NotInBaseline: r.NotInBaseline, FailedExpectations: r.FailedExpectations()}
		if r.Err != nil {
			s.Error = r.Err.Error()
		}
		if r.Summary != nil {
			s.Seed, s.TraceHash = r.Summary.Seed, r.Summary.TraceHash
		}
		for _, c := range r.Changes {
			s.Changes = append(s.Changes, changeJSON(c))
		}
		out.Scenarios = append(out.Scenarios, s)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("render check JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
