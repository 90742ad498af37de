package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The exit code says whose problem it is: the command line or an output path the user
// chose is bad input (2), whatever a command leaves unmarked is internal (3).
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"nope"}, exitBadInput},
		{[]string{"run", "--typo"}, exitBadInput},
		{[]string{"run", "a", "b"}, exitBadInput},
		{[]string{"run", "crash-storm", "--set", "load[0].tasks=20", "--out", filepath.Join(file, "sub")}, exitBadInput},
		{[]string{"codec", "decode", "--type", "PullTasksRequest", "--in", filepath.Join(dir, "missing")}, exitBadInput},
	} {
		var out, errOut bytes.Buffer
		if got := Main(c.args, bytes.NewReader(nil), &out, &errOut); got != c.code {
			t.Errorf("%q: exit %d, want %d\n%s", c.args, got, c.code, errOut.String())
		}
	}
	if err := outputFailed(os.ErrClosed); !isCode(err, exitInternal) {
		t.Errorf("a non-path output error maps to %v, want internal", err)
	}
}

func isCode(err error, code int) bool {
	ee, ok := err.(*exitError)
	return ok && ee.code == code
}
