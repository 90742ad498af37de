package scenarios

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// Format v1.1's component_id and input reach the Config; errors gives the shares of the
// exception kinds; terminate is a fault of its own.
func TestLoadComponentIDInputErrorsTerminate(t *testing.T) {
	src := `name: t
workers: [{pool: p, count: 4}]
components:
  - path: /python/embed
    pool: p
    component_id: embed
    input: {sleep: 3, x: [1, "two", true, null], nested: {deep: 1.5}}
    error_rate: 10%
    errors: {value_error: 50%, type_error: 0.25, os_error: 25%}
load: [{component: /python/embed, tasks: 1}]
faults:
  - at: 7m
    terminate: {pool: p, count: 2}
`
	cfg, err := Load("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Components[0]
	if c.ComponentID != "embed" || c.WireID() != "embed" {
		t.Errorf("component_id %q, wire id %q", c.ComponentID, c.WireID())
	}
	want, err := structpb.NewValue(map[string]any{"sleep": 3, "x": []any{1, "two", true, nil},
		"nested": map[string]any{"deep": 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(c.Input, want) {
		t.Errorf("input %v, want %v", c.Input, want)
	}
	if wantShares := [model.NumComponentErrors]float64{0.5, 0.25, 0.25, 0}; c.Errors != wantShares {
		t.Errorf("errors %v, want %v", c.Errors, wantShares)
	}
	f := cfg.Faults[0]
	if f.Kind != sim.FaultTerminate || !reflect.DeepEqual(f.Target, sim.Target{Pool: "p", Count: 2}) {
		t.Errorf("fault %+v", f)
	}
	// Show writes all of it out, and reading that back gives the same Config.
	back, err := Load("show.yaml", Show(cfg), nil)
	if err != nil {
		t.Fatalf("show: %v\n%s", err, Show(cfg))
	}
	if !proto.Equal(back.Components[0].Input, c.Input) {
		t.Errorf("input after show %v", back.Components[0].Input)
	}
	back.Components[0].Input, cfg.Components[0].Input = nil, nil
	if !reflect.DeepEqual(back, cfg) {
		t.Errorf("show round trip:\n got %+v\nwant %+v", back, cfg)
	}
}

func TestComponentErrors(t *testing.T) {
	ok := "name: t\nload: [{component: /c, tasks: 1}]\ncomponents:\n  - path: /c\n"
	deep := strings.Repeat("[", 40) + strings.Repeat("]", 40)
	bomb := "    input: {a: &a [x, x, x, x, x, x, x, x, x, x], b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"errors do not add up", ok + "    errors: {value_error: 50%, os_error: 40%}\n", []string{
			`f.yaml:5:5: components[0].errors: the shares add up to 0.9; they must add up to 1 (100%): value_error, type_error, os_error`}},
		{"errors unknown kind", ok + "    errors: {KeyError: 1}\n", []string{
			`f.yaml:5:14: components[0].errors.KeyError: unknown key; allowed: value_error, type_error, os_error`}},
		{"errors bad share", ok + "    errors: {type_error: 2}\n", []string{
			`f.yaml:5:14: components[0].errors.type_error: 2 is not in [0, 1]`}},
		{"component_id with a space", ok + "    component_id: \"my embed\"\n", []string{
			`f.yaml:5:5: components[0].component_id: "my embed" is not a component id (non-empty, no spaces or control characters, e.g. embed)`}},
		{"component_id taken", "name: t\nload: [{component: /a, tasks: 1}]\ncomponents:\n  - path: /a\n  - path: /b\n    component_id: /a\n", []string{
			`f.yaml:6:5: components[1].component_id: component_id /a is already /a's; each component needs its own (it names the component on the wire)`}},
		{"input too deep", ok + "    input: " + deep + "\n", []string{
			`f.yaml:5:45: components[0].input: nests deeper than 32 levels of mappings and lists`}},
		{"input too large", ok + "    input: " + strings.Repeat("x", MaxInputBytes+1) + "\n", []string{
			`f.yaml:5:5: components[0].input: larger than 1MiB`}},
		{"input alias bomb", ok + bomb, []string{
			`f.yaml:5:47: components[0].input: more than 100000 values; an input is at most 100000 values and 1MiB encoded`}},
		{"input not finite", ok + "    input: {x: .inf}\n", []string{
			`f.yaml:5:16: components[0].input: ".inf" is not a finite number (an input Value holds JSON numbers)`}},
		{"terminate for", ok + "faults:\n  - at: 1s\n    for: 2s\n    terminate: {count: 1}\n", []string{
			`f.yaml:7:5: faults[0].for: terminate happens at an instant; only heartbeat_loss, partition, pause, duplicate_delivery take for`}},
		{"terminate restart_after", ok + "faults:\n  - at: 1s\n    terminate: {count: 1}\n    restart_after: 3s\n", []string{
			`f.yaml:8:5: faults[0].restart_after: only crash takes restart_after; this is terminate`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorLines(t, "f.yaml", tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
