package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionText says which tasksim this is: the module version and the VCS commit it was
// built from, as the Go toolchain stamped them. Built with -buildvcs=false (or from a
// directory without VCS), the commit is unknown and says so.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "tasksim (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	commit, when, modified := "", "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	out := "tasksim " + version
	switch {
	case commit == "":
		out += ", commit unknown (built without VCS information)"
	default:
		if len(commit) > 12 {
			commit = commit[:12]
		}
		out += ", commit " + commit
		if when != "" {
			out += " (" + when + ")"
		}
		if modified {
			out += " with local changes"
		}
	}
	return out + ", " + info.GoVersion
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tasksim version and the commit it was built from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionText(debug.ReadBuildInfo()))
			return err
		},
	}
}
