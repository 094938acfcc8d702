package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is the manager binary (see BuildManager) running in its own
// process against the control plane, so that what is measured of it (heap,
// RSS, CPU) is the manager's alone.
type Process struct {
	Cmd                              *exec.Cmd
	Probes, Metrics, Callback, Pprof string // loopback addresses
	logs                             Buffer
	done                             chan error
}

// StartProcess runs bin with a kubeconfig for e, every endpoint on a free
// loopback port, and args; it waits until /readyz answers 200. The process
// is killed at the end of the test if still running.
func (e *Env) StartProcess(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Probes: FreeAddr(t), Metrics: FreeAddr(t), Callback: FreeAddr(t), Pprof: FreeAddr(t), done: make(chan error, 1)}
	p.Cmd = exec.Command(bin, append([]string{
		"--kubeconfig", e.Kubeconfig,
		"--health-probe-bind-address", p.Probes,
		"--metrics-bind-address", p.Metrics,
		"--callback-bind-address", p.Callback,
		"--pprof-bind-address", p.Pprof,
	}, args...)...)
	p.Cmd.Stdout, p.Cmd.Stderr = &p.logs, &p.logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.Cmd.Wait() }()
	t.Cleanup(func() {
		if p.Cmd.ProcessState == nil {
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case err := <-p.done:
			t.Fatalf("manager exited early: %v\n%s", err, p.Logs())
		case <-time.After(100 * time.Millisecond):
		}
		if code, err := p.get(p.Probes, "/readyz"); err == nil && code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("manager not ready within 60s\n%s", p.Logs())
		}
	}
}

// Logs returns what the process wrote so far.
func (p *Process) Logs() string { return p.logs.String() }

// Stop sends SIGTERM and waits up to 45 s for the process to exit; it
// returns the exit error (nil for exit code 0).
func (p *Process) Stop() error {
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal manager: %w", err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(45 * time.Second):
		return fmt.Errorf("manager did not stop within 45s of SIGTERM")
	}
}

// Scrape reads the metrics endpoint and returns each sample without labels
// (go_memstats_heap_alloc_bytes, process_cpu_seconds_total, ...).
func (p *Process) Scrape() (map[string]float64, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+p.Metrics+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "identity") // spare the process the compression
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "#") || strings.Contains(f[0], "{") {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out, sc.Err()
}

// GC makes the process collect garbage (through its heap profile
// endpoint) and returns its heap in use afterwards.
func (p *Process) GC() (float64, error) {
	if err := p.heapProfile(io.Discard); err != nil {
		return 0, err
	}
	m, err := p.Scrape()
	if err != nil {
		return 0, err
	}
	return m["go_memstats_heap_alloc_bytes"], nil
}

// SaveHeapProfile writes the process's heap profile (after a collection)
// to path, for go tool pprof.
func (p *Process) SaveHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.heapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// heapProfile writes the heap profile, taken after a collection, to w.
func (p *Process) heapProfile(w io.Writer) error {
	resp, err := http.Get("http://" + p.Pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read heap profile: %w", err)
	}
	return nil
}

// Status returns a size field of /proc/<pid>/status in bytes: VmRSS is the
// resident set now, VmHWM its peak since the process started.
func (p *Process) Status(field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read process status: %w", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field+":" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

func (p *Process) get(addr, path string) (int, error) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// Buffer is a bytes.Buffer that several goroutines may write and read.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
