// Package scenarios reads scenario files (format v1, SCENARIOS.md) into a sim.Config: it
// parses the YAML, applies --set overrides, fills defaults, validates, and reports every
// problem at once with its file, line, column and key path. It also holds the built-in
// scenarios and prints a Config back as a scenario file (Show).
package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
	"go.yaml.in/yaml/v3"
)

var (
	namePattern = regexp.MustCompile(`^[a-z0-9-]+$`)
	poolPattern = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

var topKeys = []string{"name", "description", "seed", "duration", "orchestrator", "network",
	"queue", "workers", "components", "load", "faults", "expect"}

// Load reads one scenario. file names it in errors; sets are --set overrides
// (`path=value`), applied to the document before validation so that they are checked
// the same way. On any problem it returns a *Errors listing all of them.
func Load(file string, data []byte, sets []string) (cfg *sim.Config, err error) {
	d := &decoder{file: file, setBy: map[*yaml.Node]string{}, locs: map[string]*yaml.Node{}, keyOf: map[*yaml.Node]*yaml.Node{}}
	defer func() {
		// yaml's own parser has panicked on odd input in the past; a panic here is a bug,
		// but the user should still get an error rather than a crash.
		if r := recover(); r != nil {
			cfg, err = nil, &Errors{List: []Error{{File: file, Msg: fmt.Sprintf("internal error reading scenario: %v", r)}}}
		}
	}()
	if len(data) > MaxFileBytes {
		return nil, &Errors{List: []Error{{File: file, Msg: errTooLarge("the file").Error()}}}
	}
	setOrder := map[string]int{}
	root, ok := d.parseYAML(data)
	if !ok {
		return nil, d.errs.finish(setOrder)
	}
	d.root = root
	for i, s := range sets {
		setOrder["--set "+s] = i
		if e := applySet(root, s, d.setBy); e != nil {
			d.errs.List = append(d.errs.List, *e)
		}
	}
	c := d.decode(root)
	if err := d.errs.finish(setOrder); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxColumn finds the column of a YAML syntax error that yaml.v3 reports by line
// alone (it keeps the column to itself): the shortest prefix of the document that ends
// on that line and fails with the same error ends at the character where the parser
// gave up. 0 when it cannot tell (the error shows only at a later line, or the line or
// the file is too long to search).
func syntaxColumn(data []byte, line int, msg string) int {
	start := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[start:], '\n')
		if i < 0 {
			return 0
		}
		start += i + 1
	}
	end := len(data)
	if i := bytes.IndexByte(data[start:], '\n'); i >= 0 {
		end = start + i
	}
	if end-start > 4096 || end > 1<<20 {
		return 0 // each probe parses the prefix again: keep a huge file's error fast
	}
	fails := func(n int) bool {
		var doc yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(data[:start+n])).Decode(&doc)
		return err != nil && err.Error() == msg
	}
	if !fails(end - start) {
		return 0
	}
	if end == start {
		return 1 // an empty line: the error is at its start (the end of the file)
	}
	lo, hi := 1, end-start // the smallest n in [lo, hi] that fails
	for lo < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return utf8.RuneCount(data[start : start+lo])
}

// parseYAML returns the document's root node: a mapping, or a fresh empty one for an
// empty file (whose missing keys are then reported as such).
func (d *decoder) parseYAML(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, true
	}
	if err != nil {
		e := Error{File: d.file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = "invalid YAML: " + m[2]
			e.Col = syntaxColumn(data, e.Line, err.Error())
		}
		d.errs.List = append(d.errs.List, e)
		return nil, false
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		e := Error{File: d.file, Line: next.Line, Col: next.Column,
			Msg: "a scenario file holds one YAML document; found a second (---)"}
		if m := yamlLine.FindStringSubmatch(fmt.Sprint(err)); m != nil && e.Line == 0 {
			e.Line, _ = strconv.Atoi(m[1])
		}
		d.errs.List = append(d.errs.List, e)
		return nil, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, true
	}
	if root.Kind != yaml.MappingNode {
		d.errs.List = append(d.errs.List, Error{File: d.file, Line: root.Line, Col: root.Column,
			Msg: fmt.Sprintf("got %s; a scenario is a mapping with keys %s", kindName(root), strings.Join(topKeys, ", "))})
		return nil, false
	}
	return root, true
}

// decode builds the Config, defaults filled, and checks it; problems go to d.errs.
func (d *decoder) decode(root *yaml.Node) *sim.Config {
	cfg := defaultConfig()
	f, _ := d.mapping(root, "", topKeys...)

	if parse(f, "name", &cfg.Name, str) {
		if !namePattern.MatchString(cfg.Name) {
			d.errPath("name", "%q must match [a-z0-9-]+", cfg.Name)
		}
	} else if !f.has("name") {
		f.required("name", " (a word matching [a-z0-9-]+)")
	}
	parse(f, "description", &cfg.Description, str)
	parse(f, "seed", &cfg.Seed, parseUint64)
	parse(f, "duration", &cfg.Duration, parsePositiveDuration)

	d.orchestrator(f.get("orchestrator"), &cfg.Orchestrator)
	d.network(f.get("network"), &cfg.Network)
	d.queue(f.get("queue"), &cfg.Queue)

	pools := d.workers(f)
	cfg.Workers = pools
	comps, compInfos := d.components(f.get("components"))
	loads, loadCompSet := d.loads(f)
	faults, faultInfos := d.faults(f.get("faults"))
	cfg.Faults = faults
	cfg.Expect = d.expectations(f.get("expect"))

	cfg.Components, cfg.Load = d.route(pools, comps, compInfos, loads, loadCompSet)
	d.checkFaultTargets(pools, cfg.Faults, faultInfos)
	for i, fc := range cfg.Faults {
		if fc.Kind == sim.FaultQueueRestart && cfg.Queue.Kind != sim.QueueJetStream {
			d.errPath(joinPath(faultInfos[i].path, "queue_restart"), "restarts the JetStream queue's server; it needs queue.kind jetstream (this scenario's queue is %s)", cfg.Queue.Kind)
		}
	}
	return &cfg
}

var orchestratorKeys = []string{"detector", "heartbeat_timeout", "heartbeat_interval", "queue_timeout",
	"execution_timeout", "max_transport_retries", "max_component_retries", "backoff", "task_ids",
	"discovery", "unhealthy_after", "max_tasks_per_run", "scan_duration", "recovery_time"}

func (d *decoder) orchestrator(n *yaml.Node, o *sim.OrchestratorConfig) {
	f, ok := d.mapping(n, "orchestrator", orchestratorKeys...)
	if !ok {
		return
	}
	parse(f, "detector", &o.Detector, enumOf(model.Detectors()...))
	parse(f, "heartbeat_timeout", &o.HeartbeatTimeout, parsePositiveDuration)
	parse(f, "heartbeat_interval", &o.HeartbeatInterval, func(s string) (time.Duration, error) {
		v, err := parseDuration(s)
		if err == nil && v%time.Second != 0 {
			err = fmt.Errorf("%s is not a whole number of seconds (TaskAssignment.heartbeat_interval_secs is an integer)", s)
		}
		if err == nil && v/time.Second > 1<<32-1 {
			err = fmt.Errorf("%s does not fit heartbeat_interval_secs (uint32)", s)
		}
		return v, err
	})
	parse(f, "queue_timeout", &o.QueueTimeout, parsePositiveDuration)
	parse(f, "execution_timeout", &o.ExecutionTimeout, parseDuration)
	parse(f, "max_transport_retries", &o.MaxTransportRetries, intIn(0, 1000))
	parse(f, "max_component_retries", &o.MaxComponentRetries, intIn(0, 1000))
	d.backoff(f.get("backoff"), &o.Backoff)
	parse(f, "task_ids", &o.TaskIDs, enum(sim.TaskIDsReuse, sim.TaskIDsPerAttempt))
	var disc string
	if parse(f, "discovery", &disc, enum[string]("on_connect", "off")) {
		o.Discovery = disc == "on_connect"
	}
	parse(f, "unhealthy_after", &o.UnhealthyAfter, intIn(1, 1_000_000))
	parse(f, "max_tasks_per_run", &o.MaxTasksPerRun, intIn(0, 1_000_000))
	parse(f, "scan_duration", &o.ScanDuration, parseDuration)
	if o.ScanDuration >= o.HeartbeatTimeout {
		d.errPath(f.at("scan_duration"), "%s is not less than heartbeat_timeout %s (a scan must end before the next begins)",
			formatDuration(o.ScanDuration), formatDuration(o.HeartbeatTimeout))
	}
	parse(f, "recovery_time", &o.RecoveryTime, parseDuration)
}

func (d *decoder) backoff(n *yaml.Node, b *model.Backoff) {
	const path = "orchestrator.backoff"
	f, ok := d.mapping(n, path, "kind", "min", "max", "factor")
	if !ok {
		return
	}
	parse(f, "kind", &b.Kind, enumOf(model.BackoffKinds()...))
	parse(f, "min", &b.Min, parseDuration)
	parse(f, "max", &b.Max, parseDuration)
	if b.Kind == model.BackoffExponential {
		b.Factor = defaultBackoffFactor
		parse(f, "factor", &b.Factor, func(s string) (float64, error) {
			v, ok := parseFloat(s)
			if !ok || v < 1 || v > 1000 {
				return 0, fmt.Errorf("%q is not a number in [1, 1000]", s)
			}
			return v, nil
		})
	} else if f.has("factor") {
		d.errPath(f.at("factor"), "only kind exponential takes a factor; kind is %s", b.Kind)
	}
	if b.Min > b.Max {
		d.errPath(f.at("min"), "%s is more than max %s", formatDuration(b.Min), formatDuration(b.Max))
	}
}

func (d *decoder) network(n *yaml.Node, nw *sim.NetworkConfig) {
	f, ok := d.mapping(n, "network", "latency", "loss", "duplicate", "wire", "rpc_timeout", "loss_model", "retransmit_after")
	if !ok {
		return
	}
	if v := f.get("latency"); v != nil {
		nw.Latency, _ = d.dist(v, f.at("latency"), nw.Latency)
	}
	parse(f, "loss", &nw.Loss, parseFraction)
	parse(f, "duplicate", &nw.Duplicate, parseFraction)
	parse(f, "wire", &nw.Wire, parseBool)
	parse(f, "rpc_timeout", &nw.RPCTimeout, parsePositiveDuration)
	parse(f, "loss_model", &nw.LossModel, enum(sim.LossRetransmit, sim.LossDrop))
	parse(f, "retransmit_after", &nw.RetransmitAfter, parsePositiveDuration)
}

func (d *decoder) queue(n *yaml.Node, q *sim.QueueConfig) {
	f, ok := d.mapping(n, "queue", "kind", "ack_wait", "pipe_bytes")
	if !ok {
		return
	}
	parse(f, "kind", &q.Kind, enum(sim.QueuePull, sim.QueueJetStream))
	parse(f, "ack_wait", &q.AckWait, parsePositiveDuration)
	parse(f, "pipe_bytes", &q.PipeBytes, func(s string) (int, error) {
		v, err := parseSize(s)
		if err == nil && v < 1 {
			err = fmt.Errorf("%s is not at least 1B (a stream must be able to carry an assignment)", s)
		}
		return v, err
	})
}

var poolKeys = []string{"pool", "count", "flavour", "concurrency", "ack", "heartbeat_interval", "clock_drift", "start"}

func (d *decoder) workers(top *fields) []sim.PoolConfig {
	n := top.vals["workers"]
	if isNull(n) {
		return []sim.PoolConfig{defaultPool(defaultPoolName)}
	}
	items, ok := d.seq(n, "workers", "pools")
	if !ok {
		return []sim.PoolConfig{defaultPool(defaultPoolName)}
	}
	if len(items) == 0 {
		d.errAt(n, "workers", "empty; list at least one pool, or omit workers for one pool %q of %d python workers", defaultPoolName, defaultPoolCount)
	}
	var pools []sim.PoolConfig
	firstAt := map[string]string{}
	for i, it := range items {
		path := indexPath("workers", i)
		p := defaultPool(defaultPoolName)
		f, ok := d.mapping(it, path, poolKeys...)
		if !ok {
			continue
		}
		if parse(f, "pool", &p.Pool, str) && !poolPattern.MatchString(p.Pool) {
			d.errPath(f.at("pool"), "%q must match [a-z0-9_-]+", p.Pool)
		}
		if prev, dup := firstAt[p.Pool]; dup {
			d.errPath(f.at("pool"), "pool %q is already defined at %s; pool names must be unique", p.Pool, prev)
			continue // keep one, so that routing reports nothing more about it
		} else {
			firstAt[p.Pool] = path
		}
		parse(f, "count", &p.Count, intIn(0, maxWorkers))
		parse(f, "flavour", &p.Flavour, enumOf(model.Flavours()...))
		p.Concurrency = p.Flavour.DefaultConcurrency()
		parse(f, "concurrency", &p.Concurrency, intIn(1, 100_000))
		parse(f, "ack", &p.Ack, enum(sim.AckOnReceipt, sim.AckOnComplete))
		parse(f, "heartbeat_interval", &p.HeartbeatInterval, parseDuration)
		parse(f, "clock_drift", &p.ClockDrift, parseFraction)
		if v := f.get("start"); v != nil {
			p.Start, _ = d.dist(v, f.at("start"), p.Start)
		}
		pools = append(pools, p)
	}
	return pools
}

var componentKeys = []string{"path", "component_id", "input", "pool", "duration", "error_rate", "errors", "retriable"}

// compInfo is what routing needs to know about a decoded component entry.
type compInfo struct {
	path    string // components[i]
	poolSet bool   // the entry named its pool; the others are routed to the only pool
}

// components decodes `components:`. An entry whose path is bad or taken is reported and
// left out, so that routing does not report it again.
func (d *decoder) components(n *yaml.Node) (comps []sim.ComponentConfig, infos []compInfo) {
	items, _ := d.seq(n, "components", "components")
	for i, it := range items {
		path := indexPath("components", i)
		c := defaultComponent("", "")
		f, ok := d.mapping(it, path, componentKeys...)
		if !ok {
			continue
		}
		if !parse(f, "path", &c.Path, checkComponentPath) {
			if !f.has("path") {
				f.required("path", " (the component path, e.g. /python/embed)")
			}
			continue
		}
		if j := slices.IndexFunc(comps, func(x sim.ComponentConfig) bool { return x.Path == c.Path }); j >= 0 {
			d.errPath(f.at("path"), "component %s is already defined at %s", c.Path, infos[j].path)
			continue
		}
		parse(f, "pool", &c.Pool, str)
		hasPool := f.has("pool") // a bad value is reported here, not again as missing
		if v := f.get("duration"); v != nil {
			c.Duration, _ = d.dist(v, f.at("duration"), c.Duration)
		}
		parse(f, "error_rate", &c.ErrorRate, parseFraction)
		if v := f.get("errors"); v != nil {
			d.errorKinds(v, f.at("errors"), &c)
		}
		parse(f, "retriable", &c.Retriable, parseBool)
		c.ComponentID = c.Path // the default, written out by Show
		parse(f, "component_id", &c.ComponentID, checkComponentID)
		if v := f.get("input"); v != nil {
			c.Input, _ = d.input(v, f.at("input"))
		}
		if j := slices.IndexFunc(comps, func(x sim.ComponentConfig) bool { return x.WireID() == c.WireID() }); j >= 0 {
			d.errPath(f.at("component_id"), "component_id %s is already %s's; each component needs its own (it names the component on the wire)", c.WireID(), comps[j].Path)
		}
		comps = append(comps, c)
		infos = append(infos, compInfo{path: path, poolSet: hasPool})
	}
	return comps, infos
}

func checkComponentPath(s string) (string, error) {
	if !strings.HasPrefix(s, "/") || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' }) {
		return "", fmt.Errorf("%q is not a component path (starts with /, no spaces, e.g. /python/embed)", s)
	}
	return s, nil
}

var loadKeys = []string{"component", "tasks", "arrival", "at", "payload", "steps_per_run"}

func (d *decoder) loads(top *fields) (loads []sim.LoadConfig, compSet []bool) {
	n := top.vals["load"]
	if isNull(n) {
		top.required("load", " (a list of streams of steps, e.g. [{component: /python/embed, tasks: 1000}])")
		return nil, nil
	}
	items, ok := d.seq(n, "load", "load streams")
	if ok && len(items) == 0 {
		d.errAt(n, "load", "empty; list at least one stream of steps")
	}
	for i, it := range items {
		path := indexPath("load", i)
		l := defaultLoad()
		f, ok := d.mapping(it, path, loadKeys...)
		if !ok {
			continue
		}
		parse(f, "component", &l.Component, checkComponentPath)
		hasComp := f.has("component") // a bad value is reported here, not again as missing
		parse(f, "tasks", &l.Tasks, intIn(1, maxTasks))
		d.arrival(f.get("arrival"), f.at("arrival"), &l)
		parse(f, "at", &l.At, parseDuration)
		parseQuotable(f, "payload", &l.PayloadBytes, parseSize)
		parse(f, "steps_per_run", &l.StepsPerRun, intIn(1, maxTasks))
		loads = append(loads, l)
		compSet = append(compSet, hasComp)
	}
	return loads, compSet
}

func (d *decoder) arrival(n *yaml.Node, path string, l *sim.LoadConfig) {
	f, ok := d.mapping(n, path, "process", "rate")
	if !ok {
		return
	}
	parse(f, "process", &l.Arrival, enum(sim.ArrivalPoisson, sim.ArrivalConstant, sim.ArrivalBurst))
	if l.Arrival == sim.ArrivalBurst {
		l.RatePerSec = 0
		if f.has("rate") {
			d.errPath(f.at("rate"), "a burst has no rate (all its tasks arrive at `at`); remove it or use process poisson or constant")
		}
		return
	}
	parse(f, "rate", &l.RatePerSec, parseRate)
}

// route fills each component's pool and each stream's component, adding an implicit
// component for a stream whose component has no entry, and checks the references.
func (d *decoder) route(pools []sim.PoolConfig, comps []sim.ComponentConfig, compInfos []compInfo,
	loads []sim.LoadConfig, loadCompSet []bool) ([]sim.ComponentConfig, []sim.LoadConfig) {
	names := poolNames(pools)
	only := ""
	if len(pools) == 1 {
		only = pools[0].Pool
	}
	for i := range comps {
		path, poolSet := compInfos[i].path, compInfos[i].poolSet
		switch {
		case poolSet && !hasPool(pools, comps[i].Pool):
			d.errPath(joinPath(path, "pool"), "no pool %q; pools: %s", comps[i].Pool, strings.Join(names, ", "))
		case !poolSet && only != "":
			comps[i].Pool = only
		case !poolSet && len(pools) > 1:
			d.errPath(joinPath(path, "pool"), "required when there are several pools (%s)", strings.Join(names, ", "))
		}
	}
	declared := len(comps)
	for i := range loads {
		path := indexPath("load", i)
		if loadCompSet[i] && loads[i].Component == "" {
			continue // already reported
		}
		if !loadCompSet[i] {
			switch declared {
			case 0:
				loads[i].Component = defaultComponentPath
			case 1:
				loads[i].Component = comps[0].Path
			default:
				d.errPath(joinPath(path, "component"), "required when there are several components (%s)", strings.Join(componentPaths(comps[:declared]), ", "))
				continue
			}
		}
		if slices.ContainsFunc(comps, func(c sim.ComponentConfig) bool { return c.Path == loads[i].Component }) {
			continue
		}
		// No entry: an implicit component with the defaults, if the pool is unambiguous.
		if only == "" {
			if len(pools) > 1 {
				d.errPath(joinPath(path, "component"), "%s has no entry in components and there are several pools (%s); add a components entry naming its pool",
					loads[i].Component, strings.Join(names, ", "))
			}
			continue
		}
		comps = append(comps, defaultComponent(loads[i].Component, only))
	}
	return comps, loads
}

func poolNames(pools []sim.PoolConfig) []string {
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.Pool
	}
	return names
}

func componentPaths(comps []sim.ComponentConfig) []string {
	paths := make([]string, len(comps))
	for i, c := range comps {
		paths[i] = c.Path
	}
	return paths
}

func hasPool(pools []sim.PoolConfig, name string) bool {
	return slices.ContainsFunc(pools, func(p sim.PoolConfig) bool { return p.Pool == name })
}
