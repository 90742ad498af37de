// Package safefile creates output files without writing through symlinks: every file
// tasksim writes (a run's out directory, --out, --junit, profiles) is made fresh by
// WriteFile or Create, so that a link planted where an output goes (out/summary.json ->
// ~/.bashrc) is replaced, never followed, and nothing outside the output is overwritten.
package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Create makes path a new, empty file for writing. Whatever was at path before, a file
// or a symlink, is removed first (removing a link never touches its target); the file is
// then opened with O_EXCL and O_NOFOLLOW, so a link that appears in between fails the
// call instead of being followed. A directory at path is an error.
func Create(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("create %s: it is a directory", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("create %s: remove the old file: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes data to a fresh file at path, as Create makes it.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
