package conform

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one conform run; conform.json is this value.
type Report struct {
	Command   []string `json:"command"`
	TasksURL  string   `json:"tasks_url"`
	Queue     string   `json:"queue"`
	Component string   `json:"component,omitempty"`
	Input     string   `json:"input,omitempty"`
	Full      bool     `json:"full_schedules"`
	Started   string   `json:"started"`
	// Error is set when no situation could run (the worker never connected).
	Error      string   `json:"error,omitempty"`
	Components []string `json:"components"`
	// ComponentDuration is the component's run time in seconds, as measured.
	ComponentDuration float64  `json:"component_duration_s"`
	Rows              []Row    `json:"rows"`
	Best              *Best    `json:"best_match"`
	Hazards           []string `json:"hazards"`
	NotRun            []string `json:"not_run"`
	// Warning says when the harness lag exceeded what the tolerance absorbs.
	Warning string `json:"warning,omitempty"`
}

// Row is one situation: what the worker did and what each flavour would have done.
type Row struct {
	Situation string    `json:"situation"`
	Title     string    `json:"title"`
	Ran       bool      `json:"ran"`
	NotRun    string    `json:"not_run,omitempty"`
	Worker    string    `json:"worker,omitempty"`
	Observed  []fact    `json:"observed,omitempty"`
	Flavours  []Verdict `json:"flavours,omitempty"`
	// Seconds is the situation's wall time.
	Seconds float64 `json:"seconds"`
	// HarnessLag is the worst lateness of conform's own timers while the situation ran
	// (seconds): its timings were judged with this much (at most maxLagSlack) beyond the
	// tolerance.
	HarnessLag float64 `json:"harness_lag_s"`
}

// Verdict is one flavour's expectation for a row. Match is nil when the flavour's
// behaviour there is not specified (not counted for the best match).
type Verdict struct {
	Flavour     string   `json:"flavour"`
	Expected    string   `json:"expected"`
	Match       *bool    `json:"match"`
	Differences []string `json:"differences,omitempty"`
}

// Best is the flavour that matches the most situations.
type Best struct {
	Flavour     string   `json:"flavour"`
	Matched     int      `json:"matched"`
	Compared    int      `json:"compared"`
	Differences []string `json:"differences"`
}

// Matches reports whether flavour matched every situation it was compared on.
func (rep *Report) Matches(flavour string) bool {
	compared := 0
	for _, row := range rep.Rows {
		for _, v := range row.Flavours {
			if v.Flavour == flavour && v.Match != nil {
				compared++
				if !*v.Match {
					return false
				}
			}
		}
	}
	return compared > 0
}

// Differing lists the situations where flavour was compared and did not match.
func (rep *Report) Differing(flavour string) []string {
	var out []string
	for _, row := range rep.Rows {
		for _, v := range row.Flavours {
			if v.Flavour == flavour && v.Match != nil && !*v.Match {
				out = append(out, row.Situation)
			}
		}
	}
	return out
}

// Row returns the row of situation id.
func (rep *Report) Row(id string) (Row, bool) {
	for _, r := range rep.Rows {
		if r.Situation == id {
			return r, true
		}
	}
	return Row{}, false
}

// observed returns the value of fact name in row, if it was observed.
func (r Row) observed(name string) (any, bool) {
	for _, f := range r.Observed {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// summarise fills in the best match, the hazards and the situations not run.
func (rep *Report) summarise() {
	rep.Hazards, rep.NotRun = []string{}, []string{}
	for _, b := range behaviours {
		name := b.flavour.String()
		best := Best{Flavour: name, Differences: []string{}}
		for _, row := range rep.Rows {
			for _, v := range row.Flavours {
				if v.Flavour != name || v.Match == nil {
					continue
				}
				best.Compared++
				if *v.Match {
					best.Matched++
				} else {
					for _, d := range v.Differences {
						best.Differences = append(best.Differences, row.Situation+": "+d)
					}
				}
			}
		}
		if best.Compared == 0 {
			continue
		}
		if rep.Best == nil || best.Matched*rep.Best.Compared > rep.Best.Matched*best.Compared ||
			(best.Matched*rep.Best.Compared == rep.Best.Matched*best.Compared && best.Compared > rep.Best.Compared) {
			b := best
			rep.Best = &b
		}
	}
	var lagged []string
	for _, row := range rep.Rows {
		if !row.Ran {
			rep.NotRun = append(rep.NotRun, row.Situation+": "+row.NotRun)
		}
		if row.HarnessLag > maxLagSlack.Seconds() {
			lagged = append(lagged, fmt.Sprintf("%s (%.3fs)", row.Situation, row.HarnessLag))
		}
	}
	if len(lagged) > 0 {
		rep.Warning = fmt.Sprintf("the machine was too loaded: conform's timers ran over %s late in %s, so those timings may differ because of the load, not the worker",
			fmtDur(maxLagSlack), strings.Join(lagged, ", "))
	}
	rep.Hazards = rep.hazards()
}

// hazards names what the worker did that PROTOCOL.md's hazard list (or the issue's)
// counts as dangerous, each from a measured row.
func (rep *Report) hazards() []string {
	out := []string{}
	is := func(id, name string, want any) bool {
		row, ok := rep.Row(id)
		if !ok || !row.Ran {
			return false
		}
		v, ok := row.observed(name)
		return ok && v == want
	}
	if is("abort_on_heartbeat", "completed", true) {
		out = append(out, "keeps running after should_abort and still completes: its result can be accepted (hazard 5)")
	}
	if is("abort_on_claim", "completed", true) {
		out = append(out, "runs and completes a task whose claim was answered should_abort")
	}
	if is("claim_already_claimed", "ran", true) {
		out = append(out, "runs a task whose claim was answered ALREADY_CLAIMED (another worker holds it)")
	}
	if row, ok := rep.Row("heartbeat_no_answer"); ok && row.Ran {
		if v, _ := row.observed("rpc_deadline"); v == time.Duration(0) {
			out = append(out, "no RPC deadline: a heartbeat whose answer never comes blocks until the connection fails")
		}
		if v, _ := row.observed("keeps_heartbeating"); v == false {
			out = append(out, "a heartbeat answer that never comes stops its heartbeats while the component runs on: the orchestrator fails a live task (hazard 8)")
		}
	}
	if row, ok := rep.Row("complete_unavailable"); ok && row.Ran {
		v, _ := row.observed("complete_retries")
		retries, _ := v.(sched)
		switch {
		case len(retries) == 0:
			out = append(out, "tries CompleteTask once: a result answered UNAVAILABLE is dropped")
		case is("complete_unavailable", "gave_up", true):
			out = append(out, fmt.Sprintf("drops the result after %d retries of CompleteTask (measured)", len(retries)))
		case is("complete_unavailable", "gave_up", false):
			out = append(out, "still retrying CompleteTask at the end of the window: it may hold the task's slot forever")
		case rep.Best != nil:
			for _, b := range behaviours {
				if b.flavour.String() == rep.Best.Flavour && len(b.completeRetries) > 0 && rep.matchedRow(row, rep.Best.Flavour) {
					var total time.Duration
					for _, d := range b.completeRetries {
						total += d
					}
					out = append(out, fmt.Sprintf("drops the result after %d retries of CompleteTask (%s), extrapolated from the %s schedule its first retries match",
						len(b.completeRetries), fmtDur(total), rep.Best.Flavour))
				}
			}
		}
	}
	if is("second_copy", "completions", 2) {
		out = append(out, "runs a second copy of a task it already runs: the step runs twice (hazard 4)")
	}
	if is("sigterm", "completed", false) {
		out = append(out, "SIGTERM cancels a running task without CompleteTask: it is failed only by detection")
	}
	if is("heartbeat_not_found", "completed", true) {
		out = append(out, "completes a task its heartbeat was told the orchestrator does not know (NOT_FOUND)")
	}
	return out
}

func (rep *Report) matchedRow(row Row, flavour string) bool {
	for _, v := range row.Flavours {
		if v.Flavour == flavour {
			return v.Match != nil && *v.Match
		}
	}
	return false
}

// Print writes the report as text: a summary table, each row's detail, the best match,
// the hazards and what did not run.
func (rep *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "conform: %s\n  served on %s, queue %q", strings.Join(rep.Command, " "), rep.TasksURL, rep.Queue)
	if rep.Component != "" {
		fmt.Fprintf(w, ", component %s", rep.Component)
		if rep.ComponentDuration > 0 {
			fmt.Fprintf(w, " (ran %.3fs)", rep.ComponentDuration)
		}
	}
	if rep.Full {
		fmt.Fprint(w, ", full retry schedules")
	}
	fmt.Fprintln(w)
	if rep.Error != "" {
		fmt.Fprintf(w, "error: %s\n", rep.Error)
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "SITUATION")
	for _, b := range behaviours {
		fmt.Fprint(tw, "\t"+strings.ToUpper(b.flavour.String()))
	}
	fmt.Fprintln(tw, "\tWORKER")
	for _, row := range rep.Rows {
		fmt.Fprint(tw, row.Situation)
		if !row.Ran {
			for range behaviours {
				fmt.Fprint(tw, "\t-")
			}
			fmt.Fprintf(tw, "\tnot run: %s\n", row.NotRun)
			continue
		}
		for _, v := range row.Flavours {
			cell := "n/a"
			if v.Match != nil {
				cell = map[bool]string{true: "match", false: "DIFFERS"}[*v.Match]
			}
			fmt.Fprint(tw, "\t"+cell)
		}
		fmt.Fprintf(tw, "\t%s\n", row.Worker)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nwhat each flavour does:")
	for _, row := range rep.Rows {
		if !row.Ran {
			continue
		}
		fmt.Fprintf(w, "  %s (%s)\n    observed: %s\n", row.Situation, row.Title, factsText(row.Observed))
		if lag := time.Duration(row.HarnessLag * float64(time.Second)); lag >= 10*time.Millisecond {
			fmt.Fprintf(w, "    harness lag %s, added to the timings' tolerance (at most %s)\n", fmtDur(lag), fmtDur(maxLagSlack))
		}
		for _, v := range row.Flavours {
			mark := "n/a"
			if v.Match != nil {
				mark = map[bool]string{true: "match", false: "differs"}[*v.Match]
			}
			fmt.Fprintf(w, "    %-7s %s  [%s]\n", v.Flavour+":", v.Expected, mark)
		}
	}
	if rep.Best != nil {
		fmt.Fprintf(w, "\nbest match: %s (%d of %d compared situations)\n", rep.Best.Flavour, rep.Best.Matched, rep.Best.Compared)
		for _, d := range rep.Best.Differences {
			fmt.Fprintf(w, "  differs: %s\n", d)
		}
	}
	fmt.Fprintln(w, "\nhazards:")
	if len(rep.Hazards) == 0 {
		fmt.Fprintln(w, "  none seen")
	}
	for _, h := range rep.Hazards {
		fmt.Fprintf(w, "  - %s\n", h)
	}
	if rep.Warning != "" {
		fmt.Fprintf(w, "\nwarning: %s\n", rep.Warning)
	}
	if len(rep.NotRun) > 0 {
		fmt.Fprintln(w, "\nnot run:")
		for _, n := range rep.NotRun {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}
