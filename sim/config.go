package sim

import (
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
)

// Config is one experiment, fully typed and with every default filled in. The scenarios
// package builds it from a scenario file (SCENARIOS.md); the simulator only reads it.
type Config struct {
	Name        string
	Description string
	Seed        uint64
	// Duration caps virtual time; a run ends earlier once every step has settled.
	Duration     time.Duration
	Orchestrator OrchestratorConfig
	Network      NetworkConfig
	Queue        QueueConfig
	Workers      []PoolConfig
	Components   []ComponentConfig
	Load         []LoadConfig
	Faults       []FaultConfig
	Expect       []Expectation
}

// TaskIDs is how task ids relate to attempts.
type TaskIDs string

const (
	TaskIDsReuse      TaskIDs = "reuse"       // one id per step (the reference)
	TaskIDsPerAttempt TaskIDs = "per_attempt" // a fresh id per attempt
)

// OrchestratorConfig is the `orchestrator:` section.
type OrchestratorConfig struct {
	Detector            model.Detector
	HeartbeatTimeout    time.Duration
	HeartbeatInterval   time.Duration
	QueueTimeout        time.Duration
	ExecutionTimeout    time.Duration // 0 = none
	MaxTransportRetries int
	MaxComponentRetries int
	Backoff             model.Backoff
	TaskIDs             TaskIDs
	Discovery           bool // on_connect = true, off = false
	UnhealthyAfter      int
	// MaxTasksPerRun caps a run's steps in flight (orchestrator.max_tasks_per_run, the
	// reference's 10); the others wait in the run, not in the queue. 0 = no cap.
	MaxTasksPerRun int
	// ScanDuration and RecoveryTime are tasksim's additions to the format: how long one
	// scan of the scan detector takes (heartbeats landing during it are wiped, hazard 2),
	// and how long a run's recovery takes after an orchestrator restart.
	ScanDuration time.Duration
	RecoveryTime time.Duration
}

// NetworkConfig is the `network:` section; it applies to every worker link, both ways.
type NetworkConfig struct {
	Latency   Dist
	Loss      float64
	Duplicate float64
	Wire      bool
	// RPCTimeout is the strict flavour's deadline on each RPC; the reference SDKs set none.
	RPCTimeout time.Duration
	// LossModel says what a lost message is: retransmit (gRPC over TCP, the default) delays
	// it by RetransmitAfter, doubling for each further loss; drop loses it for good. It
	// also says what a blackhole partition does to a message: holds it until the heal
	// (retransmit) or drops it (drop).
	LossModel       LossModel
	RetransmitAfter time.Duration
}

// LossModel is network.loss_model.
type LossModel string

const (
	LossRetransmit LossModel = "retransmit"
	LossDrop       LossModel = "drop"
)

// DefaultRetransmitAfter is Linux TCP's minimum retransmission timeout.
const DefaultRetransmitAfter = 200 * time.Millisecond

// QueueKind is how assignments reach workers.
type QueueKind string

const (
	QueuePull      QueueKind = "pull"
	QueueJetStream QueueKind = "jetstream"
)

// QueueConfig is the `queue:` section.
type QueueConfig struct {
	Kind    QueueKind
	AckWait time.Duration
	// PipeBytes bounds a pull stream's pipe: encoded assignments sent to one worker and
	// not yet read by it, as HTTP/2 flow control admits them (PROTOCOL.md).
	PipeBytes int
}

// DefaultPipeBytes is queue.pipe_bytes' default: what grpcio's BDP-probed window admitted
// on loopback (4 MiB, 7,109 assignments of 585 B).
const DefaultPipeBytes = 4 << 20

// AckPoint is when a jetstream worker acknowledges an assignment.
type AckPoint string

const (
	AckOnReceipt  AckPoint = "on_receipt"
	AckOnComplete AckPoint = "on_complete"
)

// PoolConfig is one entry of `workers:`.
type PoolConfig struct {
	Pool              string
	Count             int
	Flavour           model.Flavour
	Concurrency       int
	Ack               AckPoint
	HeartbeatInterval time.Duration // 0 = the assignment's suggestion
	ClockDrift        float64       // 0.1 = this pool's timers run 10% slow
	Start             Dist
}

// ComponentConfig is one entry of `components:`.
type ComponentConfig struct {
	Path string
	// ComponentID is what goes on the wire as component_id; "" means Path (format v1.1).
	ComponentID string
	// Input is a literal input Value sent in every assignment of the component (real
	// workers need one they can run); nil means a generated Value of the load's payload
	// size.
	Input     *structpb.Value
	Pool      string
	Duration  Dist
	ErrorRate float64
	// Errors are the shares of the exception kinds a failing execution raises, indexed by
	// model.ComponentError; they sum to 1. Each flavour maps a kind to its error code
	// (model.FlavourPolicy.ErrorCodes). The zero value means all ValueError.
	Errors    [model.NumComponentErrors]float64
	Retriable bool
}

// WireID is the component's component_id on the wire.
func (c *ComponentConfig) WireID() string {
	if c.ComponentID != "" {
		return c.ComponentID
	}
	return c.Path
}

// ComponentIDs lists the wire ids of the scenario's components, in order.
func ComponentIDs(cfg *Config) []string {
	ids := make([]string, len(cfg.Components))
	for i := range cfg.Components {
		ids[i] = cfg.Components[i].WireID()
	}
	return ids
}

// ComponentInputs lists each component's literal input, nil where it has none.
func ComponentInputs(cfg *Config) []*structpb.Value {
	var in []*structpb.Value
	for i, c := range cfg.Components {
		if c.Input != nil {
			if in == nil {
				in = make([]*structpb.Value, len(cfg.Components))
			}
			in[i] = c.Input
		}
	}
	return in
}

// RaisedKind picks the exception kind of a failed execution of c. Only a component with
// several kinds calls draw (one uniform number in [0, 1)), so scenarios without `errors`
// consume the random stream exactly as before.
func (c *ComponentConfig) RaisedKind(draw func() float64) model.ComponentError {
	kinds := 0
	last := model.ErrorValue
	for k, share := range c.Errors {
		if share > 0 {
			kinds++
			last = model.ComponentError(k)
		}
	}
	if kinds <= 1 {
		return last
	}
	u := draw()
	for k, share := range c.Errors {
		if share <= 0 {
			continue
		}
		if u < share {
			return model.ComponentError(k)
		}
		u -= share
	}
	return last
}

// Arrival is a load stream's arrival process.
type Arrival string

const (
	ArrivalPoisson  Arrival = "poisson"
	ArrivalConstant Arrival = "constant"
	ArrivalBurst    Arrival = "burst"
)

// LoadConfig is one entry of `load:`.
type LoadConfig struct {
	Component    string
	Tasks        int
	Arrival      Arrival
	RatePerSec   float64 // poisson and constant
	At           time.Duration
	PayloadBytes int
	// StepsPerRun groups consecutive steps of the stream into one run (default 1).
	StepsPerRun int
}

// DefaultMaxTasksPerRun is Stepflow's FlowExecutorBuilder default max_concurrency.
const DefaultMaxTasksPerRun = 10

// DistKind names a distribution of durations.
type DistKind string

const (
	DistConstant    DistKind = "constant"
	DistUniform     DistKind = "uniform"
	DistExponential DistKind = "exponential"
	DistLognormal   DistKind = "lognormal"
	DistPareto      DistKind = "pareto"
)

// Dist is a distribution of durations; which fields matter depends on Kind.
type Dist struct {
	Kind   DistKind
	Value  time.Duration // constant
	Min    time.Duration // uniform, pareto
	Max    time.Duration // uniform
	Mean   time.Duration // exponential
	Median time.Duration // lognormal
	P99    time.Duration // lognormal
	Alpha  float64       // pareto
}

// FaultKind names what a fault does.
type FaultKind string

const (
	FaultCrash               FaultKind = "crash"
	FaultHeartbeatLoss       FaultKind = "heartbeat_loss"
	FaultPartition           FaultKind = "partition"
	FaultPause               FaultKind = "pause"
	FaultDuplicateDelivery   FaultKind = "duplicate_delivery"
	FaultOrchestratorRestart FaultKind = "orchestrator_restart"
	// FaultQueueRestart restarts the JetStream queue's server on its store (queue.kind
	// jetstream): for Downtime nothing is published, fetched or acknowledged.
	FaultQueueRestart FaultKind = "queue_restart"
	// FaultTerminate sends SIGTERM to the target workers: each shuts down gracefully as
	// its flavour does (model.Worker.Terminate) and then exits; no restart.
	FaultTerminate FaultKind = "terminate"
)

// FaultConfig is one entry of `faults:`. Target picks workers of one pool.
type FaultConfig struct {
	Kind         FaultKind
	At           time.Duration
	For          time.Duration // windowed faults: heartbeat_loss, partition, pause, duplicate_delivery
	Target       Target        // every kind but orchestrator_restart
	Rate         float64       // heartbeat_loss, duplicate_delivery
	RestartAfter time.Duration // crash: 0 = stays down
	Downtime     time.Duration // orchestrator_restart, queue_restart
	Mode         PartitionMode // partition: blackhole (the default) or reset
}

// PartitionMode is what a partition does to the connections it cuts (SCENARIOS.md v1.1).
type PartitionMode string

const (
	// PartitionBlackhole: every packet both ways vanishes until the heal; TCP
	// retransmits, so a call without a deadline hangs and completes late after the heal.
	// A blackhole that outlasts TCPGiveUp breaks the connections then, as a reset does.
	PartitionBlackhole PartitionMode = "blackhole"
	// PartitionReset: the connections break at once; every call on them, and every call
	// made until the heal, fails UNAVAILABLE at once; pull streams drop their pipes and
	// the workers reconnect as their flavour does.
	PartitionReset PartitionMode = "reset"
)

// TCPGiveUp is how long Linux TCP retransmits unacknowledged data before it declares the
// connection dead (tcp_retries2 = 15 with a 200ms minimum RTO doubling to its 120s cap:
// 0.2+0.4+...+102.4 s, then 6 x 120 s). Neither SDK enables keepalive, so this is when a
// call caught in a blackhole finally fails.
const TCPGiveUp = 924600 * time.Millisecond

// Target selects workers of a pool: by Fraction, by Count, or by name (Workers, "pool-N",
// 0-based N in start order). Exactly one of the three is set; none means the whole pool.
type Target struct {
	Pool     string
	Fraction float64
	Count    int
	Workers  []string
}

// Expectation is one `expect:` line, parsed: Path is a summary.json path, Value is in the
// summary's units (seconds for durations, a ratio for percentages).
type Expectation struct {
	Expr  string
	Path  string
	Op    string // == != < <= > >=
	Value float64
}

// Holds reports whether observed satisfies the expectation.
func (e Expectation) Holds(observed float64) bool {
	switch e.Op {
	case "==":
		return observed == e.Value
	case "!=":
		return observed != e.Value
	case "<":
		return observed < e.Value
	case "<=":
		return observed <= e.Value
	case ">":
		return observed > e.Value
	case ">=":
		return observed >= e.Value
	}
	return false
}
