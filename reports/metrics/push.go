package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/prometheus/common/expfmt"
	"github.com/tasksim/tasksim/reports"
)

// PushJob is the Pushgateway job every run is pushed under.
const PushJob = "tasksim"

// Push sends the run's metrics to the Pushgateway at url, grouped by job "tasksim",
// scenario and seed. It replaces what that group held (PUT), so that a re-run of the same
// scenario and seed does not leave stale series behind. client may be nil.
func Push(ctx context.Context, url string, run *reports.Run, client *http.Client) error {
	reg, err := Metrics(run)
	if err != nil {
		return err
	}
	p := push.New(url, PushJob).
		Gatherer(reg).
		Grouping("scenario", run.Summary.Scenario).
		Grouping("seed", strconv.FormatUint(run.Summary.Seed, 10)).
		// Text, not the default protobuf: readable in a proxy log and in the gateway's UI.
		Format(expfmt.NewFormat(expfmt.TypeTextPlain))
	if client != nil {
		p = p.Client(client)
	}
	if err := p.PushContext(ctx); err != nil {
		// The URL may carry credentials; the error must not show them.
		return fmt.Errorf("push metrics to %s: %s", reports.RedactURL(url), reports.RedactIn(err.Error(), url))
	}
	return nil
}
