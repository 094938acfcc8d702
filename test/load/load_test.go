// Package load measures the callback path under offered load against the
// real control plane, with the manager (receiver and reconcilers enriching
// from the simulated WeCom) on the same machine as the API server, and
// writes the report under docs/bench/. It is a benchmark: `make bench`.
package load

import (
	"context"
	"fmt"
	"image/color"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/manager"
	"github.com/wecom-operator/wecom-operator/internal/plot"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

const (
	corpID   = "ww0000000000load01"
	token    = wecomfake.SampleToken
	aesKey   = wecomfake.SampleAESKey
	phase    = 6 * time.Second
	senders  = 16
	contacts = 40000
)

var (
	env  *testenv.Env
	mgr  *testenv.Running
	fake *wecomfake.Server
)

func TestMain(m *testing.M) {
	corp := wecomfake.NewCorp(corpID, "s")
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 20, Contacts: contacts, MaxFollowsPerContact: 2, Seed: 5})
	fake = wecomfake.NewServer(corp)
	ts := httptest.NewServer(fake)
	defer ts.Close()
	// The manager runs in this process: give it the GC setting it ships
	// with (the sender and the fake pay it too, so the figures are, if
	// anything, low).
	manager.SetGCPercent(logr.Discard(), manager.DefaultGCPercent)
	testenv.RunTests(m, &env, func(e *testenv.Env) (func(), error) {
		o := testenv.TestOptions()
		o.WeComAPIBaseURL = ts.URL
		o.WeComRatePerSecond = 5000
		var err error
		if mgr, err = e.StartManager(o); err != nil {
			return nil, err
		}
		return func() { _ = mgr.Stop() }, nil
	})
}

// TestHarnessSmoke keeps the harness honest in `make test`: one short
// closed-loop phase must acknowledge events and leave them stored.
func TestHarnessSmoke(t *testing.T) {
	s, ids := setup(t, "smoke")
	res := closedLoop(s, ids[:50], 4, 50)
	if res.acks != 50 || res.errors != 0 {
		t.Fatalf("smoke: %+v", res)
	}
}

// BenchmarkCallbackLoad writes docs/bench/callback-load.{md,png}: raw create
// rate, capacity, and latency at 25/50/100% of capacity. Use -benchtime=1x.
func BenchmarkCallbackLoad(b *testing.B) {
	for b.Loop() {
		ns := fmt.Sprintf("load-%d", time.Now().UnixNano())
		s, ids := setup(b, ns)
		raw := rawCreates(b, phase)
		capRes := closedLoop(s, ids, senders, 0)
		capacity := capRes.rate
		var rows []result
		for _, pct := range []float64{0.25, 0.5, 1.0} {
			r := openLoop(s, ids[capRes.acks:], capacity*pct, phase)
			r.label = fmt.Sprintf("%.0f%%", pct*100)
			rows = append(rows, r)
			ids = ids[capRes.acks+r.acks:]
			capRes.acks = 0
		}
		calls := burstCalls(b, s, ns)
		b.ReportMetric(raw, "raw-creates/s")
		b.ReportMetric(capacity, "acks/s")
		b.ReportMetric(100*capacity/raw, "%-of-raw")
		b.ReportMetric(rows[1].p99.Seconds()*1000, "p99-ms@50%")
		b.ReportMetric(calls, "wecom-calls/contact/burst")
		if err := report(raw, capRes, rows, calls); err != nil {
			b.Fatal(err)
		}
	}
}

type result struct {
	label         string
	offered, rate float64
	acks, errors  int
	p50, p99, max time.Duration
}

func setup(t testing.TB, ns string) (*wecomfake.Sender, []string) {
	t.Helper()
	ctx := context.Background()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			StringData: map[string]string{"corpSecret": "s", "token": token, "encodingAESKey": aesKey}},
		&wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme"},
			Spec: wecomv1alpha1.WeComAppSpec{CorpID: corpID, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"},
				ResyncInterval: &metav1.Duration{}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		app := &wecomv1alpha1.WeComApp{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, app); err == nil &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("app not ready")
		}
	}
	var ids []string
	fake.Do(corpID, func(c *wecomfake.Corp) {
		for id := range c.Contacts {
			ids = append(ids, id)
		}
	})
	sort.Strings(ids)
	return &wecomfake.Sender{URL: mgr.CallbackURL + webhook.PathFor(ns, "acme"), CorpID: corpID, Token: token, AESKey: aesKey}, ids
}

func send(s *wecomfake.Sender, id string) (time.Duration, bool) {
	start := time.Now()
	resp, err := s.Send(context.Background(), wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: id})
	return time.Since(start), err == nil && resp.Status == 200
}

// closedLoop sends to ids with n concurrent senders, for phase or (limit >
// 0) limit events, and returns the rate achieved: the capacity.
func closedLoop(s *wecomfake.Sender, ids []string, n, limit int) result {
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	res := result{}
	deadline := time.Now().Add(phase)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || (limit > 0 && i >= limit) {
					return
				}
				d, ok := send(s, ids[i])
				mu.Lock()
				if ok {
					res.acks++
					lat = append(lat, d)
				} else {
					res.errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.rate = float64(res.acks) / time.Since(start).Seconds()
	res.p50, res.p99, res.max = percentiles(lat)
	return res
}

// openLoop offers rate events per second for d, whatever the answers take.
func openLoop(s *wecomfake.Sender, ids []string, rate float64, d time.Duration) result {
	interval := time.Duration(float64(time.Second) / rate)
	res := result{offered: rate}
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	i := 0
	for t := start; time.Since(start) < d && i < len(ids); t = t.Add(interval) {
		time.Sleep(time.Until(t))
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			dd, ok := send(s, id)
			mu.Lock()
			if ok {
				res.acks++
				lat = append(lat, dd)
			} else {
				res.errors++
			}
			mu.Unlock()
		}(ids[i])
		i++
	}
	wg.Wait()
	res.rate = float64(res.acks) / time.Since(start).Seconds()
	res.p50, res.p99, res.max = percentiles(lat)
	return res
}

func percentiles(l []time.Duration) (time.Duration, time.Duration, time.Duration) {
	if len(l) == 0 {
		return 0, 0, 0
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[len(l)/2], l[len(l)*99/100], l[len(l)-1]
}

// rawCreates is the API server's create rate for an ExternalContact of the
// same size, same parallelism, same process: the physical limit of an ack.
func rawCreates(t testing.TB, d time.Duration) float64 {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "raw-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				id := fmt.Sprintf("wmRaw%010dXyZ", n.Add(1))
				ec := &wecomv1alpha1.ExternalContact{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: contactname.For("acme", id), Labels: contactname.Labels("acme", id)},
					Spec: wecomv1alpha1.ExternalContactSpec{AppRef: wecomv1alpha1.LocalObjectReference{Name: "acme"}, ExternalUserID: id,
						LastEvent: &wecomv1alpha1.ContactEvent{ChangeType: "add_external_contact", Time: metav1.Now(), UserID: "member000"}},
				}
				if err := env.Client.Create(ctx, ec); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// burstCalls sends bursts of 5 events to 20 fresh contacts and returns
// the WeCom externalcontact/get calls per contact once they are synced.
func burstCalls(t testing.TB, s *wecomfake.Sender, namespace string) float64 {
	var ids []string
	fake.Do(corpID, func(c *wecomfake.Corp) {
		for i := 0; i < 20; i++ {
			id := fmt.Sprintf("wmBurst%04dX%d", i, time.Now().UnixNano()%1000)
			c.Contacts[id] = &wecomfake.Contact{ExternalUserID: id, Name: "burst", Type: 1,
				Follows: []*wecomfake.Follow{{UserID: "member000", CreateTime: 1700000000}}}
			ids = append(ids, id)
		}
	})
	ctx := context.Background()
	base := time.Now()
	for k := 0; k < 5; k++ {
		for _, id := range ids {
			if _, err := s.Send(ctx, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: "member000",
				ExternalUserID: id, CreateTime: base.Add(time.Duration(k) * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		synced := 0
		for _, id := range ids {
			ec := &wecomv1alpha1.ExternalContact{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: contactname.For("acme", id)}, ec); err == nil &&
				ec.Status.ObservedGeneration == ec.Generation && ec.Status.LastSyncTime != nil {
				synced++
			}
		}
		if synced == len(ids) {
			break
		}
	}
	calls := 0
	for _, id := range ids {
		calls += fake.ContactCalls(id)
	}
	return float64(calls) / float64(len(ids))
}

func report(raw float64, capacity result, rows []result, calls float64) error {
	dir := filepath.Join(testenv.RepoRoot(), "docs", "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Callback path under load\n\nGenerated by `make bench` (test/load) on %s, %d cores (%s), %s. The manager (receiver + reconcilers enriching from the simulated WeCom), kube-apiserver and etcd share the machine.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintf(&b, "| measure | value |\n|---|---|\n| raw API-server creates/s (%d clients) | %.0f |\n| callback capacity, acks/s (%d senders) | %.0f (%.0f%% of raw) |\n| WeCom calls per contact for a burst of 5 events | %.2f |\n\n",
		senders, raw, senders, capacity.rate, 100*capacity.rate/raw, calls)
	fmt.Fprintf(&b, "| offered load | offered/s | acked/s | errors | p50 | p99 | max |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %d | %v | %v | %v |\n", r.label, r.offered, r.rate, r.errors,
			r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.max.Round(100*time.Microsecond))
	}
	b.WriteString("\n![latency vs offered load](callback-load.png)\n")
	if err := os.WriteFile(filepath.Join(dir, "callback-load.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	var x, p50, p99 []float64
	for _, r := range rows {
		x = append(x, r.offered)
		p50 = append(p50, float64(r.p50.Microseconds())/1000)
		p99 = append(p99, float64(r.p99.Microseconds())/1000)
	}
	f, err := os.Create(filepath.Join(dir, "callback-load.png"))
	if err != nil {
		return err
	}
	defer f.Close()
	return plot.Chart{Title: "WeCom callback: acknowledgement latency vs offered load", XLabel: "offered callbacks/s", YLabel: "latency (ms)",
		Series: []plot.Series{{Name: "p50", Color: color.RGBA{30, 110, 200, 255}, X: x, Y: p50}, {Name: "p99", Color: color.RGBA{210, 60, 40, 255}, X: x, Y: p99}}}.PNG(f)
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
