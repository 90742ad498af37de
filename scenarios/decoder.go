package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxAliases bounds alias expansion, so that a small file of nested aliases cannot make
// the decoder walk an exponential tree.
const maxAliases = 10_000

// maxErrors bounds the report; past it a file is broken beyond what a list helps with.
const maxErrors = 200

// decoder walks the YAML node tree with the schema in hand, collecting every problem.
type decoder struct {
	file    string
	errs    Errors
	setBy   map[*yaml.Node]string     // nodes a --set made or replaced, with the flag's text
	locs    map[string]*yaml.Node     // key path -> value node, for problems found later
	keyOf   map[*yaml.Node]*yaml.Node // value node -> its key, where its problems are shown
	root    *yaml.Node
	aliases int
}

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	if len(d.errs.List) > maxErrors {
		return
	}
	e := Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if flag, ok := d.setBy[n]; ok {
		e.File, e.Line, e.Col = "--set "+flag, 0, 0
	} else if k := d.keyOf[n]; k != nil {
		// At the key, as SCENARIOS.md's example does: `41:7: faults[2].crash.fraction`.
		e.Line, e.Col = k.Line, k.Column
	} else if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	if len(d.errs.List) == maxErrors {
		e = Error{File: d.file, Msg: fmt.Sprintf("too many errors; stopped after %d", maxErrors)}
	}
	d.errs.List = append(d.errs.List, e)
}

// errPath reports a problem at the node of path, or of its nearest ancestor that exists
// (a missing key is reported where its mapping is).
func (d *decoder) errPath(path, format string, args ...any) {
	d.errAt(d.nodeAt(path), path, format, args...)
}

func (d *decoder) nodeAt(path string) *yaml.Node {
	for p := path; p != ""; p = parentPath(p) {
		if n, ok := d.locs[p]; ok {
			return n
		}
	}
	return d.root
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// resolve follows aliases; it returns nil once the alias budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases == maxAliases {
			d.errAt(n, "", "too many alias expansions (more than %d)", maxAliases)
		}
		if d.aliases >= maxAliases {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "an empty document"
}

// fields is one decoded mapping: its keys, checked against the schema.
type fields struct {
	d    *decoder
	path string
	node *yaml.Node
	vals map[string]*yaml.Node
}

// mapping checks that n is a mapping with only allowed keys. A null n is an empty
// mapping (`orchestrator:` alone means all defaults). ok is false if n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, allowed ...string) (f *fields, ok bool) {
	f = &fields{d: d, path: path, node: n, vals: map[string]*yaml.Node{}}
	if isNull(n) {
		return f, true
	}
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "got %s; want a mapping with keys %s", kindName(n), strings.Join(allowed, ", "))
		return f, false
	}
	keyNodes := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errAt(k, path, "a key must be a plain word; got %s", kindName(k))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v) // YAML merge keys: explicit keys win, see below
			continue
		}
		kp := joinPath(path, k.Value)
		if !slices.Contains(allowed, k.Value) {
			msg := "unknown key"
			if near := closest(k.Value, allowed); near != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", near)
			}
			d.errAt(k, kp, "%s; allowed: %s", msg, strings.Join(allowed, ", "))
			continue
		}
		if first, dup := keyNodes[k.Value]; dup {
			d.errAt(k, kp, "duplicate key (first at line %d)", first.Line)
			continue
		}
		keyNodes[k.Value] = k
		f.add(k, v)
	}
	for _, m := range merges {
		m = d.resolve(m)
		if m == nil {
			continue
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			src = d.resolve(src)
			if src == nil || src.Kind != yaml.MappingNode {
				d.errAt(m, path, "<< merges a mapping or a list of mappings")
				continue
			}
			for i := 0; i+1 < len(src.Content); i += 2 {
				k := d.resolve(src.Content[i])
				if k == nil || k.Kind != yaml.ScalarNode || k.Value == "<<" {
					continue
				}
				if _, set := f.vals[k.Value]; set {
					continue
				}
				if !slices.Contains(allowed, k.Value) {
					d.errAt(k, joinPath(path, k.Value), "unknown key; allowed: %s", strings.Join(allowed, ", "))
					continue
				}
				f.add(k, src.Content[i+1])
			}
		}
	}
	return f, true
}

func (f *fields) add(k, v *yaml.Node) {
	v = f.d.resolve(v)
	f.vals[k.Value] = v
	if v != nil {
		f.d.locs[joinPath(f.path, k.Value)] = v
		if _, seen := f.d.keyOf[v]; !seen {
			f.d.keyOf[v] = k
		}
	}
}

// get returns the value of key, or nil if it is absent or null (use the default).
func (f *fields) get(key string) *yaml.Node {
	v := f.vals[key]
	if isNull(v) {
		return nil
	}
	return v
}

func (f *fields) has(key string) bool { return f.get(key) != nil }

func (f *fields) at(key string) string { return joinPath(f.path, key) }

// required reports key as missing, at the mapping that should hold it.
func (f *fields) required(key, why string) {
	n := f.node
	if v := f.vals[key]; v != nil {
		n = v // present but null (`name:`, `--set name=`): point at it
	} else if n == nil {
		n = f.d.nodeAt(f.path)
	}
	f.d.errAt(n, f.at(key), "required%s", why)
}

// scalar returns key's text; ok is false if absent or not a scalar (reported).
func (f *fields) scalar(key string) (string, *yaml.Node, bool) {
	n := f.get(key)
	if n == nil {
		return "", nil, false
	}
	if n.Kind != yaml.ScalarNode {
		f.d.errAt(n, f.at(key), "got %s; want a single value", kindName(n))
		return "", n, false
	}
	return n.Value, n, true
}

// parse decodes key with p into *dst when it is present; dst keeps its default otherwise.
// It reports whether key was present and valid.
func parse[T any](f *fields, key string, dst *T, p func(string) (T, error)) bool {
	return parseScalar(f, key, dst, p, true)
}

// parseQuotable is parse for a value that may be written as text as well as a number
// (a size: 512, "512", 16KiB), so quoting it is no mistake.
func parseQuotable[T any](f *fields, key string, dst *T, p func(string) (T, error)) bool {
	return parseScalar(f, key, dst, p, false)
}

func parseScalar[T any](f *fields, key string, dst *T, p func(string) (T, error), strict bool) bool {
	s, n, ok := f.scalar(key)
	if !ok {
		return false
	}
	if what := quotedNonString(*dst, n); strict && what != "" {
		f.d.errAt(n, f.at(key), "%s is quoted, so YAML reads it as text; write %s without quotes", yamlQuoted(n), what)
		return false
	}
	v, err := p(s)
	if err != nil {
		f.d.errAt(n, f.at(key), "%s", err.Error())
		return false
	}
	*dst = v
	return true
}

// quotedNonString names what a field of dst's type holds ("the number", "true or false")
// when n is a quoted scalar: `tasks: '100'` is a string in YAML, and taking it as a number
// anyway would hide a document that means something else to every other YAML reader.
func quotedNonString(dst any, n *yaml.Node) string {
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
		return ""
	}
	// Only text that would be a number or a bool unquoted: "200/s" is text either way.
	plain := (&yaml.Node{Kind: yaml.ScalarNode, Value: n.Value}).ShortTag()
	switch dst.(type) {
	case int, int64, uint64, float64:
		if plain == "!!int" || plain == "!!float" {
			return "the number"
		}
	case bool:
		if plain == "!!bool" {
			return "true or false"
		}
	}
	return ""
}

func yamlQuoted(n *yaml.Node) string {
	if n.Style&yaml.SingleQuotedStyle != 0 {
		return "'" + strings.ReplaceAll(n.Value, "'", "''") + "'"
	}
	return strconv.Quote(n.Value)
}

func intIn(lo, hi int64) func(string) (int, error) {
	return func(s string) (int, error) {
		v, err := parseInt(s, lo, hi)
		return int(v), err
	}
}

func enum[T ~string](allowed ...T) func(string) (T, error) {
	words := make([]string, len(allowed))
	for i, a := range allowed {
		words[i] = string(a)
	}
	return func(s string) (T, error) {
		v, err := oneOf(s, words...)
		return T(v), err
	}
}

// enumOf parses the name of one of a model enum's values (model is each enum's one
// source of names), in the order they are listed.
func enumOf[T fmt.Stringer](all ...T) func(string) (T, error) {
	words := make([]string, len(all))
	for i, a := range all {
		words[i] = a.String()
	}
	return func(s string) (T, error) {
		v, err := oneOf(s, words...)
		if err != nil {
			var zero T
			return zero, err
		}
		return all[slices.Index(words, v)], nil
	}
}

func str(s string) (string, error) { return s, nil }

// seq returns the items of a list; nil n is an empty list.
func (d *decoder) seq(n *yaml.Node, path, what string) ([]*yaml.Node, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errAt(n, path, "got %s; want a list of %s", kindName(n), what)
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for i, it := range n.Content {
		it = d.resolve(it)
		if it != nil {
			d.locs[indexPath(path, i)] = it
		}
		items = append(items, it)
	}
	return items, true
}
