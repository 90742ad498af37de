package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// QueueStateAfter runs cfg and reports what its jetstream queue still tracks at the end:
// delivery numbers remembered and messages held (tests of the queue's memory).
func QueueStateAfter(cfg *Config) (deliveries, messages int, err error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return 0, 0, err
	}
	if err := w.loop(); err != nil {
		return 0, 0, err
	}
	return w.queue.TrackedDeliveries(), w.queue.HeldMessages(), nil
}

// OrchestratorInputs runs cfg with the orchestrator's node recording every message the
// kernel hands it, and returns them with the run's result (tests that receivers never
// see ground truth).
func OrchestratorInputs(cfg *Config) ([]model.Message, *Result, error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return nil, nil, err
	}
	rec := &recordingOrchestrator{Orchestrator: w.orch}
	w.nodes[w.orchNode].part = rec
	if err := w.loop(); err != nil {
		return nil, nil, err
	}
	res, err := w.finish()
	return rec.got, res, err
}

type recordingOrchestrator struct {
	*model.Orchestrator
	got []model.Message
}

func (r *recordingOrchestrator) Receive(now time.Duration, m model.Message, out *model.Effects) {
	r.got = append(r.got, m)
	r.Orchestrator.Receive(now, m, out)
}
