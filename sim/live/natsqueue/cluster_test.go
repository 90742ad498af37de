package natsqueue

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A three-node cluster with an R3 stream: one node is killed while assignments flow, and
// every assignment still arrives; the longest gap between two deliveries is the stall
// the failover cost.
func TestClusterSurvivesANodeKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	cl, err := StartCluster("tasksim", t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l := Layout{Stream: "R3_TASKS", Replicas: 3, AckWait: 5 * time.Second}

	// Both sides know every node, as clients of a cluster do, and fail over.
	_, pjs, err := Connect(cl.URLs(), "orchestrator")
	if err != nil {
		t.Fatal(err)
	}
	_, cjs, err := Connect(cl.URLs(), "worker")
	if err != nil {
		t.Fatal(err)
	}
	var p *Publisher
	// A new cluster elects its meta leader first: creating the stream waits for that.
	for p == nil {
		attempt, cancelAttempt := context.WithTimeout(ctx, 3*time.Second)
		p, err = NewPublisher(attempt, pjs, l)
		cancelAttempt()
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("stream never created: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	c, err := NewConsumer(ctx, cjs, l)
	if err != nil {
		t.Fatal(err)
	}
	// The node killed is the stream's leader, the worst case for dispatch.
	st, err := pjs.Stream(ctx, l.Stream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := st.Info(ctx)
	if err != nil || si.Cluster == nil || len(si.Cluster.Replicas) != 2 {
		t.Fatalf("stream is not replicated on three nodes: %+v %v", si, err)
	}
	victim := cl.Nodes[0]
	for _, node := range cl.Nodes {
		if node.cfg.Name == si.Cluster.Leader {
			victim = node
		}
	}

	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if i == n/3 {
				victim.Stop()
			}
			for {
				if _, err := p.Publish(ctx, []byte(strconv.Itoa(i))); err == nil {
					break
				} else if ctx.Err() != nil {
					t.Errorf("publish %d: %v", i, err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	seen := map[string]bool{}
	last := time.Now()
	var stall time.Duration
	for len(seen) < n && ctx.Err() == nil {
		d, err := c.Fetch(ctx, time.Second)
		if err != nil {
			// A fetch can fail while the stream's leader moves; the worker retries.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if d == nil {
			continue
		}
		if gap := time.Since(last); gap > stall {
			stall = gap
		}
		last = time.Now()
		seen[string(d.Data)] = true
		for d.Ack(ctx) != nil && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d of %d assignments arrived after a node was killed", len(seen), n)
	}
	t.Logf("longest dispatch stall with the stream leader %s killed: %v", si.Cluster.Leader, stall)
}
