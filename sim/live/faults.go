package live

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// Worker-side faults, applied for real: a crash kills the process (its connection
// closes, its calls fail), a pause stalls its goroutine, a partition cuts its link
// (reset: every call and stream fails at once and new ones are refused; black hole:
// nothing moves either way until it heals, then everything held is delivered, as TCP's
// retransmissions would), heartbeat_loss drops heartbeat calls so that no answer comes.
// Targets are chosen from the seeded faults stream, as the simulator chooses them.

// pick chooses the slots a fault hits (the simulator's rule: by names, count or
// fraction of the pool, a partial shuffle over candidates in slot order).
func (ws *Workers) pick(t sim.Target, liveOnly bool) []*workerSlot {
	pool := -1
	for i, p := range ws.cfg.Scenario.Workers {
		if p.Pool == t.Pool {
			pool = i
		}
	}
	if pool < 0 {
		return nil
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	alive := func(s *workerSlot) bool { return s.current != nil && !s.current.dead.Load() }
	if len(t.Workers) > 0 {
		var chosen []*workerSlot
		for _, name := range t.Workers {
			i := strings.LastIndexByte(name, '-')
			n, err := strconv.Atoi(name[i+1:])
			if i < 0 || err != nil || n < 0 || n >= len(ws.slots[pool]) {
				continue
			}
			if s := ws.slots[pool][n]; !liveOnly || alive(s) {
				chosen = append(chosen, s)
			}
		}
		return chosen
	}
	var cands []*workerSlot
	for _, s := range ws.slots[pool] {
		if !liveOnly || alive(s) {
			cands = append(cands, s)
		}
	}
	n := len(cands)
	switch {
	case t.Count > 0:
		n = min(t.Count, len(cands))
	case t.Fraction > 0:
		n = min(int(math.Round(t.Fraction*float64(len(ws.slots[pool])))), len(cands))
	}
	for i := 0; i < n; i++ {
		j := i + ws.rFaults.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	return cands[:n]
}

func (ws *Workers) faultStart(now time.Duration, i int) {
	f := &ws.cfg.Scenario.Faults[i]
	if ob := ws.cfg.Observer; ob != nil && f.Kind != sim.FaultOrchestratorRestart {
		ob.FaultStarted(i, now)
	}
	if f.Kind == sim.FaultTerminate {
		for _, s := range ws.pick(f.Target, true) {
			ws.mu.Lock()
			wp := s.current
			ws.mu.Unlock()
			if wp != nil {
				wp.p.post(wp.terminate)
			}
		}
		return
	}
	if f.Kind == sim.FaultCrash {
		for _, s := range ws.pick(f.Target, true) {
			ws.crash(now, s)
			if f.RestartAfter > 0 {
				ws.ctl.setTimer(model.TimerOp{ID: ctlRestart + model.TimerID(ws.slotIndex(s)), At: now + f.RestartAfter})
			}
		}
		return
	}
	targets := ws.pick(f.Target, false)
	ws.mu.Lock()
	if ws.hits == nil {
		ws.hits = map[int][]*workerSlot{}
	}
	ws.hits[i] = targets
	ws.mu.Unlock()
	for _, s := range targets {
		ws.mu.Lock()
		wp := s.current
		switch f.Kind {
		case sim.FaultHeartbeatLoss:
			s.hbLoss = f.Rate
		case sim.FaultPartition:
			s.partitioned++
			s.blackhole = !partitionResets(f)
		}
		ws.mu.Unlock()
		if wp == nil {
			continue
		}
		switch f.Kind {
		case sim.FaultPartition:
			if ob := ws.cfg.Observer; ob != nil {
				ob.CutOff(wp.node, now, now+f.For)
			}
			if partitionResets(f) {
				wp.p.post(func() { wp.linkCancel() })
			}
		case sim.FaultPause:
			until := now + f.For
			if ob := ws.cfg.Observer; ob != nil {
				ob.Paused(wp.node, now, until)
			}
			wp.p.post(func() { wp.p.pause(until) })
		}
	}
	if f.For > 0 {
		ws.ctl.setTimer(model.TimerOp{ID: ctlFaultEnd + model.TimerID(i), At: now + f.For})
	}
}

func (ws *Workers) faultEnd(_ time.Duration, i int) {
	f := &ws.cfg.Scenario.Faults[i]
	ws.mu.Lock()
	targets := ws.hits[i]
	delete(ws.hits, i)
	ws.mu.Unlock()
	for _, s := range targets {
		ws.mu.Lock()
		wp := s.current
		healed := false
		switch f.Kind {
		case sim.FaultHeartbeatLoss:
			s.hbLoss = 0
		case sim.FaultPartition:
			s.partitioned--
			healed = s.partitioned == 0
		}
		ws.mu.Unlock()
		if wp == nil || !healed {
			continue
		}
		wp.p.post(func() {
			if wp.dead.Load() {
				return
			}
			// A fresh link; what a black hole held now goes through.
			wp.link, wp.linkCancel = context.WithCancel(wp.ctx)
			held, sends := wp.held, wp.heldSend
			wp.held, wp.heldSend = nil, nil
			for _, f := range sends {
				f()
			}
			for _, f := range held {
				f()
			}
		})
	}
}

// partitionResets reports whether a partition fault breaks connections at once (reset)
// rather than silently dropping packets (black hole, the format's default).
func partitionResets(f *sim.FaultConfig) bool { return partitionMode(f) == "reset" }

// crash kills the slot's current process.
func (ws *Workers) crash(now time.Duration, s *workerSlot) {
	ws.mu.Lock()
	wp := s.current
	if wp == nil || wp.dead.Load() {
		ws.mu.Unlock()
		return
	}
	wp.dead.Store(true)
	ws.crashed++
	ws.live--
	for _, task := range wp.running {
		ws.orphaned[task] = now // what it was running is orphaned
	}
	ws.mu.Unlock()
	if ob := ws.cfg.Observer; ob != nil {
		ob.Crashed(wp.node, now)
	}
	wp.kill()
}

// partitionMode is a partition's mode. Format v1 has none and means a black hole.
func partitionMode(*sim.FaultConfig) string { return "blackhole" }
