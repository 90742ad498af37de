package model

// The scenario format's names of model's enums. Each enum has one source, here in model:
// its values, String (the scenario's word) and Parse; the loader, the simulator and the
// live driver all use these, and none keeps a copy of its own.

var detectorNames = [...]string{"scan", "deadline"}

// Detectors lists every detector, in the order the scenario format names them.
func Detectors() []Detector { return []Detector{DetectorScan, DetectorDeadline} }

// String returns the scenario name of the detector (scan, deadline).
func (d Detector) String() string { return nameOf(detectorNames[:], d, "Detector") }

// ParseDetector maps a scenario's detector name (scan, deadline) to a Detector.
func ParseDetector(name string) (Detector, bool) { return parseName[Detector](detectorNames[:], name) }

var backoffNames = [...]string{"fibonacci", "exponential", "constant"}

// BackoffKinds lists every backoff schedule, in the order the scenario format names them.
func BackoffKinds() []BackoffKind {
	return []BackoffKind{BackoffFibonacci, BackoffExponential, BackoffConstant}
}

// String returns the scenario name of the schedule (fibonacci, exponential, constant).
func (k BackoffKind) String() string { return nameOf(backoffNames[:], k, "BackoffKind") }

// ParseBackoffKind maps a scenario's backoff kind (fibonacci, exponential, constant) to
// a BackoffKind.
func ParseBackoffKind(name string) (BackoffKind, bool) {
	return parseName[BackoffKind](backoffNames[:], name)
}

// Flavours lists every worker flavour, in the order the scenario format names them.
func Flavours() []Flavour { return []Flavour{FlavourPython, FlavourRust, FlavourStrict} }

func nameOf[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(?)"
}

func parseName[T ~uint8](names []string, name string) (T, bool) {
	for i, n := range names {
		if n == name {
			return T(i), true
		}
	}
	return 0, false
}
