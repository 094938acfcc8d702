package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

// TestFloodDoesNotStarveValidCallbacks: while slow clients (slowloris) hold
// connections, 1 MiB bodies and forged signatures pour in, valid callbacks
// are still acknowledged promptly. Bounded: the attack runs until the valid
// callbacks are done, at most 20 s.
func TestFloodDoesNotStarveValidCallbacks(t *testing.T) {
	m, err := env.StartManager(testenv.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	_, s := setupApp(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addr := strings.TrimPrefix(m.CallbackURL, "http://")

	var wg sync.WaitGroup
	var slowConns, bigBodies, forged atomic.Int64
	// Slowloris: connections that send a header byte now and then.
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			slowConns.Add(1)
			_, _ = c.Write([]byte("POST /wecom/x/y HTTP/1.1\r\nHost: x\r\n"))
			for ctx.Err() == nil {
				if _, err := c.Write([]byte("X-A: b\r\n")); err != nil {
					return // the server's header timeout closed it
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}()
	}
	flood := func(counter *atomic.Int64, body func() []byte, query string) {
		defer wg.Done()
		client := &http.Client{Timeout: 5 * time.Second}
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"?"+query, bytes.NewReader(body()))
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				counter.Add(1)
			}
		}
	}
	big := bytes.Repeat([]byte("A"), 1<<20+100)
	wg.Add(2)
	go flood(&bigBodies, func() []byte { return big }, "msg_signature=x&timestamp=1&nonce=1")
	go flood(&forged, func() []byte { return []byte("<xml><Encrypt>AAAAAAAAAAAAAAAAAAAAAA==</Encrypt></xml>") },
		fmt.Sprintf("msg_signature=%040d&timestamp=%d&nonce=1", 0, time.Now().Unix()))

	var worst time.Duration
	for i := 0; i < 30; i++ {
		e := newEvent(t, s)
		start := time.Now()
		resp, err := s.Do(context.Background(), e.req)
		d := time.Since(start)
		if err != nil || resp.Status != 200 {
			t.Fatalf("valid callback %d during the flood: %v %+v", i, err, resp)
		}
		worst = max(worst, d)
	}
	cancel()
	wg.Wait()
	t.Logf("30 valid callbacks acknowledged (slowest %v) against %d slow connections, %d 1 MiB bodies, %d forged requests",
		worst.Round(time.Millisecond), slowConns.Load(), bigBodies.Load(), forged.Load())
	if worst > 2*time.Second {
		t.Fatalf("a valid callback took %v under the flood", worst)
	}
	if bigBodies.Load() == 0 || forged.Load() == 0 {
		t.Fatal("the flood did not run")
	}
	if n := testenv.MetricSum("wecom_callback_rejections_total", map[string]string{"reason": "body_too_large"}); n < 1 {
		t.Fatalf("oversized bodies not rejected: %v", n)
	}
}
