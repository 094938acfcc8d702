package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

const (
	corpID = "ww1436e0e65a779aee"
	token  = wecomfake.SampleToken
	aesKey = wecomfake.SampleAESKey
)

// setupApp creates a namespace, Secret and WeComApp and returns a sender
// once the running manager routes the app.
func setupApp(t *testing.T, m *testenv.Running) (string, *wecomfake.Sender) {
	t.Helper()
	ns, _ := setupAppOnly(t)
	s := &wecomfake.Sender{URL: m.CallbackURL + webhook.PathFor(ns, "acme"), CorpID: corpID, Token: token, AESKey: aesKey}
	testenv.Eventually(t, 30*time.Second, func() error {
		r, _ := s.VerifyRequest("ping")
		resp, err := s.Do(context.Background(), r)
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return fmt.Errorf("status %d", resp.Status)
		}
		return nil
	})
	return ns, s
}

// setupAppOnly creates a namespace, the credentials Secret and a WeComApp.
func setupAppOnly(t *testing.T, mutate ...func(*wecomv1alpha1.WeComApp)) (string, *wecomv1alpha1.WeComApp) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "fault-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "creds"},
			StringData: map[string]string{"corpSecret": "s", "token": token, "encodingAESKey": aesKey}},
	}
	app := &wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "acme"},
		Spec: wecomv1alpha1.WeComAppSpec{CorpID: corpID, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"}}}
	for _, m := range mutate {
		m(app)
	}
	objs = append(objs, app)
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return ns.Name, app
}

type sent struct {
	id  string
	req *wecomfake.Request
}

func newEvent(t *testing.T, s *wecomfake.Sender) sent {
	t.Helper()
	id := wecomfake.RandomID("wo")
	r, err := s.EventRequest(wecomfake.ContactEvent{CorpID: corpID, ChangeType: "add_external_contact",
		UserID: "u1", ExternalUserID: id, CreateTime: time.Now()}.XML())
	if err != nil {
		t.Fatal(err)
	}
	return sent{id: id, req: r}
}

func stored(ctx context.Context, ns, id string) bool {
	var ec wecomv1alpha1.ExternalContact
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: contactname.For("acme", id)}, &ec)
	return err == nil && ec.Spec.LastEvent != nil
}

// TestAPIServerOutage: while the API server is down the receiver answers 5xx
// (never 200); WeCom's retries after the restart are stored; every event
// acknowledged with 200, before, during or after, is in the API server.
func TestAPIServerOutage(t *testing.T) {
	m, err := env.StartManager(testenv.TestOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	ns, s := setupApp(t, m)
	ctx := context.Background()

	var mu sync.Mutex
	acked := map[string]bool{}
	ack := func(id string) { mu.Lock(); acked[id] = true; mu.Unlock() }

	// Phase 1: healthy.
	for i := 0; i < 10; i++ {
		e := newEvent(t, s)
		resp, err := s.Do(ctx, e.req)
		if err != nil || resp.Status != 200 {
			t.Fatalf("healthy: %v %+v", err, resp)
		}
		ack(e.id)
	}

	// A background stream with WeCom's behaviour (a few retries, then give
	// up) runs through the outage.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var streamErrors, streamAcks int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			e := newEvent(t, s)
			resp, err := s.SendWithRetry(ctx, e.req, 4, 300*time.Millisecond)
			mu.Lock()
			if err == nil && resp.Status == 200 {
				acked[e.id] = true
				streamAcks++
			} else {
				streamErrors++
			}
			mu.Unlock()
		}
	}()

	t0 := time.Now()
	if err := env.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server stopped in %v", time.Since(t0).Round(time.Millisecond))
	// Phase 2: every delivery during the outage is refused with a 5xx.
	var pending []sent
	for i := 0; i < 10; i++ {
		e := newEvent(t, s)
		resp, err := s.Do(ctx, e.req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status < 500 {
			t.Fatalf("during the outage the receiver answered %d %q; it must not acknowledge", resp.Status, resp.Body)
		}
		pending = append(pending, e)
	}
	t0 = time.Now()
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %v", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	// Phase 3: WeCom retries the same signed requests; they are stored.
	for _, e := range pending {
		resp, err := s.SendWithRetry(ctx, e.req, 200, 250*time.Millisecond)
		if err != nil {
			t.Fatalf("retry after restart: %v %+v", err, resp)
		}
		ack(e.id)
	}
	t.Logf("retried events stored %v after the restart", time.Since(t0).Round(time.Millisecond))
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for id := range acked {
		if !stored(ctx, ns, id) {
			t.Errorf("event for %s was acknowledged but is not stored", id)
		}
	}
	t.Logf("acknowledged %d events (%d by the background stream, which gave up on %d during the outage)", len(acked), streamAcks, streamErrors)
	if len(acked) < 20 {
		t.Fatalf("only %d events acknowledged", len(acked))
	}
	if got := testenv.MetricSum("wecom_callback_requests_total", map[string]string{"result": "failed"}); got < 10 {
		t.Fatalf("failed writes counted %v, want >= 10", got)
	}
}
