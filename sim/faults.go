package sim

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tasksim/tasksim/model"
)

// faultTargets remembers which slots a windowed fault hit, to undo it at the window's end.
type faultTargets map[int][]*slot

func (w *world) poolIndex(name string) int32 {
	for i, p := range w.cfg.Workers {
		if p.Pool == name {
			return int32(i)
		}
	}
	return -1
}

// pick chooses the slots a fault hits. Random choices come from the faults stream, over
// candidates in slot order, so the choice is reproducible.
func (w *world) pick(t Target, liveOnly bool) []*slot {
	pool := w.poolIndex(t.Pool)
	if pool < 0 {
		return nil
	}
	var cands []*slot
	for _, s := range w.slots[pool] {
		if !liveOnly || (s.current != nil && s.current.alive) {
			cands = append(cands, s)
		}
	}
	if len(t.Workers) > 0 {
		var chosen []*slot
		for _, name := range t.Workers {
			i := strings.LastIndexByte(name, '-')
			n, err := strconv.Atoi(name[i+1:])
			if i < 0 || err != nil || n < 0 || n >= len(w.slots[pool]) {
				continue // the loader already rejected such names
			}
			s := w.slots[pool][n]
			if !liveOnly || (s.current != nil && s.current.alive) {
				chosen = append(chosen, s)
			}
		}
		return chosen
	}
	n := len(cands)
	switch {
	case t.Count > 0:
		n = min(t.Count, len(cands))
	case t.Fraction > 0:
		n = min(int(math.Round(t.Fraction*float64(len(w.slots[pool])))), len(cands))
	}
	// A partial Fisher-Yates shuffle picks n of them.
	for i := 0; i < n; i++ {
		j := i + w.rFaults.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return cands[:n]
}

func (w *world) faultStart(i int) error {
	f := &w.cfg.Faults[i]
	w.hash.Event(int64(w.now), uint8(evFaultStart), int32(i), 0, 0, 0, nil)
	w.oracle.faultWindow(i, f, w.now)
	switch f.Kind {
	case FaultOrchestratorRestart:
		return w.orchestratorDown(f)
	case FaultQueueRestart:
		// The server restarts on its store: its streams, consumers and unacknowledged
		// messages survive; while it is down nothing reaches it (see send).
		w.queueDownUntil = max(w.queueDownUntil, w.now+f.Downtime)
		return nil
	case FaultTerminate:
		for _, s := range w.pick(f.Target, true) {
			if err := w.terminate(s.current); err != nil {
				return err
			}
		}
		return nil
	case FaultCrash:
		for _, s := range w.pick(f.Target, true) {
			if err := w.crash(s.current); err != nil {
				return err
			}
			if f.RestartAfter > 0 {
				w.push(w.now+f.RestartAfter, event{kind: evWorkerStart, a: uint32(int(s.pool)<<20 | s.index)})
			}
		}
		return nil
	}
	targets := w.pick(f.Target, false)
	if w.faultHits == nil {
		w.faultHits = faultTargets{}
	}
	w.faultHits[i] = targets
	for _, s := range targets {
		switch f.Kind {
		case FaultHeartbeatLoss:
			s.hbLoss = f.Rate
			w.hbLossOn = true
		case FaultPartition:
			if s.partitioned == 0 {
				w.partitionedSlots++
			}
			s.partitioned++
			s.healAt = max(s.healAt, w.now+f.For)
			w.oracle.cutOff(slotRef{s.pool, s.index}, w.now, windowEnd(w.now, f.For))
			if f.Mode == PartitionReset {
				s.resets++
				if err := w.breakConnection(s.current, 0); err != nil {
					return err
				}
			}
		case FaultPause:
			w.pausing = true
			if until := w.now + f.For; until > s.pausedUntil {
				s.pausedUntil = until
				w.oracle.paused(slotRef{s.pool, s.index}, w.now, until)
			}
		case FaultDuplicateDelivery:
			s.dupRate = f.Rate
			w.dupOn = true
		}
	}
	if f.For > 0 {
		w.push(w.now+f.For, event{kind: evFaultEnd, a: uint32(i)})
	}
	if f.Kind == FaultPartition && f.Mode != PartitionReset && f.For > TCPGiveUp {
		w.push(w.now+TCPGiveUp, event{kind: evTCPGiveUp, a: uint32(i)})
	}
	return nil
}

func (w *world) faultEnd(i int) error {
	f := &w.cfg.Faults[i]
	w.hash.Event(int64(w.now), uint8(evFaultEnd), int32(i), 0, 0, 0, nil)
	for _, s := range w.faultHits[i] {
		switch f.Kind {
		case FaultHeartbeatLoss:
			s.hbLoss = 0
		case FaultPartition:
			s.partitioned--
			if f.Mode == PartitionReset || (w.faultGaveUp != nil && w.faultGaveUp[i]) {
				s.resets--
			}
			if s.partitioned == 0 {
				w.partitionedSlots--
				// What the stream held up arrives once the network heals.
				w.healPipe(s.current)
			}
		case FaultDuplicateDelivery:
			s.dupRate = 0
		}
	}
	delete(w.faultHits, i)
	if w.faultGaveUp != nil {
		w.faultGaveUp[i] = false
	}
	return nil
}

// processGone marks p's process ended, by a crash or an exit after SIGTERM: its node
// takes nothing more, and its timers and executions die with it.
func (w *world) processGone(p *proc) {
	p.alive = false
	w.nodes[p.node].down = true
	w.nodes[p.node].timers.discard(w.q)
	for _, x := range p.execList() {
		w.q.Cancel(x.h)
	}
	p.clearExecs()
}

// crash kills a worker process: it does nothing more, and whatever reaches it is lost.
func (w *world) crash(p *proc) error {
	if p == nil || !p.alive {
		return nil
	}
	w.processGone(p)
	w.oracle.crashed(p.node, w.now)
	w.hash.Event(int64(w.now), hashCrash, int32(p.node), 0, 0, 0, nil)
	w.traceProcess("crash", p.node)
	// The stream from the assignment source breaks with the process.
	w.dropPipe(p)
	return w.disconnect(p)
}

const (
	hashCrash     = 102
	hashTerminate = 103
	hashExit      = 104
)

// terminate sends SIGTERM to a worker process; it shuts down as its flavour does.
func (w *world) terminate(p *proc) error {
	if p == nil || !p.alive {
		return nil
	}
	w.hash.Event(int64(w.now), hashTerminate, int32(p.node), 0, 0, 0, nil)
	w.traceProcess("terminate", p.node)
	w.out.Reset()
	w.note(inTerminate, p.node, 0, 0, 0)
	p.w.Terminate(w.now, &w.out)
	return w.apply(p.node)
}

// closeStream carries out a worker's CloseStream: its stream (or consumer) is gone, with
// whatever its pipe held, and the source forgets it. exited: the process also ended
// (after SIGTERM), so nothing more reaches it or comes from it.
func (w *world) closeStream(p *proc, exited bool) error {
	if !p.alive {
		return nil
	}
	if exited {
		w.processGone(p)
		w.hash.Event(int64(w.now), hashExit, int32(p.node), 0, 0, 0, nil)
		w.traceProcess("exit", p.node)
	}
	w.dropPipe(p)
	p.pipe.reading = false
	return w.disconnect(p)
}

// windowEnd is when a fault window that starts at now and lasts d ends; d <= 0 never ends.
func windowEnd(now, d time.Duration) time.Duration {
	if d <= 0 {
		return math.MaxInt64
	}
	return now + d
}

// orchestratorDown crashes the orchestrator; it comes back after the downtime.
func (w *world) orchestratorDown(f *FaultConfig) error {
	n := &w.nodes[w.orchNode]
	if n.down {
		return nil
	}
	w.note(inCrash, w.orchNode, 0, 0, 0)
	n.part.(model.Restarter).Crash()
	n.down = true
	w.traceProcess("crash", w.orchNode)
	// Every timer of the dead incarnation goes; the next one starts with an empty table.
	next := n.timers.incarnation + 1
	n.timers.discard(w.q)
	n.timers = newTimerTable(next, true)
	// Every connection to it breaks with the process: once the reset reaches each worker,
	// its calls fail UNAVAILABLE and its pull stream fails; it reconnects as its flavour
	// does.
	for i := range w.nodes {
		if p := w.nodes[i].proc; p != nil && p.alive {
			if err := w.breakConnection(p, w.linkDelay(p.slot)); err != nil {
				return err
			}
		}
	}
	w.push(w.now+f.Downtime, event{kind: evOrchestratorUp})
	return nil
}

func (w *world) orchestratorUp() error {
	n := &w.nodes[w.orchNode]
	n.down = false
	w.hash.Event(int64(w.now), uint8(evOrchestratorUp), int32(w.orchNode), 0, 0, 0, nil)
	w.traceProcess("restart", w.orchNode)
	w.out.Reset()
	w.note(inRestart, w.orchNode, 0, 0, 0)
	n.part.(model.Restarter).Restart(w.now, &w.out)
	if err := w.apply(w.orchNode); err != nil {
		return err
	}
	for _, spec := range w.ledger.release() {
		w.out.Reset()
		w.noteSubmit(spec)
		w.orch.Submit(w.now, spec, &w.out)
		if err := w.apply(w.orchNode); err != nil {
			return err
		}
	}
	return nil
}
