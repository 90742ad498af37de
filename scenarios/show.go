package scenarios

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// Show prints cfg as a scenario file with every default written out, in the shape of
// SCENARIOS.md. Loading the output gives back an equal Config.
func Show(cfg *sim.Config) []byte {
	o := cfg.Orchestrator
	discovery := "off"
	if o.Discovery {
		discovery = "on_connect"
	}
	backoff := flow("kind", word(o.Backoff.Kind.String()), "min", dur(o.Backoff.Min), "max", dur(o.Backoff.Max))
	if o.Backoff.Kind == model.BackoffExponential {
		backoff.Content = append(backoff.Content, word("factor"), plain(formatFloat(o.Backoff.Factor)))
	}
	desc := word(cfg.Description)
	if strings.Contains(cfg.Description, "\n") {
		desc.Style = yaml.LiteralStyle // keep a long description readable
	}

	doc := block(
		"name", word(cfg.Name),
		"description", desc,
		"seed", plain(strconv.FormatUint(cfg.Seed, 10)),
		"duration", dur(cfg.Duration),
		"orchestrator", block(
			"detector", word(o.Detector.String()),
			"heartbeat_timeout", dur(o.HeartbeatTimeout),
			"heartbeat_interval", dur(o.HeartbeatInterval),
			"queue_timeout", dur(o.QueueTimeout),
			"execution_timeout", dur(o.ExecutionTimeout),
			"max_transport_retries", plain(strconv.Itoa(o.MaxTransportRetries)),
			"max_component_retries", plain(strconv.Itoa(o.MaxComponentRetries)),
			"backoff", backoff,
			"task_ids", word(string(o.TaskIDs)),
			"discovery", word(discovery),
			"unhealthy_after", plain(strconv.Itoa(o.UnhealthyAfter)),
			"max_tasks_per_run", plain(strconv.Itoa(o.MaxTasksPerRun)),
			"scan_duration", dur(o.ScanDuration),
			"recovery_time", dur(o.RecoveryTime),
		),
		"network", block(
			"latency", showDist(cfg.Network.Latency),
			"loss", plain(formatFloat(cfg.Network.Loss)),
			"duplicate", plain(formatFloat(cfg.Network.Duplicate)),
			"wire", plain(strconv.FormatBool(cfg.Network.Wire)),
			"rpc_timeout", dur(cfg.Network.RPCTimeout),
			"loss_model", word(string(cfg.Network.LossModel)),
			"retransmit_after", dur(cfg.Network.RetransmitAfter),
		),
		"queue", block(
			"kind", word(string(cfg.Queue.Kind)),
			"ack_wait", dur(cfg.Queue.AckWait),
			"pipe_bytes", plain(formatSize(cfg.Queue.PipeBytes)),
		),
	)
	workers := list()
	for _, p := range cfg.Workers {
		workers.Content = append(workers.Content, block(
			"pool", word(p.Pool),
			"count", plain(strconv.Itoa(p.Count)),
			"flavour", word(p.Flavour.String()),
			"concurrency", plain(strconv.Itoa(p.Concurrency)),
			"ack", word(string(p.Ack)),
			"heartbeat_interval", dur(p.HeartbeatInterval),
			"clock_drift", plain(formatFloat(p.ClockDrift)),
			"start", showDist(p.Start),
		))
	}
	comps := list()
	for _, c := range cfg.Components {
		b := block(
			"path", word(c.Path),
			"component_id", word(c.WireID()),
			"pool", word(c.Pool),
			"duration", showDist(c.Duration),
			"error_rate", plain(formatFloat(c.ErrorRate)),
			"errors", showErrors(c.Errors),
			"retriable", plain(strconv.FormatBool(c.Retriable)),
		)
		if c.Input != nil {
			b.Content = append(b.Content, word("input"), showValue(c.Input))
		}
		comps.Content = append(comps.Content, b)
	}
	loads := list()
	for _, l := range cfg.Load {
		arrival := flow("process", word(string(l.Arrival)))
		if l.Arrival != sim.ArrivalBurst {
			arrival.Content = append(arrival.Content, word("rate"), word(formatRate(l.RatePerSec)))
		}
		loads.Content = append(loads.Content, block(
			"component", word(l.Component),
			"tasks", plain(strconv.Itoa(l.Tasks)),
			"arrival", arrival,
			"at", dur(l.At),
			"payload", word(formatSize(l.PayloadBytes)),
			"steps_per_run", plain(strconv.Itoa(l.StepsPerRun)),
		))
	}
	faults := list()
	for _, f := range cfg.Faults {
		faults.Content = append(faults.Content, showFault(f))
	}
	expect := list()
	for _, e := range cfg.Expect {
		expect.Content = append(expect.Content, word(e.Expr))
	}
	doc.Content = append(doc.Content,
		word("workers"), workers,
		word("components"), comps,
		word("load"), loads,
		word("faults"), faults,
		word("expect"), expect,
	)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	// Encoding a tree of plain scalars, mappings and lists built above cannot fail.
	_ = enc.Encode(doc)
	_ = enc.Close()
	return buf.Bytes()
}

func showFault(f sim.FaultConfig) *yaml.Node {
	m := block("at", dur(f.At))
	if windowed(f.Kind) {
		m.Content = append(m.Content, word("for"), dur(f.For))
	}
	var body *yaml.Node
	if f.Kind == sim.FaultOrchestratorRestart || f.Kind == sim.FaultQueueRestart {
		body = flow("downtime", dur(f.Downtime))
	} else {
		body = flow("pool", word(f.Target.Pool))
		switch {
		case f.Target.Fraction > 0:
			body.Content = append(body.Content, word("fraction"), plain(formatFloat(f.Target.Fraction)))
		case f.Target.Count > 0:
			body.Content = append(body.Content, word("count"), plain(strconv.Itoa(f.Target.Count)))
		case len(f.Target.Workers) > 0:
			ws := list()
			ws.Style = yaml.FlowStyle
			for _, w := range f.Target.Workers {
				ws.Content = append(ws.Content, word(w))
			}
			body.Content = append(body.Content, word("workers"), ws)
		}
		if f.Kind == sim.FaultHeartbeatLoss || f.Kind == sim.FaultDuplicateDelivery {
			body.Content = append(body.Content, word("rate"), plain(formatFloat(f.Rate)))
		}
		if f.Kind == sim.FaultPartition {
			body.Content = append(body.Content, word("mode"), word(string(f.Mode)))
		}
	}
	m.Content = append(m.Content, word(string(f.Kind)), body)
	if f.Kind == sim.FaultCrash && f.RestartAfter > 0 {
		m.Content = append(m.Content, word("restart_after"), dur(f.RestartAfter))
	}
	return m
}

// showErrors prints the shares of exception kinds; the zero value is all value_error.
func showErrors(shares [model.NumComponentErrors]float64) *yaml.Node {
	m := flow()
	for k, share := range shares {
		if share > 0 {
			m.Content = append(m.Content, word(model.ComponentError(k).String()), plain(formatFloat(share)))
		}
	}
	if len(m.Content) == 0 {
		m.Content = append(m.Content, word(model.ErrorValue.String()), plain("1"))
	}
	return m
}

// showValue prints an input Value as the YAML that decodes back to it (keys sorted).
func showValue(v *structpb.Value) *yaml.Node {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StructValue:
		m := flow()
		keys := make([]string, 0, len(k.StructValue.GetFields()))
		for key := range k.StructValue.GetFields() {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			m.Content = append(m.Content, word(key), showValue(k.StructValue.Fields[key]))
		}
		return m
	case *structpb.Value_ListValue:
		l := list()
		l.Style = yaml.FlowStyle
		for _, it := range k.ListValue.GetValues() {
			l.Content = append(l.Content, showValue(it))
		}
		return l
	case *structpb.Value_StringValue:
		return word(k.StringValue)
	case *structpb.Value_NumberValue:
		return plain(strconv.FormatFloat(k.NumberValue, 'g', -1, 64))
	case *structpb.Value_BoolValue:
		return plain(strconv.FormatBool(k.BoolValue))
	}
	return plain("null")
}

func showDist(d sim.Dist) *yaml.Node {
	m := flow("dist", word(string(d.Kind)))
	for _, p := range distParams[d.Kind] {
		var v *yaml.Node
		switch p {
		case "value":
			v = dur(d.Value)
		case "min":
			v = dur(d.Min)
		case "max":
			v = dur(d.Max)
		case "mean":
			v = dur(d.Mean)
		case "median":
			v = dur(d.Median)
		case "p99":
			v = dur(d.P99)
		case "alpha":
			v = plain(formatFloat(d.Alpha))
		}
		m.Content = append(m.Content, word(p), v)
	}
	return m
}

// word is a string scalar; the encoder quotes it if it would otherwise read as another type.
func word(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// plain is a scalar whose type YAML infers (numbers, booleans).
func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func dur(d time.Duration) *yaml.Node { return word(formatDuration(d)) }

func list() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func block(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Content = append(m.Content, word(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return m
}

func flow(kv ...any) *yaml.Node {
	m := block(kv...)
	m.Style = yaml.FlowStyle
	return m
}
