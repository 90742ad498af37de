package model

import (
	"slices"
	"testing"
)

// Every enum's names round-trip through Parse and String, in the format's order, and a
// word outside the format parses to nothing.
func TestEnumNames(t *testing.T) {
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %q, want %q", what, got, want)
		}
	}
	var names []string
	for _, d := range Detectors() {
		if p, ok := ParseDetector(d.String()); !ok || p != d {
			t.Errorf("ParseDetector(%q) = %v, %v", d.String(), p, ok)
		}
		names = append(names, d.String())
	}
	check("detectors", names, []string{"scan", "deadline"})
	names = nil
	for _, k := range BackoffKinds() {
		if p, ok := ParseBackoffKind(k.String()); !ok || p != k {
			t.Errorf("ParseBackoffKind(%q) = %v, %v", k.String(), p, ok)
		}
		names = append(names, k.String())
	}
	check("backoff kinds", names, []string{"fibonacci", "exponential", "constant"})
	names = nil
	for _, f := range Flavours() {
		if p, ok := ParseFlavour(f.String()); !ok || p != f {
			t.Errorf("ParseFlavour(%q) = %v, %v", f.String(), p, ok)
		}
		names = append(names, f.String())
	}
	check("flavours", names, []string{"python", "rust", "strict"})

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
