package model

import (
	"slices"
	"testing"
)

// checkNames asserts that all round-trips through its String and parse, and that its
// names are want, in that order.
func checkNames[T interface {
	comparable
	String() string
}](t *testing.T, what string, all []T, parse func(string) (T, bool), want ...string) {
	t.Helper()
	var names []string
	for _, v := range all {
		if p, ok := parse(v.String()); !ok || p != v {
			t.Errorf("%s: parse(%q) = %v, %v", what, v.String(), p, ok)
		}
		names = append(names, v.String())
	}
	if !slices.Equal(names, want) {
		t.Errorf("%s: %q, want %q", what, names, want)
	}
}

// Every enum's names round-trip through Parse and String, in the format's order, and a
// word outside the format parses to nothing.
func TestEnumNames(t *testing.T) {
	checkNames(t, "detectors", Detectors(), ParseDetector, "scan", "deadline")
	checkNames(t, "backoff kinds", BackoffKinds(), ParseBackoffKind, "fibonacci", "exponential", "constant")
	checkNames(t, "flavours", Flavours(), ParseFlavour, "python", "rust", "strict")

	if _, ok := ParseDetector("Scan"); ok {
		t.Error(`ParseDetector("Scan") succeeded; names are lower case`)
	}
	if _, ok := ParseBackoffKind(""); ok {
		t.Error(`ParseBackoffKind("") succeeded`)
	}
	if s := Detector(7).String(); s != "Detector(?)" {
		t.Errorf("Detector(7) = %q", s)
	}
	if s := BackoffKind(9).String(); s != "BackoffKind(?)" {
		t.Errorf("BackoffKind(9) = %q", s)
	}
	// The zero values are the reference's, so a Config built by hand without them runs
	// the reference behaviour.
	if DetectorScan != 0 || BackoffFibonacci != 0 || FlavourPython != 0 {
		t.Error("the reference values are not the zero values")
	}
}
