package sim_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

var update = flag.Bool("update", false, "rewrite the golden summaries in testdata/golden")

// TestGoldenSummaries compares each built-in scenario's whole summary (wall-clock perf
// aside) with a file kept in testdata/golden. Any change of behaviour shows up here as a
// readable diff; after an intended one, run `go test ./sim -run Golden -update`.
func TestGoldenSummaries(t *testing.T) {
	for _, name := range scenarios.Names() {
		if name == "scale" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			cfg := load(t, name)
			res := run(t, cfg)
			s := res.Summary
			if _, err := s.Check(cfg.Expect); err != nil {
				t.Fatal(err)
			}
			checkBreakdown(t, cfg, res)
			s.Perf = sim.Perf{}
			got, err := json.MarshalIndent(&s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (create it with go test ./sim -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("summary of %s differs from %s; if the change is intended, run go test ./sim -run Golden -update\n%s",
					name, path, lineDiff(want, got))
			}
		})
	}
}

// lineDiff lists the lines that differ, position by position: summaries keep their shape,
// so this is enough to see which numbers moved.
func lineDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	var b bytes.Buffer
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl []byte
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if !bytes.Equal(wl, gl) {
			b.WriteString("- " + string(wl) + "\n+ " + string(gl) + "\n")
		}
	}
	return b.String()
}
