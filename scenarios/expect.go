package scenarios

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tasksim/tasksim/sim"
	"go.yaml.in/yaml/v3"
)

// expectLine is PATH OP VALUE; spaces around OP are optional.
var expectLine = regexp.MustCompile(`^\s*([^\s=!<>]+)\s*(==|!=|<=|>=|<|>)\s*(\S+)\s*$`)

func (d *decoder) expectations(n *yaml.Node) []sim.Expectation {
	items, _ := d.seq(n, "expect", "expectations (PATH OP VALUE)")
	var out []sim.Expectation
	for i, it := range items {
		path := indexPath("expect", i)
		if it == nil || it.Kind != yaml.ScalarNode || isNull(it) {
			d.errAt(it, path, "want a line PATH OP VALUE, e.g. lost == 0")
			continue
		}
		e, err := parseExpectation(it.Value)
		if err != nil {
			d.errAt(it, path, "%s", err)
			continue
		}
		out = append(out, e)
	}
	return out
}

// parseExpectation reads `PATH OP VALUE`. VALUE is a number, a duration (in seconds, as
// summary.json holds them) or a percentage (a ratio).
func parseExpectation(s string) (sim.Expectation, error) {
	m := expectLine.FindStringSubmatch(s)
	if m == nil {
		return sim.Expectation{}, fmt.Errorf("%q is not PATH OP VALUE with OP one of == != < <= > >= (e.g. lost == 0)", s)
	}
	path, op, val := m[1], m[2], m[3]
	if !sim.IsSummaryPath(path) {
		return sim.Expectation{}, fmt.Errorf("%s", unknownSummaryPath(path))
	}
	v, ok := expectValue(val)
	if !ok {
		return sim.Expectation{}, fmt.Errorf("%q is not a number, a duration (10s) or a percentage (99.5%%)", val)
	}
	return sim.Expectation{Expr: strings.TrimSpace(s), Path: path, Op: op, Value: v}, nil
}

func expectValue(s string) (float64, bool) {
	if num, ok := strings.CutSuffix(s, "%"); ok {
		v, ok := parseFloat(num)
		return v / 100, ok
	}
	if v, ok := parseFloat(s); ok {
		return v, true
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d.Seconds(), true
	}
	return 0, false
}

// unknownSummaryPath explains a path that names no number in summary.json: the numbers
// under it if it names an object, else the closest path.
func unknownSummaryPath(path string) string {
	var under []string
	for _, p := range sim.SummaryPaths() {
		if strings.HasPrefix(p, path+".") {
			under = append(under, p)
		}
	}
	if len(under) > 0 {
		if len(under) > 8 {
			under = append(under[:8], "...")
		}
		return fmt.Sprintf("%s is not a number in summary.json; pick one of %s", path, strings.Join(under, ", "))
	}
	msg := fmt.Sprintf("%s is not a path in summary.json", path)
	best, bestDist := "", 1<<30
	for _, p := range sim.SummaryPaths() {
		if dist := editDistance(path, p); dist < bestDist {
			best, bestDist = p, dist
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return msg
}
