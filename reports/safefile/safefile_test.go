package safefile

import (
	"os"
	"path/filepath"
	"testing"
)

// A symlink where an output goes is replaced by the output; its target is untouched.
func TestWriteFileNeverFollowsASymlink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "bashrc")
	if err := os.WriteFile(outside, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(out, "summary.json")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(out, "metrics.prom")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, dangling} {
		if err := WriteFile(p, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s is %v after the write, want a regular file", p, fi.Mode())
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me" {
		t.Fatalf("the link's target was overwritten: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Fatal("a dangling link's target was created")
	}
	// An existing file is replaced, not appended to; a directory is refused.
	if err := WriteFile(link, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(link); string(b) != "x" {
		t.Fatalf("got %q", b)
	}
	if err := WriteFile(out, []byte("x")); err == nil {
		t.Fatal("wrote over a directory")
	}
}
