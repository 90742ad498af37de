package reports

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://ci:s3cret@push.example:9091/x": "http://ci:xxxxx@push.example:9091/x",
		"http://localhost:9091":                "http://localhost:9091",
		"not a url %zz":                        "not a url %zz",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	raw := "http://ci:s3cret@push.example:9091"
	if got := RedactIn(`Post "`+raw+`/metrics/job/tasksim": refused`, raw); got != `Post "http://ci:xxxxx@push.example:9091/metrics/job/tasksim": refused` {
		t.Errorf("RedactIn: %s", got)
	}
}
