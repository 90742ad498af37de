package sim

import "github.com/tasksim/tasksim/model"

// The oracle's per-step and per-worker tables are indexed by dense ids (steps are numbered
// in submission order, nodes in start order), so slices replace the Go maps that were a
// visible share of every event's cost: no hashing, and neighbouring steps share cache
// lines.

// stepChunk is stepChunkSize consecutive steps' truth.
const stepChunkSize = 256

type stepChunk struct {
	v       [stepChunkSize]stepTruth
	present [stepChunkSize / 64]uint64
	n       int
}

// stepTable maps a step to its truth while it is kept: a chunk lives while any of its
// steps is, so memory follows the span of unsettled step ids, not all steps.
type stepTable struct {
	chunks []*stepChunk
	n      int
}

// get returns the step's truth, or nil if it is not kept.
func (t *stepTable) get(s model.StepID) *stepTruth {
	ci := int(s / stepChunkSize)
	if ci >= len(t.chunks) {
		return nil
	}
	c := t.chunks[ci]
	i := s % stepChunkSize
	if c == nil || c.present[i/64]&(1<<(i%64)) == 0 {
		return nil
	}
	return &c.v[i]
}

// put keeps a fresh (zero) truth for the step and returns it.
func (t *stepTable) put(s model.StepID) *stepTruth {
	ci := int(s / stepChunkSize)
	for ci >= len(t.chunks) {
		t.chunks = append(t.chunks, nil)
	}
	c := t.chunks[ci]
	if c == nil {
		c = &stepChunk{}
		t.chunks[ci] = c
	}
	i := s % stepChunkSize
	if c.present[i/64]&(1<<(i%64)) == 0 {
		c.present[i/64] |= 1 << (i % 64)
		c.n++
		t.n++
	}
	c.v[i] = stepTruth{}
	return &c.v[i]
}

// del forgets the step (a no-op if it is not kept).
func (t *stepTable) del(s model.StepID) {
	ci := int(s / stepChunkSize)
	if ci >= len(t.chunks) || t.chunks[ci] == nil {
		return
	}
	c := t.chunks[ci]
	i := s % stepChunkSize
	if c.present[i/64]&(1<<(i%64)) == 0 {
		return
	}
	c.present[i/64] &^= 1 << (i % 64)
	c.n--
	t.n--
	if c.n == 0 {
		t.chunks[ci] = nil
	}
}

// len is the number of steps kept.
func (t *stepTable) len() int { return t.n }

// runningExec is one execution running on a worker, by the worker's exec number.
type runningExec struct {
	exec uint32
	execTruth
}

// runningTable holds, per node, the executions running there: a handful per worker,
// searched linearly.
type runningTable [][]runningExec

func (t *runningTable) add(node model.NodeID, exec uint32, e execTruth) {
	for int(node) >= len(*t) {
		*t = append(*t, nil)
	}
	rs := (*t)[node]
	for i := range rs {
		if rs[i].exec == exec {
			rs[i].execTruth = e
			return
		}
	}
	(*t)[node] = append(rs, runningExec{exec, e})
}

// remove drops the execution and reports whether it was there.
func (t runningTable) remove(node model.NodeID, exec uint32) bool {
	if int(node) >= len(t) {
		return false
	}
	rs := t[node]
	for i := range rs {
		if rs[i].exec == exec {
			// Keep the order of the rest: crashed walks them in it.
			t[node] = append(rs[:i], rs[i+1:]...)
			return true
		}
	}
	return false
}

// of returns the node's running executions, oldest first.
func (t runningTable) of(node model.NodeID) []runningExec {
	if int(node) >= len(t) {
		return nil
	}
	return t[node]
}

// clear forgets every execution of the node.
func (t runningTable) clear(node model.NodeID) {
	if int(node) < len(t) {
		t[node] = nil
	}
}
