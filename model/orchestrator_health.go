package model

// componentHealth tracks one component's streak of failed completions.
type componentHealth struct {
	consecutiveFailures int
	flagged             bool // flagged during the current streak
}

// recordHealth counts a completion of component c: an error result extends the streak and
// flags the component once, when the streak reaches UnhealthyAfter; a success resets it.
// Timeouts are not completions and never reach here. Dispatch does not change: the flag
// is a metric and a log line in the reference.
func (o *Orchestrator) recordHealth(c int32, failed bool, out *Effects) {
	if o.cfg.UnhealthyAfter <= 0 || c < 0 || int(c) >= len(o.health) {
		return
	}
	h := &o.health[c]
	if !failed {
		*h = componentHealth{}
		return
	}
	h.consecutiveFailures++
	if !h.flagged && h.consecutiveFailures >= o.cfg.UnhealthyAfter {
		h.flagged = true
		out.Events = append(out.Events, Event{Kind: EvUnhealthy, Node: o.cfg.Node, Component: c})
	}
}

// Unhealthy reports whether component c is flagged in its current failure streak.
func (o *Orchestrator) Unhealthy(c int32) bool {
	return c >= 0 && int(c) < len(o.health) && o.health[c].flagged
}
