package sim_test

import "testing"

// On a gRPC connection a lost packet is retransmitted by TCP: 10% loss for the whole run
// on 40 python workers costs delay, not work (PROTOCOL.md, "Changes from the first
// version"). With loss_model drop the same loss is a message that never arrives: a python
// call without a deadline then waits for ever, so every lost claim or CompleteTask holds
// its slot for good and the pool seizes (queue timeouts, failed steps), while strict
// workers, whose RPCs have a deadline and are tried again, complete nearly every step at
// the cost of false detections.
func TestLossIsRetransmissionDelay(t *testing.T) {
	const yaml = `
name: python-loss
workers: [{pool: python, count: 40}]
components: [{path: /python/embed, pool: python, duration: {dist: lognormal, median: 2s, p99: 20s}}]
load: [{component: /python/embed, tasks: 2000, arrival: {process: poisson, rate: 40/s}}]
network: {loss: 10%}
`
	s := run(t, loadYAML(t, yaml)).Summary
	if s.Failed != 0 || s.Lost != 0 || s.Completed != 2000 || s.Timeouts.Heartbeat > 5 {
		t.Errorf("retransmit: failed %d lost %d completed %d heartbeat timeouts %d; want 0, 0, 2000, at most 5",
			s.Failed, s.Lost, s.Completed, s.Timeouts.Heartbeat)
	}
	classified := s.Detection.SinceCrash.Count + s.FalseDetections + s.PauseDetections + s.PartitionDetections
	if classified != s.Timeouts.Heartbeat {
		t.Errorf("retransmit: %d heartbeat timeouts, %d classified", s.Timeouts.Heartbeat, classified)
	}
	d := run(t, loadYAML(t, yaml, "network.loss_model=drop")).Summary
	if d.Failed < 1000 || d.Timeouts.Queue < 10*d.Timeouts.Heartbeat || d.FalseDetections != d.Timeouts.Heartbeat || d.Lost != 0 {
		t.Errorf("drop, python: failed %d, queue timeouts %d, heartbeat timeouts %d (false %d), lost %d; "+
			"want at least 1000 failed, queue timeouts over 10 times the heartbeat ones, all false, none lost",
			d.Failed, d.Timeouts.Queue, d.Timeouts.Heartbeat, d.FalseDetections, d.Lost)
	}
	st := run(t, loadYAML(t, yaml, "network.loss_model=drop", "workers[0].flavour=strict")).Summary
	if st.Completed < 1990 || st.Lost != 0 || st.FalseDetections < 100 {
		t.Errorf("drop, strict: completed %d lost %d false detections %d; want at least 1990, 0, at least 100",
			st.Completed, st.Lost, st.FalseDetections)
	}
}

// Under the retransmit model a blackhole partition holds messages until it heals: the
// partitioned workers' calls complete late, nothing is dropped on the way.
func TestBlackholeHoldsMessagesUntilHeal(t *testing.T) {
	const yaml = `
name: blackhole
workers: [{pool: p, count: 8, flavour: python}]
components: [{path: /c, pool: p, duration: 20s}]
load: [{component: /c, tasks: 16, arrival: {process: burst}, at: 6s}]
faults: [{at: 10s, for: 3s, partition: {pool: p, count: 4}}]
`
	s := run(t, loadYAML(t, yaml, "orchestrator.discovery=off")).Summary
	if s.Completed != 16 || s.Lost != 0 {
		t.Errorf("completed %d lost %d", s.Completed, s.Lost)
	}
	d := run(t, loadYAML(t, yaml, "orchestrator.discovery=off", "network.loss_model=drop")).Summary
	if d.Completed != 16 || d.Lost != 0 {
		t.Errorf("drop: completed %d lost %d", d.Completed, d.Lost)
	}
}
