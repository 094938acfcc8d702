package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

// TestManagerBinaryStartsAndStops builds main.go, runs it against the control
// plane with a kubeconfig, waits until it is ready, and stops it with SIGTERM.
func TestManagerBinaryStartsAndStops(t *testing.T) {
	bin := testenv.BuildManager(t)
	p := env.StartProcess(t, bin, "--leader-elect", "--leader-election-namespace", "default",
		"--wecom-api-base-url", "http://127.0.0.1:1")
	for _, u := range []string{"http://" + p.Metrics + "/metrics", "http://" + p.Callback + "/wecom/default/none?msg_signature=a&timestamp=1&nonce=1&echostr=x"} {
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
	if err := p.Stop(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, p.Logs())
	}
	out := p.Logs()
	for _, want := range []string{"serving WeCom callbacks", "callback server ready", "GC percent set"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
