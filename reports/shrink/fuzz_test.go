package shrink

import (
	"reflect"
	"testing"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// FuzzCandidates: for any scenario the loader accepts, the search's starting point (its
// aliases and merge keys expanded) loads to the same Config, and every dimension's
// candidates are built without a panic and render as YAML, whatever the file's shape.
func FuzzCandidates(f *testing.F) {
	for _, name := range scenarios.Names() {
		data, _ := scenarios.Builtin(name)
		f.Add(data)
	}
	f.Add([]byte(everything))
	f.Add([]byte("name: x\nload: [{tasks: 3}]\n"))
	f.Add([]byte("name: x\nworkers:\nload: [{tasks: 3, arrival: {process: burst}}]\nfaults: [{at: 1s, crash: {}}]\n"))
	f.Add([]byte("name: x\nnetwork: &n {loss: 1%}\nworkers: [&p {pool: a, count: 3}, {<<: [*p], pool: b}]\n" +
		"components: [{path: /a, pool: a}, {path: /b, pool: b}]\nload: [{component: /a}, {component: /b, tasks: 2}]\n" +
		"faults: [{at: 0s, for: 1s, partition: {pool: b, workers: [b-2]}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := scenarios.Load("f.yaml", data, nil)
		if err != nil {
			return
		}
		root, err := scenarios.Document("f.yaml", data, nil)
		if err != nil {
			t.Fatalf("Load accepts the file, Document does not: %v", err)
		}
		doc, err := normalize(root)
		if err != nil {
			return // too large once expanded: refused, not a crash
		}
		b, err := marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		again, err := scenarios.Load("f.yaml", b, nil)
		if err != nil {
			t.Fatalf("the normalized file does not load: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(cfg, again) {
			t.Fatalf("normalizing changed the scenario:\n%+v\n%+v\n%s", cfg, again, b)
		}
		st := &state{doc: doc, cfg: cfg, sum: &sim.Summary{VirtualDuration: 1}, origins: recordOrigins(doc)}
		for _, dim := range dimensions {
			// Building every candidate is what can panic; rendering a few of each is
			// enough for the encoder, and keeps the seeds quick.
			cands := dim.gen(st)
			for _, c := range cands[:min(2, len(cands))] {
				if _, err := marshal(c.doc); err != nil {
					t.Fatalf("%s: %s does not render: %v", dim.name, c.change, err)
				}
			}
		}
	})
}
