#!/bin/sh
# perf-ab.sh: time two tasksim binaries side by side on one core, alternating them, and
# print the medians and the ratio. On a shared machine only such ratios mean anything:
# both binaries meet the same load, round after round.
#
#   docs/perf-ab.sh BASE NEW ROUNDS [tasksim run arguments...]
#
# e.g. build main's binary and this one, then compare them on `scale`:
#   git worktree add /tmp/base <commit> && (cd /tmp/base && go build -o /tmp/tasksim-base ./cmd/tasksim)
#   go build -o /tmp/tasksim-new ./cmd/tasksim
#   docs/perf-ab.sh /tmp/tasksim-base /tmp/tasksim-new 5 scale
#
# Each run is `taskset -c ${CPU:-0} BIN run ARGS --out DIR`, timed by /usr/bin/time (GNU
# time: apt-get install time). It prints one line per run (wall and CPU seconds, peak RSS,
# trace hash) and the load average before each round, then the medians of both and
# base/new. CPU seconds (user+sys) are the figure to quote on a loaded machine: wall time
# also counts the time the core spent on other processes. Trace hashes of the two
# binaries differ only if the new one changed the order of same-instant events.
set -eu
if [ $# -lt 3 ]; then
	echo "usage: $0 BASE NEW ROUNDS [tasksim run arguments...]" >&2
	exit 2
fi
base=$1 new=$2 rounds=$3
shift 3
[ $# -gt 0 ] || set -- scale
cpu=${CPU:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # label binary round args...
	label=$1 bin=$2 round=$3
	shift 3
	out="$tmp/$label-$round"
	/usr/bin/time -f '%e %U %S %M' -o "$out.time" taskset -c "$cpu" "$bin" run "$@" --out "$out" >"$out.txt" 2>&1 || true
	read -r wall user sys rss <"$out.time"
	hash=$(sed -n 's/^trace hash //p' "$out.txt")
	cpus=$(echo "$user $sys" | awk '{printf "%.2f", $1 + $2}')
	echo "$label round $round: wall ${wall}s cpu ${cpus}s rss $((rss / 1024))MiB hash $hash"
	echo "$cpus $wall" >>"$tmp/$label.all"
}
i=1
while [ "$i" -le "$rounds" ]; do
	echo "load: $(uptime | sed 's/.*load average: //')"
	# Alternate which binary goes first, so neither always meets the same moment.
	if [ $((i % 2)) -eq 1 ]; then
		run base "$base" "$i" "$@"
		run new "$new" "$i" "$@"
	else
		run new "$new" "$i" "$@"
		run base "$base" "$i" "$@"
	fi
	i=$((i + 1))
done
median() { # file column
	sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
bc=$(median "$tmp/base.all" 1) nc=$(median "$tmp/new.all" 1)
bw=$(median "$tmp/base.all" 2) nw=$(median "$tmp/new.all" 2)
echo "median cpu: base ${bc}s new ${nc}s  base/new $(echo "$bc $nc" | awk '{printf "%.2f", $1 / $2}')x"
echo "median wall: base ${bw}s new ${nw}s  base/new $(echo "$bw $nw" | awk '{printf "%.2f", $1 / $2}')x"
