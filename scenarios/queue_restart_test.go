package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/tasksim/tasksim/sim"
)

func TestQueueRestartFault(t *testing.T) {
	const base = `name: qr
queue: {kind: jetstream}
load:
  - component: /c
    tasks: 10
faults:
  - at: 5s
    queue_restart: {downtime: 2s}
`
	cfg, err := Load("qr.yaml", []byte(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := cfg.Faults[0]; f.Kind != sim.FaultQueueRestart || f.At != 5*time.Second || f.Downtime != 2*time.Second {
		t.Fatalf("fault = %+v, want queue_restart at 5s for 2s", f)
	}
	_, err = Load("qr.yaml", []byte(strings.Replace(base, "kind: jetstream", "kind: pull", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), "qr.yaml:8:") || !strings.Contains(err.Error(), "faults[0].queue_restart") ||
		!strings.Contains(err.Error(), "needs queue.kind jetstream") {
		t.Fatalf("queue_restart on a pull queue: %v; want an error at qr.yaml:8 naming faults[0].queue_restart", err)
	}
}
