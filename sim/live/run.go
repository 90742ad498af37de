package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/latency"
	"github.com/tasksim/tasksim/sim/live/natsqueue"
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
	return RunWith(ctx, cfg, RunOptions{Clock: clk})
}

// RunOptions are Run's settings beyond the scenario.
type RunOptions struct {
	// Clock is the driver's clock (clock.New() if nil).
	Clock clock.Clock
	// NATS is the JetStream queue for queue.kind jetstream. Without a URL, an embedded
	// server is started on loopback for the run, storing under StoreDir.
	NATS     NATSConfig
	StoreDir string
}

// RunWith is Run with options.
func RunWith(ctx context.Context, cfg *sim.Config, o RunOptions) (*sim.Result, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.New()
	}
	var queueServer Restartable
	if cfg.Queue.Kind == sim.QueueJetStream && o.NATS.URL == "" {
		ns, err := StartEmbeddedNATS(o.StoreDir)
		if err != nil {
			return nil, err
		}
		defer ns.Stop()
		o.NATS.URL = ns.URL()
		queueServer = ns.Server
	}
	start := clk.Now()
	obs, lag := NewObserver(cfg), NewLagMeter()
	salt := rand.Uint32()
	srv, err := StartServer(ServerConfig{Scenario: cfg, Addr: "127.0.0.1:0", Clock: clk, Start: start,
		Salt: salt, OwnWorkers: true, Observer: obs, Lag: lag, NATS: o.NATS, QueueServer: queueServer})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	ws, err := StartWorkers(WorkersConfig{Scenario: cfg, Target: srv.Addr(), Clock: clk, Start: start,
		Salt: salt, OwnOrchestrator: true, Observer: obs, Lag: lag, NATS: o.NATS})
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
	js := srv.JetStreamStats()
	srv.Stop()
	if err := srv.Err(); err != nil {
		return nil, err
	}
	res := Result(obs, lag, end, pools, time.Since(wall))
	res.Summary.Live.JetStream = js
	return res, nil
}

// StartEmbeddedNATS starts the NATS server a live run uses when none is given: in this
// process, on a free loopback port, JetStream on, storing under dir (a temporary
// directory, removed at Stop, when dir is empty).
func StartEmbeddedNATS(dir string) (*EmbeddedNATS, error) {
	e := &EmbeddedNATS{}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tasksim-nats-")
		if err != nil {
			return nil, fmt.Errorf("embedded NATS store: %w", err)
		}
		dir, e.tmp = tmp, tmp
	}
	s, err := natsqueue.StartServer(natsqueue.ServerConfig{Name: "tasksim", StoreDir: dir})
	if err != nil {
		if e.tmp != "" {
			os.RemoveAll(e.tmp)
		}
		return nil, err
	}
	e.Server = s
	return e, nil
}

// EmbeddedNATS is a live run's own NATS server.
type EmbeddedNATS struct {
	*natsqueue.Server
	tmp string
}

// Stop stops the server and removes its store if it was a temporary one.
func (e *EmbeddedNATS) Stop() {
	e.Server.Stop()
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
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
