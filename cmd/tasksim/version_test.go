package main

import (
	"runtime/debug"
	"testing"
)

func TestVersionText(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/tasksim/tasksim", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{stamped, true, "tasksim v1.2.0, commit 0123456789ab (2026-12-01T20:00:00Z) with local changes, go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "tasksim (devel), commit unknown (built without VCS information), go1.26.8"},
		{nil, false, "tasksim (no build information)"},
	}
	for _, tt := range tests {
		if got := versionText(tt.info, tt.ok); got != tt.want {
			t.Errorf("versionText = %q, want %q", got, tt.want)
		}
	}
}
