package scenarios

import (
	"strings"
)

// shows says in a line what each built-in scenario is there to show, for
// `tasksim scenarios list`; the file's description tells the whole story.
var shows = map[string]string{
	"ack-late":                "JetStream redelivers a task whose ack waits for its completion: it runs twice",
	"crash-storm":             "crash waves: scan detection takes 1x to 2x the timeout; every task retried, none lost",
	"default":                 "a mixed day with crashes and heartbeat loss: latency, detection and retries",
	"duplicate-delivery":      "a queue that delivers twice: the claim (ALREADY_CLAIMED) keeps one result per step",
	"hazard-double-copy":      "hazard 4: a held assignment's retry reaches the same worker and runs twice there",
	"hazard-python-abort":     "hazard 5: python workers told to abort run on, and their late results are accepted",
	"hazard-reused-ids":       "hazard 3: with reused task ids a stale queue deadline fails the retry early",
	"hazard-scan-latency":     "hazard 1: scan detection spreads over 5s..10s instead of the promised 5s",
	"hazard-scan-wipe":        "hazard 2: heartbeats landing during a scan are wiped: live tasks falsely failed",
	"hazard-silent-heartbeat": "hazard 8: a heartbeat never answered stops a python loop; the live task is failed",
	"hazard-slot-aging":       "hazard 6: an assignment held for a free slot times out in the queue anyway",
	"hazard-hoarding":         "hazard 6 at its real size: early streams hoard the backlog, queue timeouts while others idle",
	"hazard-broken-pipe":      "hazard 7: a reset partition drops the assignments in broken streams' pipes",
	"heartbeat-loss":          "30% of heartbeats dropped: calls without a deadline hang, the python pool seizes (hazard 8)",
	"orchestrator-restart":    "an orchestrator restart: runs recovered from the journal, tasks re-dispatched",
	"partition":               "a 15s partition: tasks failed and retried elsewhere; late results meet moved-on tasks",
	"pause-zombie":            "paused workers resume as zombies: steps run twice, a zombie's result taken for the retry",
	"poison-pill":             "a component that always fails: retries spent, flagged unhealthy, other steps unaffected",
	"restart-then-crash":      "crashes after an orchestrator restart: the restarted scan cycle fails them 9s later",
	"scale":                   "1M steps on 10k workers, no faults: how fast the simulator and the codec run",
	"scan-vs-deadline":        "scan against deadline detector: 5s..10s against exactly 5s (run it both ways)",
}

// Shows says in a line what the built-in scenario name shows; for a built-in without
// its line, the first sentence of description, whole.
func Shows(name, description string) string {
	if s, ok := shows[name]; ok {
		return s
	}
	d := strings.Join(strings.Fields(description), " ")
	if i := strings.Index(d, ". "); i >= 0 {
		return d[:i+1]
	}
	return d
}

// Nearest is the built-in a mistyped SCENARIO most likely meant: for a bare name, the
// closest built-in by edit distance (ignoring case), however far; for something that
// looks like a file (a .yaml suffix, a directory), a built-in only if it is a likely
// typo of one.
func Nearest(arg string) (string, bool) {
	name := strings.ToLower(arg)
	if strings.ContainsAny(name, `/\`) {
		return "", false
	}
	if base, isFile := strings.CutSuffix(name, ".yaml"); isFile {
		near := closest(base, Names())
		return near, near != ""
	}
	best, bestDist := "", -1
	for _, n := range Names() {
		if d := editDistance(name, n); bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	return best, bestDist >= 0
}
