package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/latency"
)

// oracle knows the ground truth the participants do not: which worker really crashed or
// paused and when, which executions really ran. From it and the participants' lifecycle
// events it fills the summary. Its memory grows with steps in flight; settled steps keep
// two bits each.
//
// It only watches: it is told what a driver did (submitted a step, started, crashed,
// paused or cut off a worker) and what the participants reported, and knows nothing of
// the driver's own book (step numbering, held submissions, when the run ends) nor of its
// process table, so the kernel and sim/live (through Observer) feed it alike.
type oracle struct {
	cfg *Config
	// total is the number of steps the load submits.
	total int64
	// timelineQuiet: before this instant the timeline opens no bucket (advance per
	// event is then one comparison).
	timelineQuiet time.Duration
	// slots is the slot of each worker process, by NodeID (pool -1: not a worker).
	slots []slotRef

	submitted, settled, completed, failed int64
	attempts                              int64
	retries                               Retries
	timeouts                              Timeouts
	falseDetections, pauseDetections      int64
	partitionDetections                   int64
	duplicateResults, doubleExecutions    int64
	staleResults, earlyTimeouts           int64
	alreadyClaimed, notFound, unavailable int64
	redeliveries, unhealthy               int64
	duplicateDeliveries                   int64
	doublesBy                             [NumDoubleCauses]int64
	droppedInPipe, workersExited          int64
	lastSettle                            time.Duration

	steps       stepTable
	settledBits bitset
	dupBits     bitset

	// executions running now, per worker, and the crash-orphaned ones not yet detected
	running runningTable
	orphans map[model.StepID]orphan // by step: the execution a crash left behind
	crashAt map[model.NodeID]time.Duration
	// exitAt is when each worker that got SIGTERM ended.
	exitAt map[model.NodeID]time.Duration
	// pauses and partitions are the windows each slot spent paused or cut off (a
	// process that starts in a slot during its window is paused or cut off too).
	pauses, partitions map[slotRef][]window
	messages           [16]MessageStat

	sinceLastHeartbeat, sinceCrash *latency.Recorder
	endToEnd, queueWait, execution *latency.Recorder

	timeline   Timeline
	components []ComponentStats
	breakdown  breakdown
}

// stepTruth is 32 bytes, so a step's truth never straddles two cache lines.
type stepTruth struct {
	submitted  time.Duration
	dispatched time.Duration
	claimed    time.Duration
	active     uint32 // copies running now
	// accepted counts the successful results, up to acceptedMax: only "none", "one" and
	// "more than one" matter.
	accepted uint8
	doubled  bool
	// reissued marks what made the step's task be handed out again (bits by DoubleCause):
	// a second copy that starts is explained by the highest-priority one.
	reissued uint16
}

const acceptedMax = 1<<8 - 1

// DoubleCause is what explains a double execution: why a step was handed out again
// while a copy of it still ran. The order is the priority when several apply.
type DoubleCause uint8

const (
	DoublePause        DoubleCause = iota // a pause's heartbeat timeout failed a live copy
	DoublePartition                       // a partition's heartbeat timeout failed a live copy
	DoubleFalse                           // a false detection (heartbeats lost or late) failed it
	DoubleRecovery                        // an orchestrator restart re-dispatched the step
	DoubleRedelivery                      // a jetstream queue redelivered it (ack wait)
	DoubleDuplicate                       // a duplicate_delivery fault handed it to a second worker
	DoubleQueueTimeout                    // its queue deadline fired while a worker held it
	DoubleUnexplained                     // none of these: the same worker took two copies, ...
	NumDoubleCauses
)

var doubleCauseNames = [NumDoubleCauses]string{"pause", "partition", "false detection", "recovery",
	"redelivery", "duplicate delivery", "queue timeout", "unexplained"}

func (c DoubleCause) String() string {
	if c < NumDoubleCauses {
		return doubleCauseNames[c]
	}
	return "DoubleCause(?)"
}

// reissue records that step st was handed out again for cause c.
func (st *stepTruth) reissue(c DoubleCause) {
	if st != nil {
		st.reissued |= 1 << c
	}
}

// doubleCause is the explanation of a step's double execution.
func (st *stepTruth) doubleCause() DoubleCause {
	for c := DoubleCause(0); c < DoubleUnexplained; c++ {
		if st.reissued&(1<<c) != 0 {
			return c
		}
	}
	return DoubleUnexplained
}

type execTruth struct {
	step    model.StepID
	attempt uint32
}

// orphan is an execution whose worker crashed, or cancelled it when SIGTERM's grace ran
// out (terminated): some timer should fail its task.
type orphan struct {
	attempt    uint32
	crashAt    time.Duration
	terminated bool
}

// window is a span of virtual time [from, until).
type window struct{ from, until time.Duration }

// slotRef names a worker slot: pool index and position in the pool.
type slotRef struct {
	pool  int32
	index int
}

// bitset is a growable set of step ids.
type bitset []uint64

func (b *bitset) set(i model.StepID) {
	for int(i>>6) >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[i>>6] |= 1 << (i & 63)
}

func (b bitset) has(i model.StepID) bool {
	return int(i>>6) < len(b) && b[i>>6]&(1<<(i&63)) != 0
}

func newOracle(cfg *Config) *oracle {
	return &oracle{
		cfg:                cfg,
		total:              loadSteps(cfg),
		orphans:            map[model.StepID]orphan{},
		crashAt:            map[model.NodeID]time.Duration{},
		exitAt:             map[model.NodeID]time.Duration{},
		pauses:             map[slotRef][]window{},
		partitions:         map[slotRef][]window{},
		sinceLastHeartbeat: latency.New(),
		sinceCrash:         latency.New(),
		endToEnd:           latency.New(),
		queueWait:          latency.New(),
		execution:          latency.New(),
		timeline:           newTimeline(),
		components:         componentStats(cfg),
		breakdown:          newBreakdown(cfg),
	}
}

func componentStats(cfg *Config) []ComponentStats {
	cs := make([]ComponentStats, len(cfg.Components))
	for i, c := range cfg.Components {
		cs[i].Component = c.Path
		cs[i].Pool = c.Pool
	}
	return cs
}

// component returns the per-component counts of an event's component, or a scratch
// value for events without one.
func (o *oracle) component(c int32) *ComponentStats {
	if c >= 0 && int(c) < len(o.components) {
		return &o.components[c]
	}
	return &ComponentStats{}
}

func (o *oracle) totalSteps() int64 { return o.total }

func loadSteps(cfg *Config) int64 {
	var n int64
	for _, l := range cfg.Load {
		n += int64(l.Tasks)
	}
	return n
}

// allSettled reports whether every step of the scenario's load was submitted and settled.
// The kernel asks after every event, so the load's size is summed once (newOracle).
func (o *oracle) allSettled() bool {
	return o.submitted > 0 && o.settled == o.total
}

// started records that worker process node runs in slot s.
func (o *oracle) started(node model.NodeID, s slotRef) {
	for int(node) >= len(o.slots) {
		o.slots = append(o.slots, slotRef{pool: -1})
	}
	o.slots[node] = s
}

// slotOf returns the slot of worker process node, if it is one.
func (o *oracle) slotOf(node model.NodeID) (slotRef, bool) {
	if node < 0 || int(node) >= len(o.slots) || o.slots[node].pool < 0 {
		return slotRef{}, false
	}
	return o.slots[node], true
}

func (o *oracle) advance(now time.Duration) {
	if now < o.timelineQuiet {
		return // no bucket opens before then: skip the float division of bucket()
	}
	o.timeline.advance(now, o.submitted-o.settled)
	o.timelineQuiet = o.timeline.quietUntil()
}

func (o *oracle) submit(now time.Duration, s model.StepSpec) {
	o.submitted++
	o.steps.put(s.Step).submitted = now
}

// duplicated records that a duplicate_delivery fault handed step's assignment to a
// second worker.
func (o *oracle) duplicated(step model.StepID) {
	o.duplicateDeliveries++
	o.steps.get(step).reissue(DoubleDuplicate)
}

func (o *oracle) message(t model.MsgType, n int) {
	o.messages[t].Count++
	o.messages[t].Bytes += int64(n)
}

func (o *oracle) faultWindow(i int, f *FaultConfig, now time.Duration) {
	end := now + f.For
	switch f.Kind {
	case FaultOrchestratorRestart, FaultQueueRestart:
		end = now + f.Downtime
	case FaultCrash:
		// A crash with a restart is down for a window; without one it is an instant.
		end = now + f.RestartAfter
	}
	o.timeline.Faults = append(o.timeline.Faults, FaultWindow{Kind: string(f.Kind), Start: now.Seconds(), End: end.Seconds()})
}

// paused records that slot s is paused for [from, until).
func (o *oracle) paused(r slotRef, from, until time.Duration) {
	o.pauses[r] = append(o.pauses[r], window{from, until})
}

// cutOff records that slot s is partitioned from the orchestrator for [from, until).
func (o *oracle) cutOff(r slotRef, from, until time.Duration) {
	o.partitions[r] = append(o.partitions[r], window{from, until})
}

// during reports whether one of slot s's windows overlaps the span (after, upTo]: a
// task's silence from its last heartbeat to its timeout.
func during(windows map[slotRef][]window, s slotRef, after, upTo time.Duration) bool {
	for _, x := range windows[s] {
		if x.from <= upTo && x.until > after {
			return true
		}
	}
	return false
}

// crashed records a worker's death; every execution it was running becomes an orphan
// that some timer must fail.
func (o *oracle) crashed(node model.NodeID, now time.Duration) {
	o.crashAt[node] = now
	for _, e := range o.running.of(node) {
		o.endExec(e.step)
		if o.settledBits.has(e.step) {
			continue // a copy of a step that settled already: no timer owes it anything
		}
		// Two copies of one step on the worker: keep the latest attempt, whatever the
		// map's order, so the result does not depend on it.
		if prev, ok := o.orphans[e.step]; !ok || prev.attempt < e.attempt {
			o.orphans[e.step] = orphan{attempt: e.attempt, crashAt: now}
		}
	}
	o.running.clear(node)
}

func (o *oracle) endExec(step model.StepID) {
	if st := o.steps.get(step); st != nil && st.active > 0 {
		st.active--
		if st.active == 0 && o.settledBits.has(step) {
			o.steps.del(step) // the last copy of a settled step ended
		}
	}
}

// observe takes one lifecycle event.
func (o *oracle) observe(now time.Duration, e *model.Event) {
	if e.Discovery {
		if e.Kind == model.EvReply {
			o.countReply(e)
		}
		return
	}
	switch e.Kind {
	case model.EvWorkerExited:
		o.workersExited++
		if e.Reason == model.ExitTerminated {
			o.exitAt[e.Worker] = now
		}
		return
	case model.EvHeartbeatSeen, model.EvClaimed, model.EvTaskDropped, model.EvRetryScheduled, model.EvRecovered, model.EvStepSubmitted:
		if e.Kind != model.EvClaimed {
			return
		}
	case model.EvReply:
		o.countReply(e)
		return
	}
	st := o.steps.get(e.Step)
	switch e.Kind {
	case model.EvDispatched:
		o.attempts++
		cs := o.component(e.Component)
		switch e.Reason {
		case model.DispatchTransport:
			o.retries.Transport++
			cs.RetriesTransport++
		case model.DispatchComponent:
			o.retries.Component++
			cs.RetriesComponent++
		case model.DispatchRecovery:
			o.retries.Recovery++
			cs.RetriesRecovery++
			st.reissue(DoubleRecovery)
			// Recovery re-dispatches what a crash orphaned: no timer will fail it now.
			delete(o.orphans, e.Step)
		}
		if st != nil {
			st.dispatched = now
		}
	case model.EvDelivered:
		if e.Reason == model.DeliveryRedelivery {
			o.redeliveries++
			o.steps.get(e.Step).reissue(DoubleRedelivery)
		}
	case model.EvClaimed:
		if st != nil {
			st.claimed = now
			o.queueWait.Record(now - st.dispatched)
		}
	case model.EvTimedOut:
		o.timedOut(now, e)
	case model.EvCompleted:
		if e.Attempt < e.CurrentAttempt {
			o.staleResults++
		}
		if st == nil {
			if e.ErrorCode == model.ErrUnspecified && o.settledBits.has(e.Step) && !o.dupBits.has(e.Step) {
				o.dupBits.set(e.Step)
				o.duplicateResults++
			}
			return
		}
		if e.ErrorCode != model.ErrUnspecified {
			// An error result ends an attempt, not the step: a retry may follow.
			return
		}
		if st.accepted < acceptedMax {
			st.accepted++
		}
		if st.accepted == 2 {
			o.duplicateResults++
			o.dupBits.set(e.Step)
		}
		if st.claimed > 0 || st.dispatched > 0 {
			from := st.claimed
			if from < st.dispatched {
				from = st.dispatched
			}
			o.execution.Record(now - from)
		}
	case model.EvStepSettled:
		if st == nil {
			return
		}
		o.settled++
		o.lastSettle = now
		o.timeline.settle(now)
		cs := o.component(e.Component)
		if e.Reason == model.SettledCompleted {
			o.completed++
			cs.Success++
			o.endToEnd.Record(now - st.submitted)
			o.breakdown.completed(e.Component, now-st.submitted)
		} else {
			o.failed++
			cs.Failure++
			switch e.ErrorCode {
			case model.ErrTimeout, model.ErrUnreachable:
				cs.ExhaustedTransport++
			case model.ErrComponentFailed, model.ErrResourceUnavailable:
				if o.cfg.Components[e.Component].Retriable {
					cs.ExhaustedComponent++
				}
			}
		}
		o.settledBits.set(e.Step)
		if st.accepted >= 2 {
			o.dupBits.set(e.Step)
		}
		// Keep the step's truth while executions of it still run, so doubles are seen.
		if st.active == 0 {
			o.steps.del(e.Step)
		}
		delete(o.orphans, e.Step)
	case model.EvUnhealthy:
		o.unhealthy++
		o.component(e.Component).Unhealthy++
	case model.EvExecStarted:
		o.running.add(e.Node, e.Exec, execTruth{e.Step, e.Attempt})
		if st == nil {
			// A step that settled already is running again: a copy nobody needed.
			if o.settledBits.has(e.Step) {
				st = o.steps.put(e.Step)
			} else {
				return
			}
		}
		st.active++
		if st.active >= 2 && !st.doubled {
			st.doubled = true
			o.doubleExecutions++
			o.doublesBy[st.doubleCause()]++
		}
	case model.EvExecEnded:
		if o.running.remove(e.Node, e.Exec) {
			o.endExec(e.Step)
		}
		if e.Reason == model.ExecCancelled && !o.settledBits.has(e.Step) {
			// SIGTERM's grace ran out: the worker stopped it and sends nothing more, so
			// only a timer can fail it, as after a crash.
			if prev, ok := o.orphans[e.Step]; !ok || prev.attempt <= e.Attempt {
				o.orphans[e.Step] = orphan{attempt: e.Attempt, crashAt: now, terminated: true}
			}
		}
	case model.EvReply:
		o.countReply(e)
	}
}

func (o *oracle) countReply(e *model.Event) {
	switch {
	case e.Code == model.CodeNotFound:
		o.notFound++
	case e.Code == model.CodeUnavailable:
		o.unavailable++
	case e.Code == model.CodeOK && e.Status == model.StatusAlreadyClaimed:
		o.alreadyClaimed++
	}
}

// timedOut classifies a timer's failure of a task against the ground truth.
func (o *oracle) timedOut(now time.Duration, e *model.Event) {
	if e.DeadlineAttempt < e.Attempt {
		o.earlyTimeouts++
	}
	orph, orphaned := o.orphans[e.Step]
	orphaned = orphaned && orph.attempt == e.Attempt
	if orphaned {
		// Any timer failing a crash-orphaned task counts as its detection.
		delete(o.orphans, e.Step)
	}
	cs := o.component(e.Component)
	switch e.Reason {
	case model.TimeoutQueue:
		o.steps.get(e.Step).reissue(DoubleQueueTimeout)
		o.timeouts.Queue++
		cs.QueueTimeouts++
	case model.TimeoutExecution:
		o.timeouts.Execution++
		cs.ExecutionTimeouts++
	case model.TimeoutHeartbeat:
		o.timeouts.Heartbeat++
		cs.HeartbeatTimeouts++
		o.sinceLastHeartbeat.Record(now - e.LastSeen)
		cause := o.heartbeatTimeoutCause(now, e, orphaned, orph)
		o.breakdown.detected(cause, now-e.LastSeen)
		switch cause {
		case CausePause:
			o.steps.get(e.Step).reissue(DoublePause)
		case CausePartition:
			o.steps.get(e.Step).reissue(DoublePartition)
		case CauseFalse:
			o.steps.get(e.Step).reissue(DoubleFalse)
		}
	}
}

// heartbeatTimeoutCause classifies a heartbeat timeout against the ground truth, exactly
// once: timeouts.heartbeat = since_crash.count + false + pause + partition detections. The
// claimant is the worker whose first heartbeat claimed the task. Its silence is the span
// from the last heartbeat that arrived (the claim, for a task failed during its claim) to
// the timeout. In order: the claimant had crashed (or the task's execution was orphaned
// by a crash); a pause overlapped the silence; a partition overlapped it; otherwise the
// claimant was alive and reachable all along and its heartbeats were lost or late, or
// it had stopped sending them for a task still tracked: a false detection.
func (o *oracle) heartbeatTimeoutCause(now time.Duration, e *model.Event, orphaned bool, orph orphan) DetectionCause {
	if orphaned {
		o.sinceCrash.Record(now - orph.crashAt)
		if orph.terminated {
			return CauseTerminate
		}
		return CauseCrash
	}
	if at, dead := o.crashAt[e.Worker]; dead {
		o.sinceCrash.Record(now - at)
		return CauseCrash
	}
	if at, gone := o.exitAt[e.Worker]; gone {
		// It ended after SIGTERM without completing this task (its grace ran out, or it
		// gave up the task's claim or CompleteTask): the process is gone, as after a crash.
		o.sinceCrash.Record(now - min(at, now))
		return CauseTerminate
	}
	if s, ok := o.slotOf(e.Worker); ok {
		if during(o.pauses, s, e.LastSeen, now) {
			o.pauseDetections++
			return CausePause
		}
		if during(o.partitions, s, e.LastSeen, now) {
			o.partitionDetections++
			return CausePartition
		}
	}
	o.falseDetections++
	return CauseFalse
}

func quantiles(r *latency.Recorder) Quantiles {
	if r.Count() == 0 {
		return Quantiles{}
	}
	return Quantiles{
		Count: r.Count(),
		Min:   r.Min().Seconds(),
		P50:   r.Quantile(0.50).Seconds(),
		P90:   r.Quantile(0.90).Seconds(),
		P99:   r.Quantile(0.99).Seconds(),
		Max:   r.Max().Seconds(),
	}
}

// result builds the run's result at now, the end of the run, with the pools' gauges.
func (o *oracle) result(now time.Duration, pools []PoolStats) *Result {
	o.timeline.finish(now, o.submitted-o.settled)
	steps := o.totalSteps()
	s := Summary{
		Scenario:            o.cfg.Name,
		Seed:                o.cfg.Seed,
		VirtualDuration:     o.lastSettle.Seconds(),
		Steps:               steps,
		Completed:           o.completed,
		Failed:              o.failed,
		Lost:                steps - o.completed - o.failed,
		Attempts:            o.attempts,
		Retries:             o.retries,
		Timeouts:            o.timeouts,
		FalseDetections:     o.falseDetections,
		PauseDetections:     o.pauseDetections,
		PartitionDetections: o.partitionDetections,
		MissedDetections:    int64(len(o.orphans)),
		DuplicateResults:    o.duplicateResults,
		DoubleExecutions:    o.doubleExecutions,
		StaleResults:        o.staleResults,
		EarlyTimeouts:       o.earlyTimeouts,
		AlreadyClaimed:      o.alreadyClaimed,
		NotFound:            o.notFound,
		Unavailable:         o.unavailable,
		Redeliveries:        o.redeliveries,
		DroppedInPipe:       o.droppedInPipe,
		WorkersExited:       o.workersExited,
		Mode:                "sim",
		UnhealthyComponents: o.unhealthy,
		Detection: Detection{
			SinceLastHeartbeat: quantiles(o.sinceLastHeartbeat),
			SinceCrash:         quantiles(o.sinceCrash),
		},
		Latency: Latencies{
			EndToEnd:  quantiles(o.endToEnd),
			QueueWait: quantiles(o.queueWait),
			Execution: quantiles(o.execution),
		},
		Messages: map[string]MessageStat{},
	}
	if steps > 0 {
		s.CompletedRatio = float64(o.completed) / float64(steps)
	}
	if s.VirtualDuration == 0 {
		s.VirtualDuration = now.Seconds()
	}
	for t := model.MsgType(1); t < model.MsgType(len(o.messages)); t++ {
		if t.OnWire() && t.String() != "MsgType(?)" {
			s.Messages[t.String()] = o.messages[t]
		}
	}
	return &Result{
		Summary:                     s,
		Timeline:                    o.timeline,
		DetectionSinceLastHeartbeat: o.sinceLastHeartbeat,
		DetectionSinceCrash:         o.sinceCrash,
		EndToEnd:                    o.endToEnd,
		QueueWait:                   o.queueWait,
		Execution:                   o.execution,
		Breakdown:                   o.breakdown.result(),
		DoubleExecutionCauses:       o.doublesBy,
		Metrics:                     RunMetrics{DuplicateDeliveries: o.duplicateDeliveries, Components: o.components, Pools: pools},
	}
}
