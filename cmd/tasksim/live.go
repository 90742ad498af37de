package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/outputs"
	"github.com/tasksim/tasksim/reports/page"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/live"
	"github.com/tasksim/tasksim/sim/live/natsqueue"
)

// Paths a live run with only one side in this process cannot know (SCENARIOS.md: null).
var (
	// serve knows the orchestrator's side; a foreign worker's crashes, pauses and
	// executions are unknown.
	// A heartbeat's or completion's attempt is not on the wire either, so stale results
	// cannot be told.
	unknownToServe = []string{"detection.since_crash", "false_detections", "pause_detections",
		"missed_detections", "double_executions", "stale_results"}
	// workers knows the workers' side; a foreign orchestrator's timers, retries and
	// steps are unknown. detection.since_crash and missed_detections are the workers'
	// own measure: crash to re-dispatch.
	unknownToWorkers = []string{"steps", "completed", "failed", "lost", "completed_ratio", "attempts",
		"retries", "timeouts", "detection.since_last_heartbeat", "false_detections", "pause_detections",
		"duplicate_results", "stale_results", "early_timeouts", "redeliveries", "unhealthy_components",
		"latency", "virtual_duration"}
)

type liveFlags struct {
	sets   []string
	seed   string
	out    string
	json   bool
	listen string
	target string
	nats   natsFlags
}

// natsFlags name the JetStream queue of a live run with queue.kind jetstream.
type natsFlags struct {
	url, stream, consumer string
}

// addNATSFlags adds --nats, --nats-stream and --nats-consumer. Workers read Stepflow's
// own environment variables when a flag is absent, as its SDK workers do.
func addNATSFlags(cmd *cobra.Command, f *natsFlags, fromEnv bool) {
	env := func(name string) string {
		if fromEnv {
			return os.Getenv(name)
		}
		return ""
	}
	urlHelp := "NATS server or cluster for queue.kind jetstream (default: an embedded server on loopback)"
	if fromEnv {
		urlHelp = "NATS server or cluster for queue.kind jetstream (default $STEPFLOW_NATS_URL)"
	}
	cmd.Flags().StringVar(&f.url, "nats", env("STEPFLOW_NATS_URL"), urlHelp)
	cmd.Flags().StringVar(&f.stream, "nats-stream", env("STEPFLOW_NATS_STREAM"),
		"JetStream stream of a one-pool scenario (default STEPFLOW_TASKS; several pools use POOL_TASKS each)")
	cmd.Flags().StringVar(&f.consumer, "nats-consumer", env("STEPFLOW_NATS_CONSUMER"), "durable consumer the workers share (default stepflow-default)")
}

func (f natsFlags) config() live.NATSConfig {
	return live.NATSConfig{URL: f.url, Stream: f.stream, Consumer: f.consumer}
}

// liveOutDir is a live run's output directory: --out, or out/NAME-SEED-live.
func liveOutDir(cfg *sim.Config, out string) string {
	if out != "" {
		return out
	}
	return filepath.Join("out", fmt.Sprintf("%s-%d-live", cfg.Name, cfg.Seed))
}

// embeddedNATS starts the NATS server a jetstream scenario needs when --nats names
// none, storing under the run's out directory, and returns it (nil when none is needed).
func embeddedNATS(cfg *sim.Config, f natsFlags, out string) (*live.EmbeddedNATS, error) {
	if cfg.Queue.Kind != sim.QueueJetStream || f.url != "" {
		return nil, nil
	}
	ns, err := live.StartEmbeddedNATS(filepath.Join(liveOutDir(cfg, out), "nats"))
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	return ns, nil
}

func newServeCmd() *cobra.Command {
	var f liveFlags
	cmd := &cobra.Command{
		Use:   "serve [SCENARIO]",
		Short: "Run the reference orchestrator as a gRPC server, submitting the scenario's load in real time",
		Long: `Serve runs the reference orchestrator on a real gRPC listener (TasksService,
OrchestratorService, grpc.health.v1 and reflection), submitting the scenario's load in real
time to whatever workers connect: 'tasksim workers' or any Stepflow SDK worker. The first
line on stdout is 'listening HOST:PORT'. Every assignment's TaskContext carries
orchestrator_service_url (this address) and root_run_id. It ends when every step settled,
at the scenario's duration, or on SIGINT/SIGTERM, and writes the run's outputs (mode live;
paths that need the workers' ground truth are null).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := defaultScenario
			if len(args) == 1 {
				name = args[0]
			}
			return serve(cmd, name, f)
		},
	}
	cmd.Flags().StringVar(&f.listen, "listen", live.DefaultAddr, "address to listen on (port 0 picks a free one)")
	addLiveFlags(cmd, &f)
	addNATSFlags(cmd, &f.nats, false)
	return cmd
}

func newWorkersCmd() *cobra.Command {
	var f liveFlags
	cmd := &cobra.Command{
		Use:   "workers [SCENARIO] --connect ADDR",
		Short: "Run the scenario's worker pools as gRPC clients of an orchestrator",
		Long: `Workers runs every worker pool of the scenario (each worker a process of its own flavour,
with its own connection and worker id) against the orchestrator at --connect (or
$STEPFLOW_TASKS_URL): it pulls, claims, heartbeats, runs the scenario's components with
their sampled durations and errors, completes, and suffers the scenario's worker-side
faults for real (crash, restart as a new process, pause, partition, heartbeat_loss,
terminate). It ends at the scenario's duration, when every worker gave up on the
orchestrator or exited, or on SIGINT, and writes its outputs in every case
(orchestrator-side paths null). SIGTERM shuts every worker down as its flavour does:
python when its next assignment arrives, then up to 10s for running tasks; rust and
strict at once, then up to 30s; a second signal ends the run at once.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := defaultScenario
			if len(args) == 1 {
				name = args[0]
			}
			if f.target == "" {
				f.target = os.Getenv("STEPFLOW_TASKS_URL")
			}
			if f.target == "" {
				return badInput(errors.New("workers: --connect ADDR (or STEPFLOW_TASKS_URL) names the orchestrator"))
			}
			return runWorkers(cmd, name, f)
		},
	}
	cmd.Flags().StringVar(&f.target, "connect", "", "the orchestrator's tasks address, HOST:PORT or http://HOST:PORT (default $STEPFLOW_TASKS_URL)")
	addLiveFlags(cmd, &f)
	addNATSFlags(cmd, &f.nats, true)
	return cmd
}

func addLiveFlags(cmd *cobra.Command, f *liveFlags) {
	cmd.Flags().StringVar(&f.seed, "seed", "", "seed (default: the scenario's seed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario field (repeatable)")
	cmd.Flags().StringVar(&f.out, "out", "", "output directory (default out/NAME-SEED-live)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print summary.json to stdout instead of the text summary")
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func serve(cmd *cobra.Command, name string, f liveFlags) error {
	cfg, err := loadScenario(name, f.sets, f.seed)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	ns, err := embeddedNATS(cfg, f.nats, f.out)
	if err != nil {
		return err
	}
	var queueServer live.Restartable
	if ns != nil {
		defer ns.Stop()
		f.nats.url, queueServer = ns.URL(), ns.Server
	}
	natsURL := f.nats.url
	obs, lag := live.NewObserver(cfg), live.NewLagMeter()
	srv, err := live.StartServer(live.ServerConfig{Scenario: cfg, Addr: f.listen, Salt: rand.Uint32(), Observer: obs, Lag: lag,
		NATS: f.nats.config(), QueueServer: queueServer})
	if err != nil {
		return badInput(fmt.Errorf("serve: %w", err))
	}
	defer srv.Stop()
	fmt.Fprintf(cmd.OutOrStdout(), "listening %s\n", srv.Addr())
	if natsURL != "" {
		// The second line says where workers find the queue: tasksim workers --nats URL.
		fmt.Fprintf(cmd.OutOrStdout(), "nats %s\n", natsqueue.RedactURL(natsURL))
	}
	wall := time.Now()
	select {
	case <-srv.Done():
	case <-ctx.Done():
	}
	end := srv.Now()
	pools := srv.QueueStats()
	js := srv.JetStreamStats()
	srv.Stop()
	if err := srv.Err(); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	res := live.Result(obs, lag, end, pools, time.Since(wall))
	res.Summary.Live.JetStream = js
	res.Summary.Unknown = unknownToServe
	return finishLive(cmd, cfg, res, name, f)
}

func runWorkers(cmd *cobra.Command, name string, f liveFlags) error {
	cfg, err := loadScenario(name, f.sets, f.seed)
	if err != nil {
		return err
	}
	// SIGTERM shuts the workers down as their flavours do (each exits when its running
	// tasks are over or its grace ran out); SIGINT, or a second signal, ends them at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	obs, lag := live.NewObserver(cfg), live.NewLagMeter()
	if cfg.Queue.Kind == sim.QueueJetStream && f.nats.url == "" {
		return badInput(errors.New("workers: queue.kind jetstream: --nats URL (or STEPFLOW_NATS_URL) names the NATS server the orchestrator publishes to"))
	}
	ws, err := live.StartWorkers(live.WorkersConfig{Scenario: cfg, Target: f.target, Salt: rand.Uint32(), Observer: obs, Lag: lag,
		NATS: f.nats.config()})
	if err != nil {
		return badInput(fmt.Errorf("workers: %w", err))
	}
	defer ws.Stop()
	wall := time.Now()
	waitWorkers(ws, sigs)
	end := ws.Now()
	ws.Stop()
	res := live.Result(obs, lag, end, nil, time.Since(wall))
	res.Summary.Unknown = unknownToWorkers
	// The workers' own measure of detection: from a crash they caused to the orphaned
	// task's next assignment (the foreign orchestrator's timers, plus its backoff).
	r, missed := ws.Redispatch()
	res.Summary.Detection.SinceCrash = live.Quantiles(r)
	res.Summary.MissedDetections = int64(missed)
	res.DetectionSinceCrash = r
	if cfg.Queue.Kind == sim.QueueJetStream {
		// The consumer tells a worker which deliveries are redeliveries.
		res.Summary.Unknown = slices.DeleteFunc(slices.Clone(unknownToWorkers), func(p string) bool { return p == "redeliveries" })
	}
	return finishLive(cmd, cfg, res, name, f)
}

// waitWorkers waits until the workers are over: by themselves, or after a SIGTERM
// (graceful, per flavour), or at once on SIGINT or a second signal.
func waitWorkers(ws *live.Workers, sigs <-chan os.Signal) {
	terminated := false
	for {
		select {
		case <-ws.Done():
			return
		case sig := <-sigs:
			if sig != syscall.SIGTERM || terminated {
				return
			}
			terminated = true
			ws.Terminate()
		}
	}
}

// runLive is `tasksim run SCENARIO --live`: both sides in this process on loopback.
func runLive(cmd *cobra.Command, name string, f runFlags) error {
	cfg, err := loadScenario(name, f.sets, f.seed)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	res, err := live.RunWith(ctx, cfg, live.RunOptions{NATS: f.nats.config(),
		StoreDir: filepath.Join(liveOutDir(cfg, f.out), "nats")})
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	return finishLive(cmd, cfg, res, name, liveFlags{sets: f.sets, out: f.out, json: f.json})
}

// finishLive checks the expectations, writes the outputs and prints the verdict.
func finishLive(cmd *cobra.Command, cfg *sim.Config, res *sim.Result, name string, f liveFlags) error {
	ok, err := res.Summary.Check(cfg.Expect)
	if err != nil {
		return err
	}
	dir := liveOutDir(cfg, f.out)
	run := reports.NewRun(cfg, res, name, f.sets)
	if err := outputs.Write(dir, run); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if f.json {
		b, err := reports.MarshalSummary(&res.Summary)
		if err != nil {
			return err
		}
		if _, err := cmd.OutOrStdout().Write(b); err != nil {
			return err
		}
	} else {
		if err := reports.WriteText(cmd.OutOrStdout(), run); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote      %s\n", filepath.Join(dir, page.HTMLFile))
	}
	if !ok {
		return failed(fmt.Errorf("%s seed %d (live): expectations failed", cfg.Name, cfg.Seed))
	}
	return nil
}
