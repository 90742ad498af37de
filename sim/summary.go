package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Summary is summary.json (SCENARIOS.md): what a run proved and measured. Durations are
// float seconds. Everything but Perf is a function of the scenario and seed alone.
type Summary struct {
	Scenario  string `json:"scenario"`
	Seed      uint64 `json:"seed"`
	TraceHash string `json:"trace_hash"`
	// Mode is "sim" for a simulation, "live" for a run on real sockets.
	Mode string `json:"mode"`
	// Pass is true when every expectation held (Check sets it; no expectations hold
	// vacuously).
	Pass            bool    `json:"pass"`
	VirtualDuration float64 `json:"virtual_duration"`

	Steps          int64   `json:"steps"`
	Completed      int64   `json:"completed"`
	Failed         int64   `json:"failed"`
	Lost           int64   `json:"lost"`
	CompletedRatio float64 `json:"completed_ratio"`

	Attempts int64    `json:"attempts"`
	Retries  Retries  `json:"retries"`
	Timeouts Timeouts `json:"timeouts"`

	Detection Detection `json:"detection"`

	FalseDetections int64 `json:"false_detections"`
	PauseDetections int64 `json:"pause_detections"`
	// PartitionDetections: failed while the worker was alive but cut off by a partition.
	PartitionDetections int64 `json:"partition_detections"`
	MissedDetections    int64 `json:"missed_detections"`

	DuplicateResults int64 `json:"duplicate_results"`
	DoubleExecutions int64 `json:"double_executions"`
	StaleResults     int64 `json:"stale_results"`
	EarlyTimeouts    int64 `json:"early_timeouts"`

	AlreadyClaimed int64 `json:"already_claimed"`
	NotFound       int64 `json:"not_found"`
	Unavailable    int64 `json:"unavailable"`
	Redeliveries   int64 `json:"redeliveries"`
	// DroppedInPipe counts assignments dropped because the stream carrying them broke.
	DroppedInPipe int64 `json:"dropped_in_pipe"`
	// WorkersExited counts worker processes that gave up reconnecting or ended on SIGTERM.
	WorkersExited int64 `json:"workers_exited"`

	UnhealthyComponents int64 `json:"unhealthy_components"`

	Latency  Latencies              `json:"latency"`
	Messages map[string]MessageStat `json:"messages"`
	Perf     Perf                   `json:"perf"`
	// Live is there for a run on real sockets only (mode live).
	Live *LiveStats `json:"live,omitempty"`
	// Unknown lists the paths (or subtrees) this run has no ground truth for: a live run
	// that sees only one side. summary.json writes them as null, and an expectation on
	// one fails saying why.
	Unknown []string `json:"-"`

	Expectations []ExpectationResult `json:"expectations"`
}

// LiveStats are what a run on real sockets adds: how far the harness itself fell behind.
type LiveStats struct {
	// HarnessLag is how late the participants' timers fired against when they were due
	// (wall clock, like perf: a loaded machine shows here, never in the model's numbers).
	HarnessLag Quantiles `json:"harness_lag"`
	// Warning says, when the lag was large enough to distort detection figures, by how
	// much; empty otherwise.
	Warning string `json:"warning,omitempty"`
	// JetStream holds each pool's queue as its NATS server reported it at the end of a
	// run with queue.kind jetstream.
	JetStream []JetStreamStats `json:"jetstream,omitempty"`
}

// JetStreamStats is one pool's stream and consumer, read back from the NATS server.
type JetStreamStats struct {
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	// Pending messages wait for their first delivery; AckPending were delivered and not
	// acknowledged; Redelivered wait for another delivery after their ack wait ran out.
	Pending     int64 `json:"pending"`
	AckPending  int64 `json:"ack_pending"`
	Redelivered int64 `json:"redelivered"`
	// DispatchStall is the longest an assignment waited between the orchestrator
	// handing it to the queue and the stream storing it, in seconds: how long dispatch
	// stalled while the server restarted or a cluster elected a new stream leader.
	DispatchStall float64 `json:"dispatch_stall"`
}

// Retries counts assignments beyond each step's first, by why they were made.
type Retries struct {
	Transport int64 `json:"transport"`
	Component int64 `json:"component"`
	Recovery  int64 `json:"recovery"`
}

// Timeouts counts tasks failed by each timer.
type Timeouts struct {
	Queue     int64 `json:"queue"`
	Heartbeat int64 `json:"heartbeat"`
	Execution int64 `json:"execution"`
}

// Detection holds heartbeat-timeout detection latencies.
type Detection struct {
	SinceLastHeartbeat Quantiles `json:"since_last_heartbeat"`
	SinceCrash         Quantiles `json:"since_crash"`
}

// Latencies are per-step and per-attempt latencies.
type Latencies struct {
	EndToEnd  Quantiles `json:"end_to_end"`
	QueueWait Quantiles `json:"queue_wait"`
	Execution Quantiles `json:"execution"`
}

// Quantiles summarises a latency distribution in seconds. Min and max are exact.
type Quantiles struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// MessageStat is the traffic of one protobuf message type.
type MessageStat struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Perf holds wall-clock figures. They never enter the trace hash.
type Perf struct {
	WallSeconds          float64 `json:"wall_seconds"`
	Events               int64   `json:"events"`
	EventsPerSecond      float64 `json:"events_per_second"`
	VirtualPerWallSecond float64 `json:"virtual_seconds_per_wall_second"`
	// The codec figures time one call in CodecTimedEvery, always a full encode or
	// decode through protobuf messages: the payload Value is walked and sorted (encode)
	// or rebuilt (decode) in each of them. The untimed calls take the direct path
	// (wiremap.Direct: the same bytes, written from and read into the model's message).
	CodecNsPerMessage   float64 `json:"codec_ns_per_message"`
	CodecMBPerSecond    float64 `json:"codec_mb_per_second"`
	CodecEncodeNsPerMsg float64 `json:"codec_encode_ns_per_message"`
	CodecDecodeNsPerMsg float64 `json:"codec_decode_ns_per_message"`
	// CodecReusedValues counts the untimed encodes and decodes that copied the payload
	// Value's bytes, encoded once (it never changes), instead of walking the Value.
	CodecReusedValues int64 `json:"codec_reused_values,omitempty"`
	// CodecTimedEvery is how many codec calls there were for each timed one (0: none).
	CodecTimedEvery int64 `json:"codec_timed_every,omitempty"`
	PeakHeapBytes   int64 `json:"peak_heap_bytes"`
}

// ExpectationResult is one checked `expect:` line.
type ExpectationResult struct {
	Expr     string  `json:"expr"`
	Observed float64 `json:"observed"`
	OK       bool    `json:"ok"`
	// Why explains an expectation that could not be checked.
	Why string `json:"why,omitempty"`
}

// IsUnknown reports whether path lies in one of the summary's Unknown subtrees.
func (s *Summary) IsUnknown(path string) bool {
	for _, u := range s.Unknown {
		if path == u || strings.HasPrefix(path, u+".") {
			return true
		}
	}
	return false
}

// MessageTypes are the message types counted under `messages.<Type>`, by short name.
var MessageTypes = []string{
	"PullTasksRequest",
	"TaskAssignment",
	"TaskHeartbeatRequest",
	"TaskHeartbeatResponse",
	"CompleteTaskRequest",
	"CompleteTaskResponse",
}

// summaryPaths lists every numeric path an expectation may read, sorted.
var summaryPaths = func() []string {
	var paths []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, child)
			}
		case float64:
			paths = append(paths, prefix)
		}
	}
	s := Summary{Messages: map[string]MessageStat{}}
	for _, t := range MessageTypes {
		s.Messages[t] = MessageStat{}
	}
	walk("", toTree(&s))
	sort.Strings(paths)
	return paths
}()

// SummaryPaths returns every numeric summary.json path, sorted; callers must not modify it.
func SummaryPaths() []string { return summaryPaths }

// IsSummaryPath reports whether path names a number in summary.json.
func IsSummaryPath(path string) bool {
	i := sort.SearchStrings(summaryPaths, path)
	return i < len(summaryPaths) && summaryPaths[i] == path
}

// Value returns the number at a dotted summary.json path.
func (s *Summary) Value(path string) (float64, error) {
	var node any = toTree(s)
	for _, part := range strings.Split(path, ".") {
		m, ok := node.(map[string]any)
		if !ok {
			return 0, fmt.Errorf("summary path %q: %q is not an object", path, part)
		}
		if node, ok = m[part]; !ok {
			return 0, fmt.Errorf("summary path %q: no field %q", path, part)
		}
	}
	f, ok := node.(float64)
	if !ok {
		return 0, fmt.Errorf("summary path %q is not a number", path)
	}
	return f, nil
}

// toTree turns the summary into generic JSON values so that paths can be walked.
func toTree(s *Summary) any {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("summary does not marshal: %v", err)) // plain structs: cannot happen
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		panic(fmt.Sprintf("summary does not unmarshal: %v", err))
	}
	return tree
}

// Check evaluates expectations against the summary, records each in s.Expectations, and
// reports whether all held. A path that does not exist fails with an error: the loader
// should have rejected it.
func (s *Summary) Check(exps []Expectation) (bool, error) {
	all := true
	s.Expectations = s.Expectations[:0]
	for _, e := range exps {
		if s.IsUnknown(e.Path) {
			all = false
			s.Expectations = append(s.Expectations, ExpectationResult{Expr: e.Expr, OK: false,
				Why: fmt.Sprintf("%s is null: a %s run does not see that side", e.Path, s.Mode)})
			continue
		}
		v, err := s.Value(e.Path)
		if err != nil {
			return false, fmt.Errorf("expectation %q: %w", e.Expr, err)
		}
		ok := e.Holds(v)
		all = all && ok
		s.Expectations = append(s.Expectations, ExpectationResult{Expr: e.Expr, Observed: v, OK: ok})
	}
	s.Pass = all
	return all, nil
}
