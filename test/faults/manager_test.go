package faults

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

// managerProcess is the real manager binary, started and killed by tests.
type managerProcess struct {
	cmd      *exec.Cmd
	callback string
	probes   string
	logs     bytes.Buffer
}

func startManager(t *testing.T, bin, callback string) *managerProcess {
	t.Helper()
	p := &managerProcess{callback: callback, probes: testenv.FreeAddr(t)}
	p.cmd = exec.Command(bin, "--kubeconfig", env.Kubeconfig, "--callback-bind-address", callback,
		"--health-probe-bind-address", p.probes, "--metrics-bind-address", "0", "--wecom-api-base-url", "http://127.0.0.1:1")
	p.cmd.Stdout, p.cmd.Stderr = &p.logs, &p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		resp, err := http.Get("http://" + p.probes + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return errStatus(resp.StatusCode)
		}
		return nil
	})
	return p
}

type errStatus int

func (e errStatus) Error() string { return http.StatusText(int(e)) }

// TestManagerKilledMidStream: the manager is killed (SIGKILL) while WeCom
// delivers a stream; WeCom retries what was not acknowledged; after a
// restart every acknowledged event is stored, and retried ones too.
func TestManagerKilledMidStream(t *testing.T) {
	bin := testenv.BuildManager(t)
	callback := testenv.FreeAddr(t)
	m := startManager(t, bin, callback)
	ns, _ := setupAppOnly(t)
	s := &wecomfake.Sender{URL: "http://" + callback + webhook.PathFor(ns, "acme"), CorpID: corpID, Token: token, AESKey: aesKey,
		Client: &http.Client{Timeout: 2 * time.Second}}
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, func() error {
		r, _ := s.VerifyRequest("ping")
		resp, err := s.Do(ctx, r)
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return errStatus(resp.Status)
		}
		return nil
	})

	var mu sync.Mutex
	acked := map[string]bool{}
	var unacked []sent
	stream := func(n int) {
		for i := 0; i < n; i++ {
			e := newEvent(t, s)
			resp, err := s.Do(ctx, e.req)
			mu.Lock()
			if err == nil && resp.Status == 200 {
				acked[e.id] = true
			} else {
				unacked = append(unacked, e)
			}
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); stream(200) }()
	// Kill it while the stream runs.
	testenv.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 20 {
			return errStatus(425)
		}
		return nil
	})
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = m.cmd.Wait()
	wg.Wait()
	m2 := startManager(t, bin, callback)
	defer func() { _ = m2.cmd.Process.Signal(syscall.SIGTERM); _ = m2.cmd.Wait() }()
	// WeCom retries what it did not get a 200 for.
	for _, e := range unacked {
		if _, err := s.SendWithRetry(ctx, e.req, 100, 200*time.Millisecond); err != nil {
			t.Fatalf("retry after restart: %v", err)
		}
		acked[e.id] = true
	}
	missing := 0
	for id := range acked {
		if !stored(ctx, ns, id) {
			missing++
		}
	}
	t.Logf("%d events acknowledged, %d retried after the kill", len(acked), len(unacked))
	if missing > 0 {
		t.Fatalf("%d acknowledged events are not stored", missing)
	}
	if len(unacked) == 0 {
		t.Log("the kill hit between requests: no delivery was cut")
	}
}
