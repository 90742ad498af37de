package conform

import (
	"sync"
	"time"
)

// lagTick is how often the lag probe wakes; each wake records how late it is.
const lagTick = 20 * time.Millisecond

// maxLagSlack caps how far the harness lag widens the tolerance: beyond it, timings one
// flavour tells apart from another (python reconnects after 2s, rust at once) would
// blur, so the report warns instead of matching everything.
const maxLagSlack = time.Second

// lagProbe measures the harness lag: how late a goroutine of this process that asked to
// wake at an instant actually runs, on the machine as loaded as it is now. The worker
// under test shares the machine, so its timers run about as late; the tolerance of a
// situation's timings grows by the worst lag seen while it ran.
type lagProbe struct {
	now  func() time.Duration
	quit chan struct{}
	done chan struct{}

	mu sync.Mutex
	// late holds the wakes that were late, in order.
	late []lagSample
}

type lagSample struct{ at, late time.Duration }

func startLagProbe(now func() time.Duration) *lagProbe {
	p := &lagProbe{now: now, quit: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *lagProbe) loop() {
	defer close(p.done)
	due := p.now() + lagTick
	t := time.NewTimer(lagTick)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
		now := p.now()
		if late := now - due; late > time.Millisecond {
			p.mu.Lock()
			p.late = append(p.late, lagSample{at: now, late: late})
			p.mu.Unlock()
		}
		due = now + lagTick
		t.Reset(lagTick)
	}
}

// stop ends the probe and waits for its goroutine.
func (p *lagProbe) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}

// maxSince is the largest lag of a wake after from (a situation's start).
func (p *lagProbe) maxSince(from time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m time.Duration
	for i := len(p.late) - 1; i >= 0 && p.late[i].at >= from; i-- {
		m = max(m, p.late[i].late)
	}
	return m
}
