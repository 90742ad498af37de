package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// Limits on a component's literal `input` (hostile files: bounded depth and bytes).
const (
	// MaxInputDepth is how deeply mappings and lists may nest in an input Value.
	MaxInputDepth = 32
	// MaxInputBytes bounds an input Value's protobuf encoding (it goes in every
	// assignment of the component).
	MaxInputBytes = 1 << 20
	// maxInputNodes bounds the YAML nodes one input may expand to (aliases included), so
	// that the check itself runs in bounded time and memory.
	maxInputNodes = 100_000
)

// inputLimit is MaxInputBytes as errors print it.
const inputLimit = "1MiB"

// inputDecoder turns a YAML node into a protobuf Value within the limits.
type inputDecoder struct {
	d     *decoder
	path  string
	nodes int
	bytes int
	bad   bool
}

// input decodes `components[i].input`: any YAML value (a mapping, list, string, number,
// boolean or null) becomes the google.protobuf.Value sent as ComponentExecuteRequest.input.
func (d *decoder) input(n *yaml.Node, path string) (*structpb.Value, bool) {
	x := &inputDecoder{d: d, path: path}
	v := x.value(n, 0)
	if x.bad {
		return nil, false
	}
	if size := proto.Size(v); size > MaxInputBytes {
		d.errAt(n, path, "encodes to %s; an input is at most %s (it goes in every assignment)",
			formatSize(size), inputLimit)
		return nil, false
	}
	return v, true
}

func (x *inputDecoder) fail(n *yaml.Node, format string, args ...any) *structpb.Value {
	if !x.bad {
		x.bad = true
		x.d.errAt(n, x.path, format, args...)
	}
	return structpb.NewNullValue()
}

func (x *inputDecoder) value(n *yaml.Node, depth int) *structpb.Value {
	if x.bad {
		return structpb.NewNullValue()
	}
	if n != nil && n.Kind == yaml.AliasNode {
		if n = x.d.resolve(n); n == nil {
			x.bad = true // resolve reported the spent budget
			return structpb.NewNullValue()
		}
	}
	x.nodes++
	if x.nodes > maxInputNodes {
		return x.fail(n, "more than %d values; an input is at most %d values and %s encoded", maxInputNodes, maxInputNodes, inputLimit)
	}
	if depth > MaxInputDepth {
		return x.fail(n, "nests deeper than %d levels of mappings and lists", MaxInputDepth)
	}
	if n == nil {
		return structpb.NewNullValue()
	}
	switch n.Kind {
	case yaml.MappingNode:
		fields := make(map[string]*structpb.Value, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := x.d.resolve(n.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				return x.fail(n.Content[i], "a key of an input mapping must be a plain string")
			}
			if _, dup := fields[k.Value]; dup {
				return x.fail(k, "duplicate key %q in the input", k.Value)
			}
			if x.bytes += len(k.Value); x.bytes > MaxInputBytes {
				return x.fail(k, "larger than %s", inputLimit)
			}
			fields[k.Value] = x.value(n.Content[i+1], depth+1)
		}
		return structpb.NewStructValue(&structpb.Struct{Fields: fields})
	case yaml.SequenceNode:
		items := make([]*structpb.Value, 0, len(n.Content))
		for _, it := range n.Content {
			items = append(items, x.value(it, depth+1))
		}
		return structpb.NewListValue(&structpb.ListValue{Values: items})
	case yaml.ScalarNode:
		if x.bytes += len(n.Value); x.bytes > MaxInputBytes {
			return x.fail(n, "larger than %s", inputLimit)
		}
		return x.scalar(n)
	}
	return x.fail(n, "got %s; want a YAML value", kindName(n))
}

// scalar maps a YAML scalar by its resolved tag, as a JSON decoder would its token.
func (x *inputDecoder) scalar(n *yaml.Node) *structpb.Value {
	switch n.ShortTag() {
	case "!!null":
		return structpb.NewNullValue()
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return structpb.NewStringValue(n.Value)
		}
		return structpb.NewBoolValue(b)
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return x.fail(n, "%q is not a finite number (an input Value holds JSON numbers)", n.Value)
		}
		return structpb.NewNumberValue(f)
	}
	return structpb.NewStringValue(n.Value)
}

// checkComponentID accepts a component_id: non-empty, no control characters or spaces.
func checkComponentID(s string) (string, error) {
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("%q is not a component id (non-empty, no spaces or control characters, e.g. embed)", s)
	}
	if len(s) > 256 {
		return "", fmt.Errorf("a component id is at most 256 bytes; this one has %d", len(s))
	}
	return s, nil
}

// errorKinds decodes `components[i].errors`: the share of each exception kind among the
// component's failed executions, e.g. {value_error: 60%, os_error: 40%}. The shares sum
// to 1; a kind left out has none.
func (d *decoder) errorKinds(n *yaml.Node, path string, c *sim.ComponentConfig) {
	var names []string
	for k := model.ComponentError(0); k < model.ErrorUnknownComponent; k++ {
		names = append(names, k.String())
	}
	before := len(d.errs.List)
	f, ok := d.mapping(n, path, names...)
	if !ok || len(d.errs.List) != before {
		return
	}
	var shares [model.NumComponentErrors]float64
	sum, okAll := 0.0, true
	for k := model.ComponentError(0); k < model.ErrorUnknownComponent; k++ {
		if !parse(f, k.String(), &shares[k], parseFraction) && f.has(k.String()) {
			okAll = false
		}
		sum += shares[k]
	}
	if !okAll {
		return
	}
	if math.Abs(sum-1) > 1e-9 {
		d.errAt(n, path, "the shares add up to %s; they must add up to 1 (100%%): %s", formatFloat(sum), strings.Join(names, ", "))
		return
	}
	c.Errors = shares
}
