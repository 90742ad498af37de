package scenarios

import (
	"strings"
	"testing"
)

func TestEveryBuiltinSaysWhatItShows(t *testing.T) {
	for _, name := range Names() {
		if _, ok := shows[name]; !ok {
			t.Errorf("built-in %s has no line in shows (scenarios list would fall back to its first sentence)", name)
		}
	}
	for name := range shows {
		if _, ok := Builtin(name); !ok {
			t.Errorf("shows has a line for %s, which is not a built-in", name)
		}
	}
	if got := Shows("nope", "First one. Second one."); got != "First one." {
		t.Errorf("fallback = %q, want the whole first sentence", got)
	}
}

func TestNearestSuggestsATypo(t *testing.T) {
	for arg, want := range map[string]string{"crash-strom": "crash-storm", "crashstorm": "crash-storm", "Partiton": "partition",
		"scan-vs-dedline.yaml": "scan-vs-deadline", "defualt": "default"} {
		if got, ok := Nearest(arg); !ok || got != want {
			t.Errorf("Nearest(%q) = %q, %v; want %q", arg, got, ok, want)
		}
	}
	// A bare name always gets the nearest built-in; a missing file only a likely typo.
	if got, ok := Nearest("nosuchscenario"); !ok || got == "" {
		t.Errorf("Nearest(nosuchscenario) = %q, %v; want a suggestion", got, ok)
	}
	for _, arg := range []string{"my-own-file.yaml", "dir/crash-storm"} {
		if got, ok := Nearest(arg); ok {
			t.Errorf("Nearest(%q) = %q: not a likely typo", arg, got)
		}
	}
	_, _, err := Resolve("crash-strom")
	if err == nil || !strings.Contains(err.Error(), "did you mean crash-storm?") {
		t.Errorf("Resolve error: %v", err)
	}
}
