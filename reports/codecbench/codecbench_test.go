package codecbench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model/wire"
)

func sampleFor(t *testing.T, c Case) proto.Message {
	t.Helper()
	for _, m := range wire.SampleMessages(c.PayloadBytes).All() {
		if string(m.ProtoReflect().Descriptor().FullName()) == c.Message {
			return m
		}
	}
	t.Fatalf("no sample for %s", c.Message)
	return nil
}

// Every case computes the right thing: an encode yields bytes that decode to the sample,
// a decode yields a message equal to the sample (messages, not bytes, are compared:
// variants may order oneof fields differently), and memmove copies the encoding.
func TestEveryCaseRoundTrips(t *testing.T) {
	cases, err := Cases([]int{512, 16384})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		want := sampleFor(t, c)
		s, err := c.setup()
		if err != nil {
			t.Fatalf("%s: setup: %v", c.Name(), err)
		}
		// Several times, to exercise reused buffers, pools and arenas.
		if err := s.op(3); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		var got proto.Message
		switch res := s.last().(type) {
		case []byte:
			if c.Variant == VariantMemmove {
				if len(res) != c.WireBytes {
					t.Errorf("%s: copied %d bytes, want %d", c.Name(), len(res), c.WireBytes)
				}
				continue
			}
			got = want.ProtoReflect().New().Interface()
			unmarshal := proto.Unmarshal
			if c.Variant == VariantProtojson {
				unmarshal = protojson.Unmarshal
			}
			if err := unmarshal(res, got); err != nil {
				t.Fatalf("%s: output does not decode: %v", c.Name(), err)
			}
		case proto.Message:
			got = res
		default:
			t.Fatalf("%s: unexpected result %T", c.Name(), res)
		}
		if !proto.Equal(got, want) {
			t.Errorf("%s: result differs from the sample", c.Name())
		}
	}
}

func TestCases(t *testing.T) {
	cases, err := Cases(nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	sim := map[string]int{}
	for _, c := range cases {
		if names[c.Name()] {
			t.Errorf("duplicate case %s", c.Name())
		}
		names[c.Name()] = true
		if !slices.Contains(Variants, c.Variant) {
			t.Errorf("%s: unknown variant", c.Name())
		}
		if c.SimPath {
			sim[strings.TrimSuffix(c.Name(), c.Variant)]++
		}
	}
	for _, want := range []string{"TaskHeartbeatRequest/encode/vtproto", "TaskAssignment/16KiB/decode/vtproto-unsafe",
		"TaskAssignment/512B/encode/memmove", "CompleteTaskRequest/512B/decode/wire", "TaskHeartbeatResponse/decode/vtproto-unsafe"} {
		if !names[want] {
			t.Errorf("no case %s", want)
		}
	}
	// 2 payload-carrying messages x 2 sizes + 2 heartbeat messages, each way.
	if len(sim) != 12 {
		t.Errorf("%d message/op groups have a sim path, want 12", len(sim))
	}
	for g, n := range sim {
		if n != 1 {
			t.Errorf("%s has %d sim paths", g, n)
		}
	}
	if _, err := Cases([]int{0}); err == nil {
		t.Error("Cases accepted a zero payload")
	}
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("512B, 16KiB,1MiB,2kb,100")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{512, 16384, 1 << 20, 2000, 100}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "x", "-1B", "12XB", "0"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q) succeeded", bad)
		}
	}
	for n, want := range map[int]string{512: "512B", 16384: "16KiB", 1 << 20: "1MiB", 1000: "1000B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// quickRun measures a few cheap cases briefly: enough for the file formats.
func quickRun(t *testing.T) *Report {
	t.Helper()
	r, err := Run(Options{Payloads: []int{512}, Time: time.Millisecond, Count: 2,
		Match: `^TaskHeartbeat|^TaskAssignment/512B/encode/(proto|wire|memmove)$`})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReportJSON(t *testing.T) {
	r := quickRun(t)
	path := filepath.Join(t.TempDir(), "codec.json")
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Method   string           `json:"method"`
		SampleNs int64            `json:"sample_ns"`
		Rows     []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Method != Method || doc.SampleNs <= 0 || len(doc.Rows) != len(r.Rows) {
		t.Fatalf("codec.json: method %q, sample_ns %d, %d rows; want %q, > 0, %d", doc.Method, doc.SampleNs, len(doc.Rows), Method, len(r.Rows))
	}
	want := []string{"allocs_per_op", "bytes_per_op", "mb_per_s", "message", "ns_per_op", "op", "payload_bytes",
		"samples_ns", "sim_path", "variant"}
	withRef := append(slices.Clone(want), "ref_samples_ns", "reference")
	slices.Sort(withRef)
	simRows := 0
	for _, row := range doc.Rows {
		got := keys(row)
		// A codec row names its reference when the run measured that variant too.
		if !slices.Equal(got, want) && (row["variant"] == VariantMemmove || !slices.Equal(got, withRef)) {
			t.Fatalf("%v row keys %v, want %v (and the reference's for codecs)", row["variant"], got, want)
		}
		if op := row["op"]; op != "encode" && op != "decode" {
			t.Errorf("op %v", op)
		}
		if !strings.HasPrefix(row["message"].(string), "stepflow.v1.") {
			t.Errorf("message %v", row["message"])
		}
		if n := len(row["samples_ns"].([]any)); n != 2 {
			t.Errorf("%d samples, want 2", n)
		}
		if row["sim_path"] == true {
			simRows++
			if row["variant"] != VariantWire {
				t.Errorf("sim path on variant %v", row["variant"])
			}
		}
	}
	if simRows == 0 {
		t.Error("no row marks the sim path")
	}
	back, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(r.Rows) || !slices.Equal(back.Rows[0].SamplesNs, r.Rows[0].SamplesNs) {
		t.Fatal("report does not read back as written")
	}
	if err := os.WriteFile(path, []byte(`{"rows":[{"mesage":"x"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadReport(path); err == nil {
		t.Error("ReadReport accepted a misspelt key")
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := quickRun(t).Table(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ns/op", "MB/s", "allocs/op", "vs proto", "vs floor", "wire *", "TaskHeartbeatRequest", "512B"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func synthetic(ns ...float64) *Report {
	return &Report{Rows: []Row{{Message: "stepflow.v1.TaskHeartbeatRequest", Op: "encode", Variant: VariantWire,
		NsPerOp: median(ns), SamplesNs: ns}}}
}

func TestCompareVerdicts(t *testing.T) {
	base := synthetic(100, 101, 99, 100, 102, 98)
	for _, tc := range []struct {
		name    string
		current *Report
		fail    bool
	}{
		{"itself", base, false},
		{"twice as slow", synthetic(200, 202, 198, 201, 199, 200), true},
		{"faster", synthetic(50, 51, 49, 50, 52, 48), false},
		{"significant but under the threshold", synthetic(105, 106, 104, 105, 107, 103), false},
		// One wild sample (a noisy neighbour) moves neither the median nor the verdict.
		{"one outlier", synthetic(100, 101, 99, 100, 102, 900), false},
		// Too few samples can never be significant: the gate does not guess.
		{"too few samples", synthetic(300, 300), false},
	} {
		c, err := Compare(base, tc.current, 0.10)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Failed() != tc.fail {
			var b bytes.Buffer
			_ = c.Table(&b)
			t.Errorf("%s: failed=%v, want %v\n%s", tc.name, c.Failed(), tc.fail, b.String())
		}
	}
	floor := synthetic(1, 1, 1, 1, 1)
	floor.Rows[0].Variant = VariantMemmove
	slowFloor := synthetic(3, 3, 3, 3, 3)
	slowFloor.Rows[0].Variant = VariantMemmove
	if c, err := Compare(floor, slowFloor, 0.1); err != nil || c.Failed() {
		t.Errorf("a slower memmove floor failed the gate (err %v)", err)
	}
	other := synthetic(1, 2, 3)
	other.Rows[0].Op = "decode"
	if _, err := Compare(base, other, 0.1); err == nil {
		t.Error("Compare of disjoint reports succeeded")
	}
}

// withRef gives a synthetic row reference samples, as Run records them.
func withRef(r *Report, ref ...float64) *Report {
	r.Rows[0].Reference, r.Rows[0].RefSamplesNs = VariantProto, ref
	return r
}

// A row is judged by its time relative to its reference measured with it: a machine
// that runs everything slower passes, a row that alone got slower fails.
func TestCompareJudgesRowsAgainstTheirReference(t *testing.T) {
	base := withRef(synthetic(100, 101, 99, 100, 102, 98, 100, 101), 400, 404, 396, 400, 408, 392, 400, 404)
	for _, tc := range []struct {
		name    string
		current *Report
		fail    bool
	}{
		{"itself", base, false},
		{"a machine 60% slower: the reference slows alike", withRef(synthetic(160, 162, 158, 160, 163, 157, 160, 161), 640, 646, 634, 640, 653, 627, 640, 646), false},
		{"25% slower, the reference not", withRef(synthetic(125, 126, 124, 125, 127, 123, 125, 126), 400, 404, 396, 400, 408, 392, 400, 404), true},
		{"25% slower on a machine 60% slower", withRef(synthetic(200, 202, 198, 200, 204, 196, 200, 202), 640, 646, 634, 640, 653, 627, 640, 646), true},
	} {
		c, err := Compare(base, tc.current, 0.10)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Failed() != tc.fail || !c.Deltas[0].VsRef {
			var b bytes.Buffer
			_ = c.Table(&b)
			t.Errorf("%s: failed=%v, want %v\n%s", tc.name, c.Failed(), tc.fail, b.String())
		}
	}
	old := synthetic(100, 100, 100)
	old.Method = ""
	cur := synthetic(100, 100, 100)
	cur.Method = Method
	if _, err := Compare(old, cur, 0.1); err == nil || !strings.Contains(err.Error(), "record the baseline again") {
		t.Errorf("a baseline measured another way was compared: %v", err)
	}
}

// The gate on real measurements, as `bench codec --against` runs it: this build passes
// against itself, and a build with the wire codec made three times as slow (each
// operation done three times: a margin no loaded machine hides) fails on wire's rows and
// on no other: protobuf-go and vtprotobuf are timed in the same pairs and stay as they
// were. The builds are timed alternately in short chunks, so a busy machine slows both.
func TestGateCatchesInjectedSlowdown(t *testing.T) {
	const factor = 3
	slow := func(c Case, op func(n int) error) func(n int) error {
		if c.Variant != VariantWire {
			return op
		}
		return func(n int) error { return op(factor * n) }
	}
	opts := Options{Payloads: []int{16384}, Match: `^TaskAssignment/16KiB/encode/(wire|proto|vtproto)$`}
	base, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	same, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Wrap = slow
	slowed, err := NewLocal(o)
	if err != nil {
		t.Fatal(err)
	}
	ab := ABOptions{Time: 30 * time.Millisecond}
	self, err := ABCompare(base, same, ab)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_ = self.Table(&b)
	if self.Failed() || len(self.Deltas) != 3 || self.Pairs < minPairs {
		t.Errorf("the gate fails this build against itself, or compared the wrong cases:\n%s", b.String())
	}
	c, err := ABCompare(base, slowed, ab)
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	_ = c.Table(&b)
	regs := c.Regressions()
	if len(regs) != 1 || regs[0].Case != "TaskAssignment/16KiB/encode/wire" || regs[0].Low < 2 {
		t.Fatalf("want exactly the %dx slower wire row caught, at 2x or more:\n%s", factor, b.String())
	}
}

// The interval around the median is the binomial one: for 41 values at 99%, the 12th to
// the 30th (P(X <= 11) = 0.0022 <= 0.005 < P(X <= 12) for X ~ B(41, 1/2)); below 8
// values there is none.
func TestMedianInterval(t *testing.T) {
	xs := make([]float64, 41)
	for i := range xs {
		xs[i] = float64(41 - i) // descending: the function sorts
	}
	med, lo, hi := medianInterval(xs, 0.99)
	if med != 21 || lo != 12 || hi != 30 {
		t.Errorf("41 values: median %v, interval [%v, %v]; want 21, [12, 30]", med, lo, hi)
	}
	med, lo, hi = medianInterval([]float64{3, 1, 2, 5, 4, 6, 7}, 0.99)
	if med != 4 || lo != 1 || hi != 7 {
		t.Errorf("7 values: median %v, interval [%v, %v]; want 4, [1, 7]", med, lo, hi)
	}
}

// ABCompare compares the cases both builds have and lists the others.
func TestABCompareMatchesCasesByName(t *testing.T) {
	a, err := NewLocal(Options{Payloads: []int{512}, Match: `^TaskHeartbeatRequest/encode/(wire|memmove)$`})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLocal(Options{Payloads: []int{512}, Match: `^TaskHeartbeatRequest/encode/(wire|proto)$`})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ABCompare(a, b, ABOptions{Time: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Deltas) != 1 || c.Deltas[0].Case != "TaskHeartbeatRequest/encode/wire" || c.Pairs != minPairs ||
		!slices.Equal(c.Unmatched, []string{"new: TaskHeartbeatRequest/encode/proto", "gone: TaskHeartbeatRequest/encode/memmove"}) {
		t.Errorf("compared %+v, pairs %d, unmatched %v", c.Deltas, c.Pairs, c.Unmatched)
	}
	none, err := NewLocal(Options{Payloads: []int{512}, Match: `^TaskHeartbeatResponse/decode/proto$`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ABCompare(a, none, ABOptions{Time: time.Millisecond}); err == nil {
		t.Error("two builds without a case in common were compared")
	}
}
