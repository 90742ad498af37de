package codecbench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// serveHello opens what Serve writes, so that a binary too old to serve (or not a
// tasksim at all) is told apart from a broken one.
const serveHello = "tasksim codec-serve 1"

// Serve is the other end of Remote: it writes serveHello, the number of cases opts
// selects and their names, one a line, then answers each request line "i n" (run case i
// n times) with the nanoseconds it took, or "error: ...", and each "gc" with "ok" after
// collecting garbage, until in ends. The collector runs only on "gc" (see
// Side.Collect): Serve is meant for a process of its own.
func Serve(in io.Reader, out io.Writer, opts Options) error {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	l, err := NewLocal(opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	fmt.Fprintf(bw, "%s\n%d\n", serveHello, len(l.names))
	for _, n := range l.names {
		fmt.Fprintln(bw, n)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("codecbench: serve: %w", err)
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var reply []byte
		if sc.Text() == "gc" {
			runtime.GC()
			if _, err := bw.WriteString("ok\n"); err != nil {
				return fmt.Errorf("codecbench: serve: %w", err)
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("codecbench: serve: %w", err)
			}
			continue
		}
		i, n, err := parseRequest(sc.Text(), len(l.names))
		if err == nil {
			var d time.Duration
			d, err = l.Time(i, n)
			reply = strconv.AppendInt(reply, d.Nanoseconds(), 10)
		}
		if err != nil {
			reply = append([]byte("error: "), strings.ReplaceAll(err.Error(), "\n", " ")...)
		}
		reply = append(reply, '\n')
		if _, err := bw.Write(reply); err != nil {
			return fmt.Errorf("codecbench: serve: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("codecbench: serve: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("codecbench: serve: read: %w", err)
	}
	return nil
}

func parseRequest(line string, cases int) (int, int, error) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("request %q: want \"case count\"", line)
	}
	i, err1 := strconv.Atoi(f[0])
	n, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || i < 0 || i >= cases || n < 1 {
		return 0, 0, fmt.Errorf("request %q: want a case below %d and a positive count", line, cases)
	}
	return i, n, nil
}

// Remote is a Side served by another process (Serve): another tasksim binary, so that
// two builds are timed alternately in one comparison.
type Remote struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	names []string
	req   []byte
	name  string
}

// StartRemote starts binary with args (which must make it Serve) and reads its cases.
func StartRemote(binary string, args ...string) (*Remote, error) {
	cmd := exec.Command(binary, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("codecbench: start %s: %w", binary, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("codecbench: start %s: %w", binary, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("codecbench: start %s: %w", binary, err)
	}
	r := &Remote{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), name: binary}
	if err := r.hello(); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Remote) hello() error {
	line, err := r.line()
	if err != nil || line != serveHello {
		return fmt.Errorf("codecbench: %s does not serve codec timings (a tasksim built before 'bench codec --against'?): first line %q, %v", r.name, line, err)
	}
	line, err = r.line()
	n, convErr := strconv.Atoi(line)
	if err != nil || convErr != nil || n < 0 {
		return fmt.Errorf("codecbench: %s: case count %q: %v", r.name, line, errors.Join(err, convErr))
	}
	for range n {
		name, err := r.line()
		if err != nil {
			return fmt.Errorf("codecbench: %s: read case names: %w", r.name, err)
		}
		r.names = append(r.names, name)
	}
	return nil
}

func (r *Remote) line() (string, error) {
	s, err := r.out.ReadString('\n')
	if err != nil {
		return strings.TrimSpace(s), err
	}
	return strings.TrimSuffix(s, "\n"), nil
}

// Names implements Side.
func (r *Remote) Names() []string { return r.names }

// Time implements Side: the remote process times the operation itself, so the pipe's
// round trip is not measured.
func (r *Remote) Time(i, n int) (time.Duration, error) {
	r.req = strconv.AppendInt(r.req[:0], int64(i), 10)
	r.req = append(r.req, ' ')
	r.req = strconv.AppendInt(r.req, int64(n), 10)
	r.req = append(r.req, '\n')
	if _, err := r.stdin.Write(r.req); err != nil {
		return 0, fmt.Errorf("codecbench: %s: %w", r.name, err)
	}
	line, err := r.line()
	if err != nil {
		return 0, fmt.Errorf("codecbench: %s: %w", r.name, err)
	}
	ns, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("codecbench: %s: %s", r.name, line)
	}
	return time.Duration(ns), nil
}

// Collect implements Side.
func (r *Remote) Collect() error {
	if _, err := io.WriteString(r.stdin, "gc\n"); err != nil {
		return fmt.Errorf("codecbench: %s: %w", r.name, err)
	}
	if line, err := r.line(); err != nil || line != "ok" {
		return fmt.Errorf("codecbench: %s: collect: %q %v", r.name, line, err)
	}
	return nil
}

// Close ends the remote process (it stops at the end of its input) and waits for it.
func (r *Remote) Close() error {
	_ = r.stdin.Close()
	if err := r.cmd.Wait(); err != nil {
		return fmt.Errorf("codecbench: %s: %w", r.name, err)
	}
	return nil
}
