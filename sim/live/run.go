package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/latency"
)

// LagWarning is the harness lag (p99) beyond which a live run's verdict warns that its
// detection figures include the harness's own lateness.
const LagWarning = 5 * time.Millisecond

// Run runs cfg with the orchestrator and every worker pool in this process, over real
// gRPC on a loopback socket, in real time: the orchestrator knows its side, the workers
// theirs, and the shared observer both, so the result fills the same summary paths as a
// simulation of cfg (mode live, no trace hash). It ends when every step settled, at the
// scenario's duration, when every worker exited, or when ctx is cancelled.
func Run(ctx context.Context, cfg *sim.Config, clk clock.Clock) (*sim.Result, error) {
	if clk == nil {
		clk = clock.New()
	}
	start := clk.Now()
	obs, lag := NewObserver(cfg), NewLagMeter()
	salt := rand.Uint32()
	srv, err := StartServer(ServerConfig{Scenario: cfg, Addr: "127.0.0.1:0", Clock: clk, Start: start,
		Salt: salt, OwnWorkers: true, Observer: obs, Lag: lag})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	ws, err := StartWorkers(WorkersConfig{Scenario: cfg, Target: srv.Addr(), Clock: clk, Start: start,
		Salt: salt, OwnOrchestrator: true, Observer: obs, Lag: lag})
	if err != nil {
		return nil, err
	}
	defer ws.Stop()
	wall := time.Now()
	select {
	case <-srv.Done():
	case <-ws.Done():
	case <-ctx.Done():
	}
	end := clk.Since(start)
	pools := srv.QueueStats()
	ws.Stop()
	srv.Stop()
	if err := srv.Err(); err != nil {
		return nil, err
	}
	return Result(obs, lag, end, pools, time.Since(wall)), nil
}

// Result builds a live run's result: the observer's summary with mode live and the
// harness lag, and a warning when the lag is large enough to matter.
func Result(obs *Observer, lag *LagMeter, end time.Duration, pools []sim.PoolStats, wall time.Duration) *sim.Result {
	res := obs.Result(end, pools)
	s := &res.Summary
	s.Mode = "live"
	s.TraceHash = ""
	s.Perf.WallSeconds = wall.Seconds()
	l := lag.Snapshot()
	s.Live = &sim.LiveStats{HarnessLag: Quantiles(l)}
	if p99 := l.Quantile(0.99); l.Count() > 0 && p99 > LagWarning {
		s.Live.Warning = fmt.Sprintf("harness lag p99 %.1fms exceeds %v: timers fired late, so detection figures include the harness's own delay",
			float64(p99)/float64(time.Millisecond), LagWarning)
	}
	return res
}

// Quantiles summarises a recorder as summary.json does.
func Quantiles(r *latency.Recorder) sim.Quantiles {
	if r.Count() == 0 {
		return sim.Quantiles{}
	}
	return sim.Quantiles{Count: r.Count(), Min: r.Min().Seconds(), P50: r.Quantile(0.5).Seconds(),
		P90: r.Quantile(0.9).Seconds(), P99: r.Quantile(0.99).Seconds(), Max: r.Max().Seconds()}
}
