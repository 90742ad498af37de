package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// builtinFS holds the built-in scenarios, so that the binary runs them with no files.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// Names lists the built-in scenarios, sorted.
func Names() []string {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil // the directory is embedded at build time; it cannot be missing
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	return names // ReadDir sorts by file name
}

// Builtin returns the file of the built-in scenario name.
func Builtin(name string) ([]byte, bool) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		return nil, false
	}
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, false
	}
	return data, true
}

// Resolve reads a scenario given as a file path or a built-in name. An existing file
// wins over a built-in of the same name. file is what errors should call it: the path,
// or NAME.yaml for a built-in.
func Resolve(arg string) (file string, data []byte, err error) {
	data, err = readFile(arg)
	if err == nil {
		return arg, data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	name := strings.TrimSuffix(arg, ".yaml")
	if b, ok := Builtin(name); ok {
		return name + ".yaml", b, nil
	}
	if near, ok := Nearest(arg); ok {
		return "", nil, fmt.Errorf("scenario %q: no such file and no built-in scenario of that name (built-ins: %s); did you mean %s?: %w",
			arg, strings.Join(Names(), ", "), near, err)
	}
	return "", nil, fmt.Errorf("scenario %q: no such file and no built-in scenario of that name (built-ins: %s): %w",
		arg, strings.Join(Names(), ", "), err)
}

// MaxFileBytes is the largest scenario file the loader reads (SCENARIOS.md): far beyond
// any real scenario, and small enough that /dev/zero or an endless pipe given as the
// file is refused at once instead of filling memory.
const MaxFileBytes = 16 << 20

// errTooLarge is the one line for a file over MaxFileBytes.
func errTooLarge(file string) error {
	return fmt.Errorf("%s is larger than %d MiB, the limit for a scenario file", file, MaxFileBytes>>20)
}

// readFile reads at most MaxFileBytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading scenario %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, errTooLarge(path)
	}
	return data, nil
}
