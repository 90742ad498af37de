package shrink

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tasksim/tasksim/sim"
)

// A dimension proposes smaller versions of a scenario along one axis, most aggressive
// first; the search keeps the first that still fails and asks again.
type dimension struct {
	name string
	gen  func(s *state) []candidate
}

// dimensions in the order the search tries them: what removes most work first (steps
// and workers, which also makes every later run cheap and keeps a batch from running
// several full-size copies at once; faults, streams, pools), then what makes the rest
// smaller and simpler. The
// orchestrator's settings (detector, timeouts, retries) and the workers' flavour are
// never changed: they are the system under test, and a shorter timeout, say, would make
// a failure of its own rather than keep the original's.
var dimensions = []dimension{
	{"steps", fewerSteps},
	{"workers", fewerWorkers},
	{"faults", dropFaults},
	{"streams", dropStreams},
	{"pools", dropPools},
	{"fault size", smallerFaults},
	{"unused components", dropComponents},
	{"rates", lowerRates},
	{"distributions", constantDists},
	{"durations", shorterDurations},
	{"concurrency", lessConcurrency},
	{"duration", shorterCap},
}

// variant is a copy of the state's document changed by edit, which returns what it
// removed (for the file's header).
func (s *state) variant(change string, edit func(doc *yaml.Node) []string) candidate {
	d := clone(s.doc)
	return candidate{change: change, doc: d, removed: edit(d)}
}

// nouns name the entries of each list in the header.
var nouns = map[string]string{"faults": "fault", "load": "stream", "workers": "pool", "components": "component"}

// removeItems deletes the entries at idx of the list under key; a list of faults left
// empty goes altogether. It returns each entry as the original file had it.
func (s *state) removeItems(doc *yaml.Node, key string, idx []int) []string {
	seq := get(doc, key)
	var keep []*yaml.Node
	var removed []string
	for i, it := range seq.Content {
		if slices.Contains(idx, i) {
			text, ok := s.origins[position(it)]
			if !ok {
				text = inline(it)
			}
			removed = append(removed, nouns[key]+" "+text)
			continue
		}
		keep = append(keep, it)
	}
	seq.Content = keep
	if len(keep) == 0 && key == "faults" {
		del(doc, key)
	}
	return removed
}

// position identifies an entry of the original file across copies of the tree: the
// line and column it was parsed at, which copies keep and the encoder ignores.
func position(n *yaml.Node) [2]int { return [2]int{n.Line, n.Column} }

// recordOrigins remembers how the file wrote each entry of its lists.
func recordOrigins(doc *yaml.Node) map[[2]int]string {
	origins := map[[2]int]string{}
	for key := range nouns {
		for _, it := range items(doc, key) {
			if it.Line > 0 {
				origins[position(it)] = inline(it)
			}
		}
	}
	return origins
}

func (s *state) removal(change, key string, idx ...int) candidate {
	return s.variant(change, func(d *yaml.Node) []string { return s.removeItems(d, key, idx) })
}

func dropFaults(s *state) []candidate {
	n := len(items(s.doc, "faults"))
	var out []candidate
	if n > 1 {
		out = append(out, s.removal("remove every fault", "faults", seq(0, n)...))
	}
	if n > 3 {
		out = append(out, s.removal(fmt.Sprintf("remove faults[0..%d]", n/2-1), "faults", seq(0, n/2)...),
			s.removal(fmt.Sprintf("remove faults[%d..%d]", n/2, n-1), "faults", seq(n/2, n)...))
	}
	for i := range n {
		out = append(out, s.removal(fmt.Sprintf("remove faults[%d] (%s)", i, faultWord(s.cfg.Faults[i])), "faults", i))
	}
	return out
}

func faultWord(f sim.FaultConfig) string {
	return fmt.Sprintf("%s at %s", f.Kind, formatDuration(f.At))
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func dropStreams(s *state) []candidate {
	n := len(items(s.doc, "load"))
	if n < 2 {
		return nil
	}
	var out []candidate
	for i := range n {
		out = append(out, s.removal(fmt.Sprintf("remove load[%d] (%s)", i, s.cfg.Load[i].Component), "load", i))
	}
	return out
}

// dropPools removes a pool with everything that names it: its components, the streams
// of those components, and the faults aimed at it.
func dropPools(s *state) []candidate {
	n := len(items(s.doc, "workers"))
	if n < 2 {
		return nil
	}
	var out []candidate
	for i := range n {
		pool := s.cfg.Workers[i].Pool
		out = append(out, s.variant(fmt.Sprintf("remove pool %s (workers[%d]) and what runs on it", pool, i), func(d *yaml.Node) []string {
			removed := s.removeItems(d, "workers", []int{i})
			onPool := map[string]bool{}
			for _, c := range s.cfg.Components {
				if c.Pool == pool {
					onPool[c.Path] = true
				}
			}
			var comps, loads, faults []int
			for j := range items(d, "components") {
				if s.cfg.Components[j].Pool == pool {
					comps = append(comps, j)
				}
			}
			for j := range items(d, "load") {
				if onPool[s.cfg.Load[j].Component] {
					loads = append(loads, j)
				}
			}
			for j, f := range s.cfg.Faults {
				if f.Kind != sim.FaultOrchestratorRestart && f.Target.Pool == pool {
					faults = append(faults, j)
				}
			}
			removed = append(removed, s.removeItems(d, "components", comps)...)
			removed = append(removed, s.removeItems(d, "load", loads)...)
			if len(faults) > 0 {
				removed = append(removed, s.removeItems(d, "faults", faults)...)
			}
			return removed
		}))
	}
	return out
}

func dropComponents(s *state) []candidate {
	used := map[string]bool{}
	for _, l := range s.cfg.Load {
		used[l.Component] = true
	}
	var out []candidate
	for j := range items(s.doc, "components") {
		if c := s.cfg.Components[j]; !used[c.Path] {
			out = append(out, s.removal(fmt.Sprintf("remove unused component %s", c.Path), "components", j))
		}
	}
	return out
}

func fewerSteps(s *state) []candidate {
	var out []candidate
	for i, l := range s.cfg.Load {
		for _, v := range intProbes(l.Tasks, 1) {
			out = append(out, s.variant(fmt.Sprintf("load[%d].tasks %d -> %d", i, l.Tasks, v), func(d *yaml.Node) []string {
				replace(items(d, "load")[i], "tasks", plain(strconv.Itoa(v)), strconv.Itoa(l.Tasks))
				return nil
			}))
		}
	}
	return out
}

// poolItem returns workers[i] of the document; a scenario without `workers:` has one
// implicit pool, which is written out so that it can be changed.
func poolItem(d *yaml.Node, cfg *sim.Config, i int) *yaml.Node {
	if ws := items(d, "workers"); ws != nil {
		return ws[i]
	}
	p := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar("pool"), scalar(cfg.Workers[0].Pool)}}
	l := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{p}}
	set(d, "workers", l)
	keyNode(d, "workers").LineComment = "# " + notePrefix + "the implicit pool, written out"
	return p
}

func fewerWorkers(s *state) []candidate {
	var out []candidate
	for i, p := range s.cfg.Workers {
		for _, v := range intProbes(p.Count, 1) {
			out = append(out, s.variant(fmt.Sprintf("workers[%d].count %d -> %d", i, p.Count, v), func(d *yaml.Node) []string {
				replace(poolItem(d, s.cfg, i), "count", plain(strconv.Itoa(v)), strconv.Itoa(p.Count))
				clampFaults(d, s.cfg, p.Pool, v)
				return nil
			}))
		}
	}
	return out
}

// clampFaults keeps the faults aimed at pool within its new size: a count above it
// becomes the size, named workers beyond it are dropped.
func clampFaults(d *yaml.Node, cfg *sim.Config, pool string, size int) {
	fs := items(d, "faults")
	for j, f := range cfg.Faults {
		if f.Kind == sim.FaultOrchestratorRestart || f.Target.Pool != pool {
			continue
		}
		body := child(fs[j], string(f.Kind))
		switch {
		case f.Target.Count > size:
			replace(body, "count", plain(strconv.Itoa(size)), strconv.Itoa(f.Target.Count))
		case len(f.Target.Workers) > 0:
			var keep []string
			for _, w := range f.Target.Workers {
				if n, err := strconv.Atoi(strings.TrimPrefix(w, pool+"-")); err == nil && n < size {
					keep = append(keep, w)
				}
			}
			if len(keep) == 0 {
				keep = []string{pool + "-0"}
			}
			if len(keep) < len(f.Target.Workers) {
				replace(body, "workers", nameList(keep), "")
			}
		}
	}
}

func nameList(names []string) *yaml.Node {
	l := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, n := range names {
		l.Content = append(l.Content, scalar(n))
	}
	return l
}

func poolSize(cfg *sim.Config, pool string) int {
	for _, p := range cfg.Workers {
		if p.Pool == pool {
			return p.Count
		}
	}
	return 0
}

// smallerFaults shortens each fault's window, moves it earlier (so that less load has
// to run before it), and aims it at fewer workers, at a lower rate, with a shorter
// downtime.
func smallerFaults(s *state) []candidate {
	var out []candidate
	for i, f := range s.cfg.Faults {
		kind := string(f.Kind)
		if f.For > 0 {
			for _, v := range durProbes(f.For, time.Millisecond) {
				out = append(out, s.variant(fmt.Sprintf("faults[%d].for %s -> %s", i, formatDuration(f.For), formatDuration(v)), func(d *yaml.Node) []string {
					replace(items(d, "faults")[i], "for", scalar(formatDuration(v)), formatDuration(f.For))
					return nil
				}))
			}
		}
		for _, v := range durProbes(f.At, 0) {
			out = append(out, s.variant(fmt.Sprintf("faults[%d].at %s -> %s", i, formatDuration(f.At), formatDuration(v)), func(d *yaml.Node) []string {
				replace(items(d, "faults")[i], "at", scalar(formatDuration(v)), formatDuration(f.At))
				return nil
			}))
		}
		if f.Kind == sim.FaultOrchestratorRestart {
			for _, v := range durProbes(f.Downtime, time.Millisecond) {
				out = append(out, s.variant(fmt.Sprintf("faults[%d].orchestrator_restart.downtime %s -> %s", i, formatDuration(f.Downtime), formatDuration(v)), func(d *yaml.Node) []string {
					replace(child(items(d, "faults")[i], kind), "downtime", scalar(formatDuration(v)), formatDuration(f.Downtime))
					return nil
				}))
			}
			continue
		}
		size := poolSize(s.cfg, f.Target.Pool)
		hit := size
		switch {
		case f.Target.Count > 0:
			hit = f.Target.Count
		case f.Target.Fraction > 0:
			hit = int(math.Round(f.Target.Fraction * float64(size)))
		case len(f.Target.Workers) > 0:
			hit = len(f.Target.Workers)
		}
		for _, v := range intProbes(hit, 1) {
			out = append(out, s.variant(fmt.Sprintf("faults[%d].%s: %d workers -> %d", i, kind, hit, v), func(d *yaml.Node) []string {
				body := child(items(d, "faults")[i], kind)
				if len(f.Target.Workers) > 0 {
					replace(body, "workers", nameList(f.Target.Workers[:v]), "")
					return nil
				}
				if f.Target.Fraction > 0 {
					swapKey(body, "fraction", "count", plain(strconv.Itoa(v)))
					return nil
				}
				replace(body, "count", plain(strconv.Itoa(v)), "the whole pool")
				return nil
			}))
		}
		if f.Kind == sim.FaultHeartbeatLoss || f.Kind == sim.FaultDuplicateDelivery {
			for _, v := range floatProbes(f.Rate, 0.01, false) {
				out = append(out, s.variant(fmt.Sprintf("faults[%d].%s.rate %s -> %s", i, kind, formatFloat(f.Rate), formatFloat(v)), func(d *yaml.Node) []string {
					replace(child(items(d, "faults")[i], kind), "rate", plain(formatFloat(v)), formatFloat(f.Rate))
					return nil
				}))
			}
		}
	}
	return out
}

// swapKey replaces key old by key new with value v, in place, noting what was there.
func swapKey(m *yaml.Node, old, new string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == old {
			v.LineComment = "# " + notePrefix + "was " + old + ": " + inline(m.Content[i+1])
			m.Content[i], m.Content[i+1] = scalar(new), v
			return
		}
	}
	replace(m, new, v, "")
}

// lowerRates lowers message loss and duplication, component error rates, and arrival rates.
func lowerRates(s *state) []candidate {
	var out []candidate
	nw := s.cfg.Network
	for _, r := range []struct {
		key string
		v   float64
	}{{"loss", nw.Loss}, {"duplicate", nw.Duplicate}} {
		for _, v := range floatProbes(r.v, 0, true) {
			out = append(out, s.variant(fmt.Sprintf("network.%s %s -> %s", r.key, formatFloat(r.v), formatFloat(v)), func(d *yaml.Node) []string {
				replace(child(d, "network"), r.key, plain(formatFloat(v)), formatFloat(r.v))
				return nil
			}))
		}
	}
	for j := range items(s.doc, "components") {
		c := s.cfg.Components[j]
		for _, v := range floatProbes(c.ErrorRate, 0, true) {
			out = append(out, s.variant(fmt.Sprintf("components[%d].error_rate %s -> %s", j, formatFloat(c.ErrorRate), formatFloat(v)), func(d *yaml.Node) []string {
				replace(items(d, "components")[j], "error_rate", plain(formatFloat(v)), formatFloat(c.ErrorRate))
				return nil
			}))
		}
	}
	for i, l := range s.cfg.Load {
		if l.Arrival == sim.ArrivalBurst {
			continue
		}
		// Not so low that the stream would outlast the run.
		floor := roundUp(max(1.0/3600, 2*float64(l.Tasks)/s.cfg.Duration.Seconds()))
		for _, v := range floatProbes(l.RatePerSec, floor, false) {
			out = append(out, s.variant(fmt.Sprintf("load[%d].arrival.rate %s -> %s", i, formatRate(l.RatePerSec), formatRate(v)), func(d *yaml.Node) []string {
				replace(child(items(d, "load")[i], "arrival"), "rate", scalar(formatRate(v)), formatRate(l.RatePerSec))
				return nil
			}))
		}
	}
	return out
}

// constantDists replaces random distributions by a constant at their typical value, and
// poisson arrivals by evenly spaced ones.
func constantDists(s *state) []candidate {
	var out []candidate
	for j := range items(s.doc, "components") {
		c := s.cfg.Components[j]
		for _, v := range constants(c.Duration) {
			out = append(out, s.variant(fmt.Sprintf("components[%d].duration %s -> %s", j, c.Duration.Kind, formatDuration(v)), func(d *yaml.Node) []string {
				replace(items(d, "components")[j], "duration", scalar(formatDuration(v)), distText(c.Duration))
				return nil
			}))
		}
	}
	for _, v := range constants(s.cfg.Network.Latency) {
		out = append(out, s.variant(fmt.Sprintf("network.latency %s -> %s", s.cfg.Network.Latency.Kind, formatDuration(v)), func(d *yaml.Node) []string {
			replace(child(d, "network"), "latency", scalar(formatDuration(v)), distText(s.cfg.Network.Latency))
			return nil
		}))
	}
	for i, p := range s.cfg.Workers {
		for _, v := range constants(p.Start) {
			out = append(out, s.variant(fmt.Sprintf("workers[%d].start %s -> %s", i, p.Start.Kind, formatDuration(v)), func(d *yaml.Node) []string {
				replace(poolItem(d, s.cfg, i), "start", scalar(formatDuration(v)), distText(p.Start))
				return nil
			}))
		}
	}
	for i, l := range s.cfg.Load {
		if l.Arrival == sim.ArrivalPoisson {
			out = append(out, s.variant(fmt.Sprintf("load[%d].arrival poisson -> constant", i), func(d *yaml.Node) []string {
				a := child(items(d, "load")[i], "arrival")
				replace(a, "process", scalar(string(sim.ArrivalConstant)), string(sim.ArrivalPoisson))
				if get(a, "rate") == nil {
					set(a, "rate", scalar(formatRate(l.RatePerSec)))
				}
				return nil
			}))
		}
	}
	return out
}

// constants are the constant values that can stand for a random distribution: its
// typical value, then its least.
func constants(x sim.Dist) []time.Duration {
	switch x.Kind {
	case sim.DistLognormal:
		return []time.Duration{x.Median}
	case sim.DistExponential:
		return []time.Duration{x.Mean}
	case sim.DistUniform:
		if mid := nice((x.Min + x.Max) / 2); mid != x.Min {
			return []time.Duration{mid, x.Min}
		}
		return []time.Duration{x.Min}
	case sim.DistPareto:
		return []time.Duration{x.Min}
	}
	return nil
}

// shorterDurations shortens constant execution times, latencies and start delays, and
// starts streams earlier.
func shorterDurations(s *state) []candidate {
	var out []candidate
	for j := range items(s.doc, "components") {
		c := s.cfg.Components[j]
		if c.Duration.Kind != sim.DistConstant {
			continue
		}
		for _, v := range durProbes(c.Duration.Value, time.Millisecond) {
			out = append(out, s.variant(fmt.Sprintf("components[%d].duration %s -> %s", j, formatDuration(c.Duration.Value), formatDuration(v)), func(d *yaml.Node) []string {
				replace(items(d, "components")[j], "duration", scalar(formatDuration(v)), formatDuration(c.Duration.Value))
				return nil
			}))
		}
	}
	if l := s.cfg.Network.Latency; l.Kind == sim.DistConstant {
		for _, v := range durProbes(l.Value, time.Millisecond) {
			out = append(out, s.variant(fmt.Sprintf("network.latency %s -> %s", formatDuration(l.Value), formatDuration(v)), func(d *yaml.Node) []string {
				replace(child(d, "network"), "latency", scalar(formatDuration(v)), formatDuration(l.Value))
				return nil
			}))
		}
	}
	for i, p := range s.cfg.Workers {
		if p.Start.Kind != sim.DistConstant {
			continue
		}
		for _, v := range durProbes(p.Start.Value, 0) {
			out = append(out, s.variant(fmt.Sprintf("workers[%d].start %s -> %s", i, formatDuration(p.Start.Value), formatDuration(v)), func(d *yaml.Node) []string {
				replace(poolItem(d, s.cfg, i), "start", scalar(formatDuration(v)), formatDuration(p.Start.Value))
				return nil
			}))
		}
	}
	for i, l := range s.cfg.Load {
		for _, v := range durProbes(l.At, 0) {
			out = append(out, s.variant(fmt.Sprintf("load[%d].at %s -> %s", i, formatDuration(l.At), formatDuration(v)), func(d *yaml.Node) []string {
				replace(items(d, "load")[i], "at", scalar(formatDuration(v)), formatDuration(l.At))
				return nil
			}))
		}
	}
	return out
}

func lessConcurrency(s *state) []candidate {
	var out []candidate
	for i, p := range s.cfg.Workers {
		for _, v := range intProbes(p.Concurrency, 1) {
			out = append(out, s.variant(fmt.Sprintf("workers[%d].concurrency %d -> %d", i, p.Concurrency, v), func(d *yaml.Node) []string {
				replace(poolItem(d, s.cfg, i), "concurrency", plain(strconv.Itoa(v)), strconv.Itoa(p.Concurrency))
				return nil
			}))
		}
	}
	return out
}

// shorterCap lowers `duration`, the virtual-time cap; first to just past where the run
// ended by itself, which changes nothing but what the file says.
func shorterCap(s *state) []candidate {
	cap := s.cfg.Duration
	probes := durProbes(cap, time.Second)
	if end := time.Duration(math.Ceil(s.sum.VirtualDuration))*time.Second + time.Second; end < cap {
		probes = append(probes, end)
		slices.Sort(probes)
		probes = slices.Compact(probes)
	}
	var out []candidate
	for _, v := range probes {
		out = append(out, s.variant(fmt.Sprintf("duration %s -> %s", formatDuration(cap), formatDuration(v)), func(d *yaml.Node) []string {
			replace(d, "duration", scalar(formatDuration(v)), formatDuration(cap))
			return nil
		}))
	}
	return out
}

// intProbes are the values below n, down to floor, that a search tries, smallest first:
// the floor, then fractions of n, so that a run of them is a coarse-to-fine search. No
// probe is above 3n/4: one that kept only a step or two would let the search walk down
// a step at a time (failures are not monotone in size), spending its budget on nothing.
// Small values are tried one by one.
func intProbes(n, floor int) []int {
	var out []int
	if n <= 8 {
		for v := floor; v < n; v++ {
			out = append(out, v)
		}
		return out
	}
	for _, v := range []int{floor, n / 16, n / 8, n / 4, n / 2, n * 3 / 4} {
		if v >= floor && v < n && (len(out) == 0 || v > out[len(out)-1]) {
			out = append(out, v)
		}
	}
	return out
}

var fractions = []float64{1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 3.0 / 4}

// durProbes are shorter durations than d, down to floor, rounded to two significant
// digits so that the file stays readable.
func durProbes(d, floor time.Duration) []time.Duration {
	out := []time.Duration{floor}
	for _, f := range fractions {
		out = append(out, max(floor, nice(time.Duration(float64(d)*f))))
	}
	return ascendingBelow(out, d)
}

// floatProbes are lower values than v, down to floor (tried first when withFloor).
func floatProbes(v, floor float64, withFloor bool) []float64 {
	var out []float64
	if withFloor {
		out = append(out, floor)
	}
	for _, f := range fractions {
		out = append(out, max(floor, twoDigits(v*f)))
	}
	return ascendingBelow(out, v)
}

func ascendingBelow[T int | float64 | time.Duration](vals []T, limit T) []T {
	var out []T
	for _, v := range vals {
		if v < limit && (len(out) == 0 || v > out[len(out)-1]) {
			out = append(out, v)
		}
	}
	return out
}

// nice rounds d to two significant digits.
func nice(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	p := time.Duration(1)
	for d/p >= 100 {
		p *= 10
	}
	return (d + p/2) / p * p
}

// formatDuration is time.Duration.String without trailing zero units (1m, not 1m0s).
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatRate(perSec float64) string {
	return strconv.FormatFloat(perSec, 'f', -1, 64) + "/s"
}

// distText writes a distribution the way a scenario file does.
func distText(x sim.Dist) string {
	if x.Kind == sim.DistConstant {
		return formatDuration(x.Value)
	}
	parts := []string{"dist: " + string(x.Kind)}
	add := func(k string, d time.Duration) { parts = append(parts, k+": "+formatDuration(d)) }
	switch x.Kind {
	case sim.DistUniform:
		add("min", x.Min)
		add("max", x.Max)
	case sim.DistExponential:
		add("mean", x.Mean)
	case sim.DistLognormal:
		add("median", x.Median)
		add("p99", x.P99)
	case sim.DistPareto:
		add("min", x.Min)
		parts = append(parts, "alpha: "+formatFloat(x.Alpha))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// roundUp rounds x > 0 up to two significant digits.
func roundUp(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x))-1)
	return twoDigits(math.Ceil(x/p) * p)
}

// twoDigits is x to two significant digits, without the float noise that would show in
// the file (0.94, not 0.9400000000000001).
func twoDigits(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 2, 64), 64)
	return v
}
