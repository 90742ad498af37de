package scenarios

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// segment is one step of a --set path: a mapping key, or a list index when key is "".
type segment struct {
	key   string
	index int
}

// parseSetPath splits `faults[1].crash.fraction` into its steps.
func parseSetPath(p string) ([]segment, error) {
	var segs []segment
	for i := 0; i < len(p); {
		switch {
		case p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", p)
			}
			n, err := strconv.Atoi(p[i+1 : i+end])
			if err != nil || n < 0 || n > maxTasks {
				return nil, fmt.Errorf("%q is not a list index in %q", p[i+1:i+end], p)
			}
			segs = append(segs, segment{index: n})
			i += end + 1
		case p[i] == '.' && len(segs) > 0 && i+1 < len(p) && p[i+1] != '.' && p[i+1] != '[':
			i++
		default:
			end := strings.IndexAny(p[i:], ".[]")
			if end == 0 {
				return nil, fmt.Errorf("%q is not a key path (e.g. workers[0].count)", p)
			}
			if i > 0 && p[i-1] == ']' {
				// workers[0]count is a typo of workers[0].count, not a shorthand for it.
				return nil, fmt.Errorf("%q: a key after an index needs a dot (%s.%s)", p, p[:i], p[i:])
			}
			if end < 0 {
				end = len(p) - i
			}
			segs = append(segs, segment{key: p[i : i+end], index: -1})
			i += end
		}
	}
	if len(segs) == 0 || segs[0].key == "" {
		return nil, fmt.Errorf("%q is not a key path (e.g. workers[0].count)", p)
	}
	return segs, nil
}

func formatSetPath(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.key == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// applySet writes one `path=value` into the document, creating what is missing, and marks
// every node it makes so that problems in them are reported against the flag. The value
// is a plain scalar, or YAML flow (`{dist: constant, value: 2s}`, `[a, b]`) when it starts
// with { or [. `null` restores the default; an empty value is refused, as it is more
// often a shell variable that expanded to nothing than a wish for the default.
func applySet(root *yaml.Node, arg string, mark map[*yaml.Node]string) *Error {
	fail := func(path, format string, args ...any) *Error {
		return &Error{File: "--set " + arg, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
	path, value, ok := strings.Cut(arg, "=")
	if !ok {
		return fail("", "want path=value (e.g. --set workers[0].count=500)")
	}
	path = strings.TrimSpace(path)
	segs, err := parseSetPath(path)
	if err != nil {
		return fail("", "%v", err)
	}
	if strings.TrimSpace(value) == "" {
		return fail(path, "no value after =; give one, or null to restore the default")
	}
	val, err := setValue(value)
	if err != nil {
		return fail(path, "%v", err)
	}
	markTree(val, arg, mark, map[*yaml.Node]bool{})

	cur := root
	for i, seg := range segs {
		here := formatSetPath(segs[:i])
		var slot **yaml.Node
		if seg.key != "" {
			if !becomes(cur, yaml.MappingNode, "!!map") {
				return fail(here, "is %s, not a mapping; cannot set %s in it", kindName(cur), seg.key)
			}
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if k := cur.Content[j]; k.Kind == yaml.ScalarNode && k.Value == seg.key {
					slot = &cur.Content[j+1]
					break
				}
			}
			if slot == nil {
				k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg.key}
				mark[k] = arg
				cur.Content = append(cur.Content, k, nil)
				slot = &cur.Content[len(cur.Content)-1]
			}
		} else {
			if !becomes(cur, yaml.SequenceNode, "!!seq") {
				return fail(here, "is %s, not a list; cannot index it", kindName(cur))
			}
			switch {
			case seg.index < len(cur.Content):
				slot = &cur.Content[seg.index]
			case seg.index == len(cur.Content):
				cur.Content = append(cur.Content, nil) // [len] adds an entry
				slot = &cur.Content[seg.index]
			default:
				return fail(formatSetPath(segs[:i+1]), "index %d is out of range: %s has %d entries (use [%d] to add one)",
					seg.index, here, len(cur.Content), len(cur.Content))
			}
		}
		if i == len(segs)-1 {
			*slot = val
			break
		}
		switch next := *slot; {
		case next == nil:
			*slot = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
			mark[*slot] = arg
		case next.Kind == yaml.AliasNode:
			// Editing through an alias would change every place that uses the anchor.
			*slot = copyTree(next.Alias, map[*yaml.Node]*yaml.Node{})
		}
		cur = *slot
	}
	return nil
}

// becomes reports whether n is of kind k, turning a null into an empty one first
// (`orchestrator:` with nothing under it, or a node the path has just created).
func becomes(n *yaml.Node, k yaml.Kind, tag string) bool {
	if n.Kind == k {
		return true
	}
	if isNull(n) {
		n.Kind, n.Tag, n.Value, n.Style = k, tag, "", 0
		return true
	}
	return false
}

func setValue(s string) (*yaml.Node, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: t}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(t), &doc); err != nil {
		return nil, fmt.Errorf("value %q is not YAML flow: %v", s, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}, nil
	}
	return doc.Content[0], nil
}

func markTree(n *yaml.Node, arg string, mark map[*yaml.Node]string, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	mark[n] = arg
	for _, c := range n.Content {
		markTree(c, arg, mark, seen)
	}
	markTree(n.Alias, arg, mark, seen)
}

// copyTree deep-copies n; memo keeps shared and cyclic references (aliases) intact.
func copyTree(n *yaml.Node, memo map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := memo[n]; ok {
		return c
	}
	c := *n
	memo[n] = &c
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = copyTree(x, memo)
	}
	c.Alias = copyTree(n.Alias, memo)
	return &c
}
