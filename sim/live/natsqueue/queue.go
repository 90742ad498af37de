package natsqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect dials a NATS server (or a cluster: a comma-separated URL list) for one
// participant. It keeps reconnecting for as long as the connection is in use, since a
// queue server restart is a fault live mode injects on purpose.
func Connect(urls, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(urls,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond),
		nats.RetryOnFailedConnect(false),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS %s: %w", RedactURL(urls), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("JetStream on %s: %w", RedactURL(urls), err)
	}
	return nc, js, nil
}

// opTimeout bounds one publish or ack: a request sent to a node that has just died gets
// no answer, and the caller must be free to retry on the node that took over.
const opTimeout = 2 * time.Second

// Publisher is the orchestrator's side of one queue: it publishes encoded assignments.
type Publisher struct {
	js     jetstream.JetStream
	layout Layout
}

// NewPublisher ensures the queue's stream exists and returns its publisher.
func NewPublisher(ctx context.Context, js jetstream.JetStream, l Layout) (*Publisher, error) {
	l = l.withDefaults()
	if _, err := EnsureStream(ctx, js, l); err != nil {
		return nil, err
	}
	return &Publisher{js: js, layout: l}, nil
}

// Publish sends one encoded TaskAssignment and waits for the stream to store it, as
// Stepflow's orchestrator awaits the publish ack. It returns the stream sequence.
func (p *Publisher) Publish(ctx context.Context, assignment []byte) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	ack, err := p.js.Publish(ctx, p.layout.Subject(), assignment)
	if err != nil {
		return 0, fmt.Errorf("publish to %s: %w", p.layout.Subject(), err)
	}
	return ack.Sequence, nil
}

// Delivery is one message a worker fetched.
type Delivery struct {
	Data []byte
	// StreamSeq identifies the assignment in the stream; a redelivery has the same one.
	StreamSeq uint64
	// NumDelivered is 1 on the first delivery, more on each redelivery.
	NumDelivered uint64
	msg          jetstream.Msg
}

// Redelivered reports whether the consumer delivered this message before.
func (d *Delivery) Redelivered() bool { return d.NumDelivered > 1 }

// Ack acknowledges the delivery, which removes it from the WorkQueue stream.
func (d *Delivery) Ack(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := d.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("ack stream message %d: %w", d.StreamSeq, err)
	}
	return nil
}

// Consumer is a worker's side of one queue: the durable pull consumer all workers of the
// queue share.
type Consumer struct {
	c      jetstream.Consumer
	layout Layout
}

// NewConsumer binds to (creating if needed) the queue's durable consumer. Like
// Stepflow's workers it needs the stream to exist; ErrNoStream says it does not yet.
func NewConsumer(ctx context.Context, js jetstream.JetStream, l Layout) (*Consumer, error) {
	l = l.withDefaults()
	if _, err := js.Stream(ctx, l.Stream); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("stream %s: %w", l.Stream, ErrNoStream)
		}
		return nil, fmt.Errorf("look up stream %s: %w", l.Stream, err)
	}
	c, err := EnsureConsumer(ctx, js, l)
	if err != nil {
		return nil, err
	}
	return &Consumer{c: c, layout: l}, nil
}

// ErrNoStream means the orchestrator has not created the queue's stream yet.
var ErrNoStream = errors.New("the stream does not exist yet")

// Fetch waits up to maxWait for one message, as a worker with one free slot does (no
// read-ahead). It returns nil, nil when none came in time.
func (c *Consumer) Fetch(ctx context.Context, maxWait time.Duration) (*Delivery, error) {
	// The wait is the context's: nats.go refuses FetchMaxWait together with a context.
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, maxWait)
	defer cancel()
	batch, err := c.c.Fetch(1, jetstream.FetchContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("fetch from consumer %s: %w", c.layout.Consumer, err)
	}
	// A batch of one yields at most one message.
	if msg, ok := <-batch.Messages(); ok {
		md, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("metadata of a message from %s: %w", c.layout.Consumer, err)
		}
		return &Delivery{Data: msg.Data(), StreamSeq: md.Sequence.Stream, NumDelivered: md.NumDelivered, msg: msg}, nil
	}
	if err := parent.Err(); err != nil {
		return nil, fmt.Errorf("fetch from consumer %s: %w", c.layout.Consumer, err)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("fetch from consumer %s: %w", c.layout.Consumer, err)
	}
	return nil, nil
}

// Gauges are the stream's and consumer's counts that metrics export.
type Gauges struct {
	// Pending is how many messages wait for their first delivery.
	Pending uint64
	// AckPending is how many were delivered and not yet acknowledged.
	AckPending int
	// Redelivered is how many delivered messages are waiting for a redelivery.
	Redelivered int
	// StreamMessages is how many the stream holds (WorkQueue: removed on ack).
	StreamMessages uint64
}

// ReadGauges asks the server for the queue's counts.
func ReadGauges(ctx context.Context, js jetstream.JetStream, l Layout) (Gauges, error) {
	l = l.withDefaults()
	s, err := js.Stream(ctx, l.Stream)
	if err != nil {
		return Gauges{}, fmt.Errorf("stream %s: %w", l.Stream, err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		return Gauges{}, fmt.Errorf("stream %s info: %w", l.Stream, err)
	}
	g := Gauges{StreamMessages: si.State.Msgs}
	c, err := s.Consumer(ctx, l.Consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		g.Pending = si.State.Msgs
		return g, nil
	}
	if err != nil {
		return Gauges{}, fmt.Errorf("consumer %s: %w", l.Consumer, err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return Gauges{}, fmt.Errorf("consumer %s info: %w", l.Consumer, err)
	}
	g.Pending = ci.NumPending
	g.AckPending = ci.NumAckPending
	g.Redelivered = ci.NumRedelivered
	return g, nil
}
