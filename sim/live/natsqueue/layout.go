// Package natsqueue is the NATS JetStream transport of live mode, laid out exactly as
// Stepflow lays it out: one stream per queue with WorkQueue retention capturing the single
// subject `<STREAM>.tasks`, each message one protobuf TaskAssignment, and workers reading
// through a durable pull consumer (default `stepflow-default`). It also runs an embedded
// NATS server, so that live mode needs nothing installed.
//
// The layout was read from Stepflow's code: the orchestrator's nats_transport.rs
// (ensure_stream: name, subjects [name.tasks], WorkQueue retention, other fields default)
// and the workers' nats_worker.rs / nats_worker.py (get_or_create_consumer with
// durable_name, filter_subject name.tasks, DeliverPolicy All, other fields default).
package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stepflow's defaults (STEPFLOW_NATS_STREAM and STEPFLOW_NATS_CONSUMER in its SDKs).
const (
	DefaultStream   = "STEPFLOW_TASKS"
	DefaultConsumer = "stepflow-default"
	// DefaultAckWait is JetStream's own default, which Stepflow does not change.
	DefaultAckWait = 30 * time.Second
	taskSubject    = "tasks"
)

// Layout names one queue's stream and consumer.
type Layout struct {
	Stream   string
	Consumer string
	// AckWait is the consumer's ack wait: an unacknowledged delivery is redelivered after it.
	AckWait time.Duration
	// Replicas is the stream's replication factor (1 on a single server, 3 on a cluster).
	Replicas int
}

// Subject is the one subject the stream captures and the orchestrator publishes to.
func (l Layout) Subject() string { return l.Stream + "." + taskSubject }

// StreamFor names the stream of a queue: Stepflow's default stream for the queue
// `default`, otherwise the queue's name upper-cased with `_TASKS` appended (Stepflow's
// examples name them so, e.g. PYTHON_TASKS). A stream name may hold only letters, digits,
// `-` and `_`, so every other character becomes `_`.
func StreamFor(queue string) string {
	if queue == "" || queue == "default" {
		return DefaultStream
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(queue) {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String() + "_TASKS"
}

func (l Layout) withDefaults() Layout {
	if l.Stream == "" {
		l.Stream = DefaultStream
	}
	if l.Consumer == "" {
		l.Consumer = DefaultConsumer
	}
	if l.AckWait <= 0 {
		l.AckWait = DefaultAckWait
	}
	if l.Replicas <= 0 {
		l.Replicas = 1
	}
	return l
}

// EnsureStream creates the queue's stream if it does not exist, as the orchestrator does
// before its first publish. An existing stream is left as it is (Stepflow's
// get_or_create_stream does not update one either).
func EnsureStream(ctx context.Context, js jetstream.JetStream, l Layout) (jetstream.Stream, error) {
	l = l.withDefaults()
	s, err := js.Stream(ctx, l.Stream)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %s: %w", l.Stream, err)
	}
	s, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      l.Stream,
		Subjects:  []string{l.Subject()},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  l.Replicas,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil, fmt.Errorf("create stream %s: %w", l.Stream, err)
	}
	if err != nil {
		// Another process created it between our look-up and our create.
		return js.Stream(ctx, l.Stream)
	}
	return s, nil
}

// EnsureConsumer creates or binds the durable pull consumer the workers share.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, l Layout) (jetstream.Consumer, error) {
	l = l.withDefaults()
	c, err := js.CreateOrUpdateConsumer(ctx, l.Stream, jetstream.ConsumerConfig{
		Durable:       l.Consumer,
		FilterSubject: l.Subject(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       l.AckWait,
		// Replicas stays 0: the consumer inherits the stream's, so an R3 stream's
		// consumer survives the loss of a node too.
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on stream %s: %w", l.Consumer, l.Stream, err)
	}
	return c, nil
}

// StreamNames names the stream of each queue: with one queue, override or Stepflow's
// default stream (so a Stepflow worker with default settings reads it); with several,
// each queue's own (StreamFor), since one WorkQueue stream serves one pool.
func StreamNames(queues []string, override string) []string {
	names := make([]string, len(queues))
	for i, q := range queues {
		switch {
		case len(queues) == 1 && override != "":
			names[i] = override
		case len(queues) == 1:
			names[i] = DefaultStream
		default:
			names[i] = StreamFor(q)
		}
	}
	return names
}
