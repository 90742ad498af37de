package scenarios

import (
	"github.com/tasksim/tasksim/sim"
	"go.yaml.in/yaml/v3"
)

// Document returns the YAML tree of a scenario file with the --set overrides applied, as
// Load sees it before decoding: the root mapping, comments, anchors and aliases intact.
// Tools that write a scenario back in the user's own shape (shrink) edit this tree and
// Load the result. It checks only the YAML and the overrides; call Load to validate.
func Document(file string, data []byte, sets []string) (*yaml.Node, error) {
	d := &decoder{file: file, setBy: map[*yaml.Node]string{}, locs: map[string]*yaml.Node{}, keyOf: map[*yaml.Node]*yaml.Node{}}
	setOrder := map[string]int{}
	root, ok := d.parseYAML(data)
	if !ok {
		return nil, d.errs.finish(setOrder)
	}
	for i, s := range sets {
		setOrder["--set "+s] = i
		if e := applySet(root, s, d.setBy); e != nil {
			d.errs.List = append(d.errs.List, *e)
		}
	}
	if err := d.errs.finish(setOrder); err != nil {
		return nil, err
	}
	return root, nil
}

// ParseExpectation reads one expectation line, PATH OP VALUE, as an `expect:` entry is
// read (a --expect flag takes the same syntax).
func ParseExpectation(line string) (sim.Expectation, error) {
	return parseExpectation(line)
}
