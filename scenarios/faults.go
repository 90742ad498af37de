package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tasksim/tasksim/sim"
	"go.yaml.in/yaml/v3"
)

var distKinds = []sim.DistKind{sim.DistConstant, sim.DistUniform, sim.DistExponential, sim.DistLognormal, sim.DistPareto}

// distParams lists what each distribution takes; all of them are required.
var distParams = map[sim.DistKind][]string{
	sim.DistConstant:    {"value"},
	sim.DistUniform:     {"min", "max"},
	sim.DistExponential: {"mean"},
	sim.DistLognormal:   {"median", "p99"},
	sim.DistPareto:      {"min", "alpha"},
}

// dist decodes a distribution of durations: a mapping with `dist`, or a bare duration
// (a constant). On a problem it reports it and returns def.
func (d *decoder) dist(n *yaml.Node, path string, def sim.Dist) (sim.Dist, bool) {
	if n.Kind == yaml.ScalarNode {
		v, err := parseDuration(n.Value)
		if err != nil {
			d.errAt(n, path, "%s, or a distribution such as {dist: lognormal, median: 2s, p99: 20s}", err)
			return def, false
		}
		return sim.Dist{Kind: sim.DistConstant, Value: v}, true
	}
	f, ok := d.mapping(n, path, "dist", "value", "min", "max", "mean", "median", "p99", "alpha")
	if !ok {
		return def, false
	}
	var x sim.Dist
	if !parse(f, "dist", &x.Kind, enum(distKinds...)) {
		if !f.has("dist") {
			f.required("dist", fmt.Sprintf(" (one of %s)", strings.Join(kindWords(distKinds), ", ")))
		}
		return def, false
	}
	params := distParams[x.Kind]
	before := len(d.errs.List)
	for _, k := range []string{"value", "min", "max", "mean", "median", "p99", "alpha"} {
		if f.has(k) && !slices.Contains(params, k) {
			d.errPath(f.at(k), "%s takes %s, not %s", x.Kind, strings.Join(params, " and "), k)
		}
	}
	for _, k := range params {
		if !f.has(k) {
			f.required(k, fmt.Sprintf(" for %s (it takes %s)", x.Kind, strings.Join(params, " and ")))
		}
	}
	switch x.Kind {
	case sim.DistConstant:
		parse(f, "value", &x.Value, parseDuration)
	case sim.DistUniform:
		if parse(f, "min", &x.Min, parseDuration) && parse(f, "max", &x.Max, parseDuration) && x.Min > x.Max {
			d.errPath(f.at("max"), "%s is less than min %s", formatDuration(x.Max), formatDuration(x.Min))
		}
	case sim.DistExponential:
		parse(f, "mean", &x.Mean, parsePositiveDuration)
	case sim.DistLognormal:
		if parse(f, "median", &x.Median, parsePositiveDuration) && parse(f, "p99", &x.P99, parseDuration) && x.P99 <= x.Median {
			d.errPath(f.at("p99"), "%s is not more than median %s (a lognormal's p99 lies above its median)", formatDuration(x.P99), formatDuration(x.Median))
		}
	case sim.DistPareto:
		parse(f, "min", &x.Min, parsePositiveDuration)
		parse(f, "alpha", &x.Alpha, func(s string) (float64, error) {
			v, ok := parseFloat(s)
			if !ok || v <= 0 || v > 1000 {
				return 0, fmt.Errorf("%q is not a number in (0, 1000]", s)
			}
			return v, nil
		})
	}
	if len(d.errs.List) != before {
		return def, false
	}
	return x, true
}

func kindWords[T ~string](kinds []T) []string {
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = string(k)
	}
	return words
}

// partitionModes: blackhole first, the default (v1's meaning).
var partitionModes = []sim.PartitionMode{sim.PartitionBlackhole, sim.PartitionReset}

var faultKinds = []sim.FaultKind{sim.FaultCrash, sim.FaultHeartbeatLoss, sim.FaultPartition, sim.FaultPause,
	sim.FaultDuplicateDelivery, sim.FaultOrchestratorRestart, sim.FaultQueueRestart, sim.FaultTerminate}

// windowed faults last `for`; the others happen at an instant.
func windowed(k sim.FaultKind) bool {
	switch k {
	case sim.FaultHeartbeatLoss, sim.FaultPartition, sim.FaultPause, sim.FaultDuplicateDelivery:
		return true
	}
	return false
}

const windowedWords = "heartbeat_loss, partition, pause, duplicate_delivery"

// faultInfo records, per decoded fault, where its kind's mapping is and whether its
// target named a pool; the others are routed to the only pool once the pools are known.
type faultInfo struct {
	path    string
	poolSet bool
}

func (d *decoder) faults(n *yaml.Node) ([]sim.FaultConfig, []faultInfo) {
	items, _ := d.seq(n, "faults", "faults")
	var out []sim.FaultConfig
	var infos []faultInfo
	keys := append([]string{"at", "for", "restart_after"}, kindWords(faultKinds)...)
	for i, it := range items {
		path := indexPath("faults", i)
		f, ok := d.mapping(it, path, keys...)
		if !ok {
			continue
		}
		var fc sim.FaultConfig
		var kinds []sim.FaultKind
		for _, k := range faultKinds {
			if _, present := f.vals[string(k)]; present {
				kinds = append(kinds, k)
			}
		}
		switch len(kinds) {
		case 0:
			d.errAt(f.node, path, "no fault kind; want exactly one of %s", strings.Join(kindWords(faultKinds), ", "))
			continue
		case 1:
			fc.Kind = kinds[0]
		default:
			d.errAt(f.node, path, "has %s; one fault entry has exactly one kind (split it into several entries)",
				strings.Join(kindWords(kinds), " and "))
			continue
		}
		if !parse(f, "at", &fc.At, parseDuration) && !f.has("at") {
			f.required("at", " (when the fault fires, e.g. at: 60s)")
		}
		if windowed(fc.Kind) {
			if !parse(f, "for", &fc.For, parsePositiveDuration) && !f.has("for") {
				f.required("for", fmt.Sprintf(" for %s (how long it lasts, e.g. for: 30s)", fc.Kind))
			}
		} else if f.has("for") {
			d.errPath(f.at("for"), "%s happens at an instant; only %s take for", fc.Kind, windowedWords)
		}
		if fc.Kind == sim.FaultCrash {
			parse(f, "restart_after", &fc.RestartAfter, func(s string) (time.Duration, error) {
				v, err := parsePositiveDuration(s)
				if err != nil {
					err = fmt.Errorf("%w (omit restart_after to keep the workers down)", err)
				}
				return v, err
			})
		} else if f.has("restart_after") {
			d.errPath(f.at("restart_after"), "only crash takes restart_after; this is %s", fc.Kind)
		}
		info := faultInfo{path: joinPath(path, string(fc.Kind))}
		info.poolSet = d.faultBody(f.vals[string(fc.Kind)], info.path, &fc)
		out = append(out, fc)
		infos = append(infos, info)
	}
	return out, infos
}

// faultBody decodes the kind's mapping (`crash: {pool: python, fraction: 10%}`); it
// reports whether a pool was named.
func (d *decoder) faultBody(n *yaml.Node, path string, fc *sim.FaultConfig) bool {
	if fc.Kind == sim.FaultOrchestratorRestart || fc.Kind == sim.FaultQueueRestart {
		fc.Downtime = time.Second
		f, ok := d.mapping(n, path, "downtime")
		if ok {
			parse(f, "downtime", &fc.Downtime, parseDuration)
		}
		return false
	}
	keys := []string{"pool", "fraction", "count", "workers"}
	hasRate := fc.Kind == sim.FaultHeartbeatLoss || fc.Kind == sim.FaultDuplicateDelivery
	if hasRate {
		keys = append(keys, "rate")
		fc.Rate = 1
	}
	if fc.Kind == sim.FaultPartition {
		keys = append(keys, "mode")
		fc.Mode = sim.PartitionBlackhole
	}
	f, ok := d.mapping(n, path, keys...)
	if !ok {
		return false
	}
	t := &fc.Target
	parse(f, "pool", &t.Pool, str)
	var chosen []string
	for _, k := range []string{"fraction", "count", "workers"} {
		if f.has(k) {
			chosen = append(chosen, k)
		}
	}
	if len(chosen) > 1 {
		d.errPath(f.at(chosen[1]), "a target has at most one of fraction, count, workers; this one has %s", strings.Join(chosen, " and "))
	}
	parse(f, "fraction", &t.Fraction, func(s string) (float64, error) {
		v, err := parseFraction(s)
		if err == nil && v == 0 {
			err = fmt.Errorf("%s selects no workers; want a fraction in (0, 1] (omit it for the whole pool)", s)
		}
		return v, err
	})
	parse(f, "count", &t.Count, intIn(1, maxWorkers))
	if v := f.get("workers"); v != nil {
		items, ok := d.seq(v, f.at("workers"), "worker names (POOL-N)")
		for i, it := range items {
			p := indexPath(f.at("workers"), i)
			if it == nil || it.Kind != yaml.ScalarNode || isNull(it) {
				d.errAt(v, p, "want a worker name POOL-N, e.g. python-3")
				continue
			}
			t.Workers = append(t.Workers, it.Value)
		}
		if ok && len(items) == 0 {
			d.errAt(v, f.at("workers"), "empty; list worker names (POOL-N), or omit workers for the whole pool")
		}
	}
	if hasRate {
		parse(f, "rate", &fc.Rate, parseFraction)
	}
	if fc.Kind == sim.FaultPartition {
		parse(f, "mode", &fc.Mode, enum(partitionModes...))
	}
	return f.has("pool")
}

// checkFaultTargets resolves each target's pool and checks that it selects workers
// that exist.
func (d *decoder) checkFaultTargets(pools []sim.PoolConfig, faults []sim.FaultConfig, infos []faultInfo) {
	names := poolNames(pools)
	for i := range faults {
		fc, info := &faults[i], infos[i]
		if fc.Kind == sim.FaultOrchestratorRestart || fc.Kind == sim.FaultQueueRestart {
			continue
		}
		t := &fc.Target
		if !info.poolSet {
			if len(pools) != 1 {
				d.errPath(joinPath(info.path, "pool"), "required when there are several pools (%s)", strings.Join(names, ", "))
				continue
			}
			t.Pool = pools[0].Pool
		}
		idx := slices.IndexFunc(pools, func(p sim.PoolConfig) bool { return p.Pool == t.Pool })
		if idx < 0 {
			d.errPath(joinPath(info.path, "pool"), "no pool %q; pools: %s", t.Pool, strings.Join(names, ", "))
			continue
		}
		size := pools[idx].Count
		if t.Count > size {
			d.errPath(joinPath(info.path, "count"), "%d is more than pool %s has (%d workers)", t.Count, t.Pool, size)
		}
		seen := map[string]bool{}
		for j, w := range t.Workers {
			p := indexPath(joinPath(info.path, "workers"), j)
			num, ok := strings.CutPrefix(w, t.Pool+"-")
			n, err := strconv.Atoi(num)
			switch {
			case !ok || err != nil || num != strconv.Itoa(n):
				d.errPath(p, "%q is not a worker of pool %s; want %s-N with N in [0, %d]", w, t.Pool, t.Pool, size-1)
			case n < 0 || n >= size:
				d.errPath(p, "%s: N=%d is not in [0, %d] (pool %s has %d workers)", w, n, size-1, t.Pool, size)
			case seen[w]:
				d.errPath(p, "%s is listed twice", w)
			}
			seen[w] = true
		}
	}
}
