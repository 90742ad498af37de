package scenarios

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The parsers below turn one scalar into a typed value. Their errors are the message part
// of an Error: they quote the input and say what is allowed.

var wholeNumber = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*$`)

// parseInt accepts decimal whole numbers, with `_` between digits (1_000_000), in [lo, hi].
// Base prefixes are refused so that 010 is not silently octal.
func parseInt(s string, lo, hi int64) (int64, error) {
	if !wholeNumber.MatchString(s) {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s is not in [%d, %d]", s, lo, hi)
	}
	return v, nil
}

func parseUint64(s string) (uint64, error) {
	if !wholeNumber.MatchString(s) || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is not a whole number >= 0", s)
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ReplaceAll(s, "_", ""), "+"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s is not in [0, %d]", s, uint64(math.MaxUint64))
	}
	return v, nil
}

var decimal = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// parseFloat accepts plain decimals only (no hex, no `_`, no NaN or infinities: no range
// check can hold for those).
func parseFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !decimal.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// parseFraction accepts 0.1 or 10%, in [0, 1].
func parseFraction(s string) (float64, error) {
	v, ok := 0.0, false
	if num, found := strings.CutSuffix(s, "%"); found {
		v, ok = parseFloat(num)
		v /= 100
	} else {
		v, ok = parseFloat(s)
	}
	if !ok {
		return 0, fmt.Errorf("%q is not a fraction (0.1 or 10%%)", s)
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%s is not in [0, 1]", s)
	}
	return v, nil
}

// parseDuration accepts Go syntax (250ms, 5s, 1m30s) and refuses negative values.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (Go syntax: 250ms, 5s, 1m30s)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative; want a duration >= 0", s)
	}
	return d, nil
}

// parsePositiveDuration is parseDuration for timers where 0 would make no sense.
func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d == 0 {
		err = fmt.Errorf("%s is not > 0", s)
	}
	return d, err
}

// maxPayload keeps sizes far from int overflow and from what one protobuf message can hold.
const maxPayload = 1 << 30

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}

// parseSize accepts 512, 512B, 16KiB, 1MiB, 1GiB.
func parseSize(s string) (int, error) {
	num, mult := s, int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	if !wholeNumber.MatchString(num) {
		return 0, fmt.Errorf("%q is not a size (512, 512B, 16KiB, 1MiB)", s)
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(num, "_", ""), 10, 64)
	if err != nil || v < 0 || v > maxPayload/mult {
		return 0, fmt.Errorf("%s is not in [0B, 1GiB]", s)
	}
	return int(v * mult), nil
}

// formatSize prints bytes in the largest binary unit that divides them exactly.
func formatSize(n int) string {
	for _, u := range sizeUnits {
		if int64(n) >= u.mult && int64(n)%u.mult == 0 {
			return strconv.FormatInt(int64(n)/u.mult, 10) + u.suffix
		}
	}
	return strconv.Itoa(n) + "B"
}

var rateUnits = map[string]float64{"s": 1, "m": 60, "h": 3600}

const (
	minRate = 1.0 / 3600 // per second
	maxRate = 1e9
)

// parseRate accepts N/s, N/m, N/h and returns events per second, > 0.
func parseRate(s string) (float64, error) {
	num, unit, found := strings.Cut(s, "/")
	per, known := rateUnits[strings.TrimSpace(unit)]
	v, ok := parseFloat(num)
	if !found || !known || !ok {
		return 0, fmt.Errorf("%q is not a rate (200/s, 12000/m, 100/h)", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("%s is not > 0", s)
	}
	// Bounded so that the gap between arrivals fits a time.Duration and is not 0.
	if r := v / per; r < minRate || r > maxRate {
		return 0, fmt.Errorf("%s is not between 1/h and 1000000000/s", s)
	}
	return v / per, nil
}

func formatRate(perSec float64) string {
	return strconv.FormatFloat(perSec, 'f', -1, 64) + "/s"
}

// formatDuration is time.Duration.String without the trailing zero units (1h, not 1h0m0s).
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func parseBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// oneOf checks s against the allowed words, suggesting the nearest one for a typo.
func oneOf(s string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	msg := fmt.Sprintf("%q is not one of %s", s, strings.Join(allowed, ", "))
	if near := closest(s, allowed); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return "", errors.New(msg)
}

// closest returns the candidate nearest to s by edit distance, or "" if none is near
// enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestDist := "", math.MaxInt
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist > max(2, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance, capped in cost by the short inputs it sees.
func editDistance(a, b string) int {
	if len(a) > 200 || len(b) > 200 {
		return math.MaxInt / 2 // not a typo of anything we know; skip the quadratic work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
