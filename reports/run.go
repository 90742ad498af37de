package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/sim"
)

// The files of a run's out directory that reports read back (`tasksim plot`).
const (
	SummaryFile  = "summary.json"
	TimelineFile = "timeline.json"
	LatencyFile  = "latency.json"
	InfoFile     = "run.json"
)

// Run is one run as the reports need it: what ran, its summary, and the data behind the
// plots. It comes from a live result (NewRun) or from a saved out directory (ReadRun), so
// that a re-drawn plot is the same as the first.
type Run struct {
	Info     Info
	Summary  sim.Summary
	Timeline sim.Timeline
	Latency  Latencies
	// Dir is the out directory the run was written to or read from; empty if neither.
	Dir string
}

// Info is run.json: the scenario facts that plots and reports show beside the numbers.
type Info struct {
	Scenario    string `json:"scenario"`
	Description string `json:"description,omitempty"`
	Seed        uint64 `json:"seed"`
	// Source is the SCENARIO argument the run was started with (a built-in name or a file).
	Source           string   `json:"source"`
	Sets             []string `json:"sets,omitempty"`
	Detector         string   `json:"detector"`
	HeartbeatTimeout float64  `json:"heartbeat_timeout"`
	TaskIDs          string   `json:"task_ids"`
	Workers          int64    `json:"workers"`
	// Components and Pools break the run down the way the reference labels its metrics.
	Components []sim.ComponentStats `json:"components,omitempty"`
	Pools      []sim.PoolStats      `json:"pools,omitempty"`
	// DuplicateDeliveries counts assignments a duplicate_delivery fault handed to a
	// second worker.
	DuplicateDeliveries int64 `json:"duplicate_deliveries"`
}

// Replay is the command line that reproduces the run.
func (i *Info) Replay() string { return ReplayCommand(i.Source, i.Seed, i.Sets) }

// Latencies is latency.json: every recorder of the run, named like its summary path.
type Latencies struct {
	Detection struct {
		SinceLastHeartbeat Distribution `json:"since_last_heartbeat"`
		SinceCrash         Distribution `json:"since_crash"`
		// ByCause splits since_last_heartbeat by what the oracle found behind each
		// timeout (sim.DetectionCause names); absent in runs saved before it existed.
		ByCause map[string]*Distribution `json:"by_cause,omitempty"`
	} `json:"detection"`
	Latency struct {
		EndToEnd  Distribution `json:"end_to_end"`
		QueueWait Distribution `json:"queue_wait"`
		Execution Distribution `json:"execution"`
	} `json:"latency"`
	// Components and Pools hold completed steps' end-to-end latency, in run.json's order.
	Components []NamedDistribution `json:"components,omitempty"`
	Pools      []NamedDistribution `json:"pools,omitempty"`
}

// NamedDistribution is one component's or pool's end-to-end latency.
type NamedDistribution struct {
	Name     string       `json:"name"`
	EndToEnd Distribution `json:"end_to_end"`
}

// DetectionCauses is the order plots and reports list detection causes in.
func DetectionCauses() []string {
	out := make([]string, sim.NumDetectionCauses)
	for c := range sim.NumDetectionCauses {
		out[c] = c.String()
	}
	return out
}

// each visits every distribution with its summary path.
func (l *Latencies) each(f func(path string, d *Distribution) error) error {
	for _, e := range []struct {
		path string
		d    *Distribution
	}{
		{"detection.since_last_heartbeat", &l.Detection.SinceLastHeartbeat},
		{"detection.since_crash", &l.Detection.SinceCrash},
		{"latency.end_to_end", &l.Latency.EndToEnd},
		{"latency.queue_wait", &l.Latency.QueueWait},
		{"latency.execution", &l.Latency.Execution},
	} {
		if err := f(e.path, e.d); err != nil {
			return err
		}
	}
	for _, c := range DetectionCauses() {
		if d := l.Detection.ByCause[c]; d != nil {
			if err := f("detection.by_cause."+c, d); err != nil {
				return err
			}
		}
	}
	for _, g := range []struct {
		what string
		ds   []NamedDistribution
	}{{"components", l.Components}, {"pools", l.Pools}} {
		for i := range g.ds {
			if err := f(g.what+"."+g.ds[i].Name+".end_to_end", &g.ds[i].EndToEnd); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewRun gathers what the reports need from a finished run. source and sets are how it
// was started (for the replay line and legends).
func NewRun(cfg *sim.Config, res *sim.Result, source string, sets []string) *Run {
	r := &Run{
		Info: Info{
			Scenario:         cfg.Name,
			Description:      strings.TrimSpace(cfg.Description),
			Seed:             cfg.Seed,
			Source:           source,
			Sets:             append([]string(nil), sets...),
			Detector:         cfg.Orchestrator.Detector.String(),
			HeartbeatTimeout: cfg.Orchestrator.HeartbeatTimeout.Seconds(),
			TaskIDs:          string(cfg.Orchestrator.TaskIDs),
		},
		Summary:  res.Summary,
		Timeline: res.Timeline,
	}
	for _, p := range cfg.Workers {
		r.Info.Workers += int64(p.Count)
	}
	r.Info.Components = res.Metrics.Components
	r.Info.Pools = res.Metrics.Pools
	r.Info.DuplicateDeliveries = res.Metrics.DuplicateDeliveries
	r.Latency.Detection.SinceLastHeartbeat = FromRecorder(res.DetectionSinceLastHeartbeat)
	r.Latency.Detection.SinceCrash = FromRecorder(res.DetectionSinceCrash)
	r.Latency.Latency.EndToEnd = FromRecorder(res.EndToEnd)
	r.Latency.Latency.QueueWait = FromRecorder(res.QueueWait)
	r.Latency.Latency.Execution = FromRecorder(res.Execution)
	r.Latency.Detection.ByCause = map[string]*Distribution{}
	for c, rec := range res.Breakdown.DetectionByCause {
		d := FromRecorder(rec)
		r.Latency.Detection.ByCause[sim.DetectionCause(c).String()] = &d
	}
	for i, rec := range res.Breakdown.ComponentEndToEnd {
		r.Latency.Components = append(r.Latency.Components, NamedDistribution{Name: cfg.Components[i].Path, EndToEnd: FromRecorder(rec)})
	}
	for i, rec := range res.Breakdown.PoolEndToEnd {
		r.Latency.Pools = append(r.Latency.Pools, NamedDistribution{Name: cfg.Workers[i].Pool, EndToEnd: FromRecorder(rec)})
	}
	return r
}

// MarshalSummary renders summary.json.
func MarshalSummary(s *sim.Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render summary.json: %w", err)
	}
	if len(s.Unknown) > 0 {
		if b, err = nullPaths(b, s.Unknown); err != nil {
			return nil, err
		}
	}
	return append(b, '\n'), nil
}

// nullPaths rewrites the summary with each of paths set to null (a live run's side it
// does not see: null, never a misleading 0).
func nullPaths(b []byte, paths []string) ([]byte, error) {
	var tree map[string]any
	if err := json.Unmarshal(b, &tree); err != nil {
		return nil, fmt.Errorf("render summary.json: %w", err)
	}
	for _, p := range paths {
		node := tree
		parts := strings.Split(p, ".")
		for _, part := range parts[:len(parts)-1] {
			next, ok := node[part].(map[string]any)
			if !ok {
				node = nil
				break
			}
			node = next
		}
		if node != nil {
			if _, ok := node[parts[len(parts)-1]]; ok {
				node[parts[len(parts)-1]] = nil
			}
		}
	}
	out, err := json.MarshalIndent(tree, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render summary.json: %w", err)
	}
	return out, nil
}

// WriteRun writes a run's data files to dir: summary.json, timeline.json, latency.json
// and run.json, everything `tasksim plot` re-draws from.
func WriteRun(dir string, run *Run) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create out directory: %w", err)
	}
	b, err := MarshalSummary(&run.Summary)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		v    any
	}{{TimelineFile, &run.Timeline}, {LatencyFile, &run.Latency}, {InfoFile, &run.Info}}
	if err := safefile.WriteFile(filepath.Join(dir, SummaryFile), b); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	for _, f := range files {
		b, err := json.Marshal(f.v)
		if err != nil {
			return fmt.Errorf("render %s: %w", f.name, err)
		}
		if err := safefile.WriteFile(filepath.Join(dir, f.name), append(b, '\n')); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	run.Dir = dir
	return nil
}

// ReadRun loads a saved run from its out directory, or from the path of its summary.json.
// Errors name the file and what is wrong with it.
func ReadRun(path string) (*Run, error) {
	dir := path
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	} else if !st.IsDir() {
		dir = filepath.Dir(path)
	}
	run := &Run{Dir: dir}
	s, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, err
	}
	run.Summary = *s
	for _, f := range []struct {
		name string
		v    any
	}{{TimelineFile, &run.Timeline}, {LatencyFile, &run.Latency}, {InfoFile, &run.Info}} {
		if err := ReadJSON(filepath.Join(dir, f.name), f.v); err != nil {
			return nil, err
		}
	}
	if tl := &run.Timeline; len(tl.InFlight) != len(tl.Settled) {
		return nil, fmt.Errorf("%s: not valid: in_flight has %d buckets, settled %d", filepath.Join(dir, TimelineFile), len(tl.InFlight), len(tl.Settled))
	}
	run.Timeline.Fit() // a file may hold more buckets than a run writes; plots need no more
	file := filepath.Join(dir, LatencyFile)
	if err := run.Latency.each(func(p string, d *Distribution) error {
		if err := d.validate(); err != nil {
			return fmt.Errorf("%s: %s: %w", file, p, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if run.Info.Scenario != run.Summary.Scenario || run.Info.Seed != run.Summary.Seed {
		return nil, fmt.Errorf("%s: scenario %s seed %d, but %s says %s seed %d: files of different runs",
			filepath.Join(dir, InfoFile), run.Info.Scenario, run.Info.Seed, SummaryFile, run.Summary.Scenario, run.Summary.Seed)
	}
	if bs := run.Timeline.BucketSeconds; bs <= 0 || len(run.Timeline.InFlight) != len(run.Timeline.Settled) {
		return nil, fmt.Errorf("%s: bucket_seconds %g and %d in_flight for %d settled samples: not a timeline",
			filepath.Join(dir, TimelineFile), bs, len(run.Timeline.InFlight), len(run.Timeline.Settled))
	}
	return run, nil
}

// ReadJSON decodes a file strictly: a missing file, bad JSON or an unknown field is named.
func ReadJSON(path string, v any) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: missing (is %s the out directory of a tasksim run?)", path, filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("read %w", err)
	}
	defer f.Close()
	// A run's own files are far smaller; an endless or huge file is refused, not read.
	lr := &io.LimitedReader{R: f, N: MaxJSONBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("%s: larger than %d MiB, the limit for a run's JSON files", path, MaxJSONBytes>>20)
		}
		return fmt.Errorf("%s: not valid: %w", path, err)
	}
	return nil
}

// MaxJSONBytes bounds each JSON file ReadJSON reads.
const MaxJSONBytes = 64 << 20

// ReadSummary loads a summary.json.
func ReadSummary(path string) (*sim.Summary, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: missing (is %s the out directory of a tasksim run?)", path, filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s sim.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a summary.json: %w", path, err)
	}
	return &s, nil
}

// ReplayCommand is the `tasksim run` line that reproduces one seed, quoted for a shell.
func ReplayCommand(source string, seed uint64, sets []string) string {
	parts := []string{"tasksim", "run", shellQuote(source), "--seed", strconv.FormatUint(seed, 10)}
	for _, s := range sets {
		parts = append(parts, "--set", shellQuote(s))
	}
	return strings.Join(parts, " ")
}

// shellQuote leaves plain words alone and single-quotes anything else.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
