package gate

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/tasksim/tasksim/reports"
)

// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub test reporters): one test
// suite, one test case per scenario.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the check as JUnit XML: a scenario that did not run is an error, one
// with a failed expectation or a regression a failure naming each; changes within
// tolerance go to system-out.
func WriteJUnit(w io.Writer, rep *Report) error {
	suite := junitSuite{Name: "tasksim check"}
	strict := rep.Baseline.StrictHash
	for _, r := range rep.Results {
		c := junitCase{Name: r.Scenario, Classname: "tasksim.check"}
		if r.Summary != nil {
			c.Time = r.Summary.Perf.WallSeconds
		}
		fails, notes, noise := r.problems(strict)
		notes = append(notes, noise...)
		switch {
		case r.Err != nil:
			c.Error = &junitProblem{Message: "scenario did not run", Type: "error", Text: r.Err.Error()}
			suite.Errors++
		case len(fails) > 0:
			c.Failure = &junitProblem{Message: fails[0], Type: "regression", Text: strings.Join(fails, "\n")}
			if len(fails) > 1 {
				c.Failure.Message = fmt.Sprintf("%s (and %d more)", fails[0], len(fails)-1)
			}
			suite.Failures++
		}
		if r.Summary != nil {
			notes = append(notes, fmt.Sprintf("seed %d, trace hash %s, replay: %s", r.Summary.Seed, r.Summary.TraceHash,
				reports.ReplayCommand(r.Scenario, r.Summary.Seed, rep.Sets)))
		}
		c.SystemOut = strings.Join(notes, "\n")
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
		suite.Time += c.Time
	}
	doc := junitSuites{Name: "tasksim check", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Time: suite.Time,
		Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
