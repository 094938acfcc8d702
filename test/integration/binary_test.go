package integration

import (
	"bytes"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

// TestManagerBinaryStartsAndStops builds main.go, runs it against the control
// plane with a kubeconfig, waits until it is ready, and stops it with SIGTERM.
func TestManagerBinaryStartsAndStops(t *testing.T) {
	bin := testenv.BuildManager(t)
	probes, metrics, callback := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--kubeconfig", env.Kubeconfig,
		"--health-probe-bind-address", probes,
		"--metrics-bind-address", metrics,
		"--callback-bind-address", callback,
		"--leader-elect", "--leader-election-namespace", "default",
		"--wecom-api-base-url", "http://127.0.0.1:1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	ready := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !ready; {
		select {
		case err := <-done:
			t.Fatalf("manager exited early: %v\n%s", err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := http.Get("http://" + probes + "/readyz")
		if err == nil {
			ready = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
	}
	if !ready {
		t.Fatalf("manager not ready within 60s\n%s", logs.String())
	}
	for _, u := range []string{"http://" + metrics + "/metrics", "http://" + callback + "/wecom/default/none?msg_signature=a&timestamp=1&nonce=1&echostr=x"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if strings.Contains(u, "/wecom/") {
			want = http.StatusNotFound // no such WeComApp
		}
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", u, resp.StatusCode, want)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("manager exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("manager did not stop within 45s of SIGTERM\n%s", logs.String())
	}
	out := logs.String()
	for _, want := range []string{"serving WeCom callbacks", "callback server ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
