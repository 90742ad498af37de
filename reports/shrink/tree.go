package shrink

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The shrinker edits the scenario's own YAML tree rather than printing the loaded Config,
// so that the file it writes keeps the user's layout, comments and the defaults they left
// out. These helpers read and edit that tree.

// maxNodes bounds the tree after aliases are expanded; the loader has already bounded
// alias expansion, so only a pathological file comes near it.
const maxNodes = 1_000_000

// normalize returns a copy of root with every alias replaced by a copy of what it names
// and every merge key (<<) folded into its mapping, so that an edit changes one place
// only. Loading the copy gives the same Config as loading root.
func normalize(root *yaml.Node) (*yaml.Node, error) {
	budget := maxNodes
	var expand func(n *yaml.Node, depth int) (*yaml.Node, error)
	expand = func(n *yaml.Node, depth int) (*yaml.Node, error) {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n == nil {
			return nil, nil
		}
		if budget--; budget < 0 || depth > 1000 {
			return nil, fmt.Errorf("the scenario expands to more than %d YAML nodes; too large to shrink", maxNodes)
		}
		c := *n
		c.Anchor = ""
		if c.Kind == yaml.ScalarNode && c.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			// The encoder does not always write a block scalar back to the same text (a
			// folded one with a more-indented line gains a blank line); quoted it does.
			c.Style = yaml.DoubleQuotedStyle
		}
		c.Content = make([]*yaml.Node, 0, len(n.Content))
		for _, x := range n.Content {
			y, err := expand(x, depth+1)
			if err != nil {
				return nil, err
			}
			if y != nil {
				c.Content = append(c.Content, y)
			}
		}
		if c.Kind == yaml.MappingNode {
			foldMerges(&c)
		}
		return &c, nil
	}
	return expand(root, 0)
}

// foldMerges replaces `<<: SRC` in m by SRC's keys that m does not set itself (YAML merge
// semantics: explicit keys win, then earlier sources over later ones).
func foldMerges(m *yaml.Node) {
	var own, merged []*yaml.Node
	var sources []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			if v.Kind == yaml.SequenceNode {
				sources = append(sources, v.Content...)
			} else {
				sources = append(sources, v)
			}
			continue
		}
		own = append(own, k, v)
	}
	if sources == nil {
		return
	}
	has := map[string]bool{}
	for i := 0; i < len(own); i += 2 {
		has[own[i].Value] = true
	}
	for _, src := range sources {
		if src.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(src.Content); i += 2 {
			k := src.Content[i]
			if has[k.Value] {
				continue
			}
			has[k.Value] = true
			merged = append(merged, clone(k), clone(src.Content[i+1]))
		}
	}
	m.Content = append(own, merged...)
}

// clone deep-copies a tree without aliases (normalize has removed them).
func clone(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = clone(x)
	}
	return &c
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyNode returns the key node of key in mapping m, or nil.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// set makes key's value v in mapping m. A key it adds goes where a scenario file puts it
// (keyOrder), so that a written-out default reads in its usual place.
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	at := len(m.Content)
	if r, known := keyRank[key]; known {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if q, ok := keyRank[m.Content[i].Value]; ok && q > r {
				at = i
				break
			}
		}
	}
	m.Content = slices.Insert(m.Content, at, scalar(key), v)
}

// keyOrder is one order consistent with every mapping of SCENARIOS.md: the top level,
// a pool, a component, a stream, its arrival, the network, a fault and its target.
var keyOrder = []string{"name", "description", "seed", "path", "component", "pool", "fraction", "count", "tasks", "flavour", "concurrency", "ack", "heartbeat_interval", "clock_drift", "start",
	"duration", "error_rate", "retriable", "process", "rate", "arrival", "at", "for", "payload",
	"latency", "loss", "duplicate", "wire", "rpc_timeout", "restart_after",
	"orchestrator", "network", "queue", "workers", "components", "load", "faults", "expect"}

var keyRank = func() map[string]int {
	r := map[string]int{}
	for i, k := range keyOrder {
		r[k] = i
	}
	return r
}()

// del removes key from mapping m.
func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// child returns the mapping under key, creating it (or turning a null into it) if needed.
func child(m *yaml.Node, key string) *yaml.Node {
	v := get(m, key)
	if v == nil {
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		set(m, key, v)
		return v
	}
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		v.Kind, v.Tag, v.Value, v.Style = yaml.MappingNode, "!!map", "", 0
	}
	return v
}

// items returns the entries of the list under key (nil if it is absent or not a list).
func items(m *yaml.Node, key string) []*yaml.Node {
	v := get(m, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	return v.Content
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// plain is a scalar whose type YAML infers (a number).
func plain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// notePrefix starts every comment the shrinker writes, so that a later edit of the same
// value can tell its own note (naming the original) from the user's comment.
const notePrefix = "shrink: "

// replace puts v as key's value in m and notes on it what the value was: the file's own
// text, or was (the effective default) if the key was absent. On a value changed before,
// the first note stays, since it names the original.
func replace(m *yaml.Node, key string, v *yaml.Node, was string) {
	old := get(m, key)
	switch {
	case old == nil && was == "":
		v.LineComment = "# " + notePrefix + "was the default"
	case old == nil && was == v.Value:
		v.LineComment = "# " + notePrefix + writtenOut
	case old == nil:
		v.LineComment = "# " + notePrefix + "was " + was + " (the default)"
	case strings.HasSuffix(old.LineComment, writtenOut) && old.Value != v.Value:
		v.LineComment = "# " + notePrefix + "was " + old.Value + " (the default)"
	case isNote(old.LineComment):
		v.LineComment = old.LineComment
	default:
		v.LineComment = "# " + notePrefix + "was " + inline(old)
		if c := strings.TrimSpace(strings.TrimLeft(old.LineComment, "#")); c != "" {
			v.LineComment += "; " + c
		}
	}
	set(m, key, v)
}

// writtenOut notes a default the search wrote into the file without changing it.
const writtenOut = "the default, written out"

func isNote(c string) bool { return strings.HasPrefix(strings.TrimLeft(c, "# "), notePrefix) }

// hoistNotes moves notes from inside flow collections (`{process: poisson, rate: 2/s}`)
// to the line of the outermost one, where a comment can go; inside the braces it would
// break the line.
func hoistNotes(n *yaml.Node) {
	var walk func(n, flow *yaml.Node, key string)
	walk = func(n, flow *yaml.Node, key string) {
		if n == nil {
			return
		}
		if flow != nil && isNote(n.LineComment) {
			note := strings.TrimPrefix(strings.TrimLeft(n.LineComment, "# "), notePrefix)
			if key != "" {
				note = key + " " + note
			}
			if flow.LineComment == "" {
				flow.LineComment = "# " + notePrefix + note
			} else {
				flow.LineComment += "; " + note
			}
			n.LineComment = ""
		}
		inner := flow
		if inner == nil && n.Style&yaml.FlowStyle != 0 && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
			inner = n
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], inner, n.Content[i].Value)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, inner, "")
			}
		}
	}
	walk(n, nil, "")
}

// inline renders a value on one line, as YAML flow.
func inline(n *yaml.Node) string {
	c := clone(n)
	var strip func(*yaml.Node)
	strip = func(x *yaml.Node) {
		x.HeadComment, x.LineComment, x.FootComment = "", "", ""
		if x.Kind == yaml.MappingNode || x.Kind == yaml.SequenceNode {
			x.Style = yaml.FlowStyle
		}
		if x.Kind == yaml.ScalarNode && (x.Style == yaml.LiteralStyle || x.Style == yaml.FoldedStyle) {
			x.Style = yaml.DoubleQuotedStyle
		}
		for _, y := range x.Content {
			strip(y)
		}
	}
	strip(c)
	b, err := marshal(c)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// marshal renders a tree as a YAML document with two-space indentation.
func marshal(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("render scenario YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render scenario YAML: %w", err)
	}
	return buf.Bytes(), nil
}
