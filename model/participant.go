package model

import "time"

// Participant is one protocol process as a driver runs it: the orchestrator, a worker, the
// JetStream queue. The driver starts it, hands it every message that reaches it and every
// timer of its own that comes due, each with the current time, and carries out the Effects
// it answers with. Both drivers (the simulator's kernel and sim/live) hold their processes
// as Participants, so neither needs to know which one a message is for to deliver it.
//
// A crash is the driver's: the process's timers and connections die, and it receives
// nothing more. Only a participant that comes back on the same node after a crash (the
// orchestrator) implements Restarter.
type Participant interface {
	// Start is the process start.
	Start(now time.Duration, out *Effects)
	// Receive handles a message addressed to the participant.
	Receive(now time.Duration, m Message, out *Effects)
	// Fire handles one of the participant's timers.
	Fire(now time.Duration, id TimerID, out *Effects)
}

// Restarter is a participant that survives a crash as a restart of the same node: Crash
// loses its in-memory state (and the driver its timers); Restart brings it back from what
// it keeps durably.
type Restarter interface {
	Participant
	Crash()
	Restart(now time.Duration, out *Effects)
}

// AssignmentSource is the node a worker's assignment stream comes from (the orchestrator
// with a pull queue, the JetStream queue otherwise): the driver tells it when a worker's
// connection breaks, and reads its per-pool gauges.
type AssignmentSource interface {
	Participant
	// Disconnect says worker's connection broke: nothing more is sent to it.
	Disconnect(now time.Duration, worker NodeID, out *Effects)
	// QueueDepth reports the assignments of pool waiting for delivery.
	QueueDepth(pool int32) int
	// ConnectedWorkers reports the workers of pool connected to the source.
	ConnectedWorkers(pool int32) int
}

// Start is the queue server's start: it has nothing to do until the orchestrator
// publishes or a worker subscribes.
func (q *JetStreamQueue) Start(time.Duration, *Effects) {}

// The drivers rely on these.
var (
	_ Restarter        = (*Orchestrator)(nil)
	_ AssignmentSource = (*Orchestrator)(nil)
	_ AssignmentSource = (*JetStreamQueue)(nil)
	_ Participant      = (*Worker)(nil)
)

// Deliver hands m to p as its receiver gets it, without Truth, and then attaches m's
// Truth to the observed effects of p's answer (AttachTruth). Every driver delivers
// through it, so no participant can lean on what the wire does not carry.
func Deliver(p Participant, now time.Duration, m Message, out *Effects) {
	truth := m.Truth
	m.Truth = Truth{}
	p.Receive(now, m, out)
	m.Truth = truth
	AttachTruth(&m, out)
}
