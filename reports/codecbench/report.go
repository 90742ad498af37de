package codecbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the result of Run, and the content of codec.json.
type Report struct {
	// Method is how the samples were measured (Method); a report without one was made
	// by an older tasksim, which timed whole samples, and Compare refuses to mix them.
	Method string `json:"method,omitempty"`
	// SampleNs is how long each sample ran, in wall-clock nanoseconds.
	SampleNs int64 `json:"sample_ns,omitempty"`
	Rows     []Row `json:"rows"`
}

// Row is one case's measurement. Figures are medians over the samples.
type Row struct {
	Message      string  `json:"message"`       // e.g. stepflow.v1.TaskHeartbeatRequest
	PayloadBytes int     `json:"payload_bytes"` // the carried Value's size; 0 if none
	Op           string  `json:"op"`            // encode or decode
	Variant      string  `json:"variant"`       // one of Variants
	NsPerOp      float64 `json:"ns_per_op"`
	MBPerS       float64 `json:"mb_per_s"` // 10^6 bytes of protobuf encoding per second
	BytesPerOp   int64   `json:"bytes_per_op"`
	AllocsPerOp  int64   `json:"allocs_per_op"`
	SimPath      bool    `json:"sim_path"` // the variant the simulator uses
	// SamplesNs are the ns/op of every sample (its median chunk), for Compare's test.
	SamplesNs []float64 `json:"samples_ns"`
	// Reference is the variant the row was timed against (see Run), and RefSamplesNs
	// its ns/op within each of the row's samples (chunks of it between the row's).
	Reference    string    `json:"reference,omitempty"`
	RefSamplesNs []float64 `json:"ref_samples_ns,omitempty"`
}

func (r Row) key() rowKey { return rowKey{r.Message, r.PayloadBytes, Op(r.Op), r.Variant} }

// ShortName is the message's name without its package.
func (r Row) ShortName() string { return r.Message[strings.LastIndexByte(r.Message, '.')+1:] }

// JSON renders the report as indented JSON (codec.json). The caller writes the file, so
// that every output goes through one writer that never follows a symlink.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("codecbench: encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// ReadReport reads a report that WriteJSON wrote, such as a CI baseline.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("codecbench: read report: %w", err)
	}
	var r Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a misspelt key would otherwise read as a zero
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("codecbench: parse report %s: %w", path, err)
	}
	if len(r.Rows) == 0 {
		return nil, fmt.Errorf("codecbench: report %s has no rows", path)
	}
	return &r, nil
}

// find returns the row for k, or nil.
func (r *Report) find(k rowKey) *Row {
	for i := range r.Rows {
		if r.Rows[i].key() == k {
			return &r.Rows[i]
		}
	}
	return nil
}

// Table writes the report as an aligned text table. "vs proto" is how many times faster
// than protobuf-go's Marshal or Unmarshal the row is; "vs floor" how many times slower
// than copying the same bytes. A * marks the simulator's path.
func (r *Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "message\tpayload\top\tvariant\tns/op\tMB/s\tB/op\tallocs/op\tvs proto\tvs floor\t")
	for _, row := range r.Sorted() {
		payload := "-"
		if row.PayloadBytes > 0 {
			payload = FormatSize(row.PayloadBytes)
		}
		variant := row.Variant
		if row.SimPath {
			variant += " *"
		}
		vsProto, vsFloor := "-", "-"
		if p := r.find(rowKey{row.Message, row.PayloadBytes, Op(row.Op), VariantProto}); p != nil && row.NsPerOp > 0 {
			vsProto = fmt.Sprintf("%.2fx", p.NsPerOp/row.NsPerOp)
		}
		if f := r.find(rowKey{row.Message, row.PayloadBytes, Op(row.Op), VariantMemmove}); f != nil && f.NsPerOp > 0 {
			vsFloor = fmt.Sprintf("%.1fx", row.NsPerOp/f.NsPerOp)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%.0f\t%d\t%d\t%s\t%s\t\n", row.ShortName(), payload, row.Op,
			variant, row.NsPerOp, row.MBPerS, row.BytesPerOp, row.AllocsPerOp, vsProto, vsFloor)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("codecbench: write table: %w", err)
	}
	_, err := fmt.Fprintln(w, "vs proto: times faster than proto.Marshal/Unmarshal; vs floor: times the memmove of the same bytes; * the simulator's path")
	return err
}

// Sorted returns the rows grouped by message, payload and op, variants in Variants order.
func (r *Report) Sorted() []Row {
	rows := slices.Clone(r.Rows)
	order := map[string]int{}
	for _, row := range r.Rows {
		if _, ok := order[row.Message]; !ok {
			order[row.Message] = len(order)
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if d := order[a.Message] - order[b.Message]; d != 0 {
			return d
		}
		if d := a.PayloadBytes - b.PayloadBytes; d != 0 {
			return d
		}
		if a.Op != b.Op {
			if a.Op == string(Encode) {
				return -1
			}
			return 1
		}
		return variantIndex(a.Variant) - variantIndex(b.Variant)
	})
	return rows
}
