package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model/codecbench"
)

// quickCodecRun measures a few cheap cases briefly: enough to draw.
func quickCodecRun(t *testing.T) *codecbench.Report {
	t.Helper()
	r, err := codecbench.Run(codecbench.Options{Payloads: []int{512}, Time: time.Millisecond, Count: 2,
		Match: `^TaskHeartbeat|^TaskAssignment/512B/encode/(proto|wire|memmove)$`})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCodecBars(t *testing.T) {
	dir := t.TempDir()
	pngPath, svgPath := filepath.Join(dir, "codec.png"), filepath.Join(dir, "codec.svg")
	if err := CodecBars(quickCodecRun(t), pngPath, svgPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
		t.Errorf("PNG is only %v", b)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element is %q", root)
	}
	for _, want := range []string{"ns/op", "wire (sim path)", "TaskHeartbeatRequest"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks the text %q", want)
		}
	}
}
