package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuiltinsLoad(t *testing.T) {
	names := Names()
	if len(names) < 17 {
		t.Fatalf("Names() = %v; want at least 17 built-ins", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, ok := Builtin(name)
			if !ok {
				t.Fatalf("Builtin(%q) not found", name)
			}
			cfg, err := Load(name+".yaml", data, nil)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			if cfg.Name != name {
				t.Errorf("name = %q; want the file's name %q", cfg.Name, name)
			}
			if strings.TrimSpace(cfg.Description) == "" {
				t.Error("no description")
			}
			if len(cfg.Expect) == 0 {
				t.Error("no expect lines")
			}
		})
	}
}

func TestShowRoundTrip(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			data, _ := Builtin(name)
			cfg, err := Load(name+".yaml", data, nil)
			if err != nil {
				t.Fatal(err)
			}
			shown := Show(cfg)
			again, err := Load("show.yaml", shown, nil)
			if err != nil {
				t.Fatalf("loading Show's output:\n%v\n%s", err, shown)
			}
			if !reflect.DeepEqual(cfg, again) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v\n%s", again, cfg, shown)
			}
			if again2 := Show(again); string(again2) != string(shown) {
				t.Errorf("Show is not stable:\n%s\n---\n%s", shown, again2)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(local, []byte("name: mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file named like a built-in wins over the built-in.
	t.Chdir(dir)
	if err := os.WriteFile("default", []byte("name: local-default\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg, file, contains, err string
	}{
		{arg: local, file: local, contains: "name: mine"},
		{arg: "crash-storm", file: "crash-storm.yaml", contains: "name: crash-storm"},
		{arg: "crash-storm.yaml", file: "crash-storm.yaml", contains: "name: crash-storm"},
		{arg: "default", file: "default", contains: "name: local-default"},
		{arg: "nope", err: `scenario "nope": no such file and no built-in scenario of that name (built-ins: ack-late, crash-storm,`},
	}
	for _, tt := range tests {
		file, data, err := Resolve(tt.arg)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("Resolve(%q) error = %v; want prefix %q", tt.arg, err, tt.err)
			}
			continue
		}
		if err != nil || file != tt.file || !strings.Contains(string(data), tt.contains) {
			t.Errorf("Resolve(%q) = %q, %q, %v; want file %q containing %q", tt.arg, file, data, err, tt.file, tt.contains)
		}
	}
}

// A scenario file is read only up to MaxFileBytes: /dev/zero or an endless pipe named as
// the file is refused at once, and so is an over-long document passed to Load.
func TestFileSizeIsBounded(t *testing.T) {
	_, _, err := Resolve("/dev/zero")
	if want := "/dev/zero is larger than 16 MiB, the limit for a scenario file"; err == nil || err.Error() != want {
		t.Fatalf("Resolve(/dev/zero): %v; want %q", err, want)
	}
	big := append([]byte("name: big\n# "), bytes.Repeat([]byte("x"), MaxFileBytes)...)
	_, err = Load("big.yaml", big, nil)
	if want := "big.yaml: the file is larger than 16 MiB, the limit for a scenario file"; err == nil || err.Error() != want {
		t.Fatalf("Load: %v; want %q", err, want)
	}
}

func TestBuiltinRejectsPaths(t *testing.T) {
	for _, name := range []string{"../load", "builtin/default", "", "."} {
		if _, ok := Builtin(name); ok {
			t.Errorf("Builtin(%q) found something", name)
		}
	}
}
