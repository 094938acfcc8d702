package webhook_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// benchApp is one app for the benchmarks (created once).
var benchApp *fixture

func benchFixture(b *testing.B) *fixture {
	if benchApp == nil {
		benchApp = newApp(b, corpID, nil)
	}
	return benchApp
}

// BenchmarkCallbackEndToEnd is one event POST through the real handler:
// verify, decrypt, parse and the durable write to the API server (a new
// contact each time), sequentially: the latency of one acknowledgement.
func BenchmarkCallbackEndToEnd(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	for b.Loop() {
		id := fmt.Sprintf("wmBench%010dSeq", n.Add(1))
		resp, err := f.sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "u", ExternalUserID: id})
		if err != nil || resp.Status != 200 {
			b.Fatalf("%v %+v", err, resp)
		}
	}
}

// BenchmarkCallbackEndToEndParallel measures sustained acknowledgements per
// second with concurrent senders (as WeCom delivers in parallel).
func BenchmarkCallbackEndToEndParallel(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("wmBenchPar%010d", n.Add(1))
			resp, err := f.sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "u", ExternalUserID: id})
			if err != nil || resp.Status != 200 {
				b.Errorf("%v %+v", err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "acks/s")
}

// BenchmarkRawCreateParallel is the physical limit of a durable ack: the API
// server's create rate for an ExternalContact of the same size, from the
// same process, with the same parallelism.
func BenchmarkRawCreateParallel(b *testing.B) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "raw-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("wmRaw%010dXyZ", n.Add(1))
			ec := &wecomv1alpha1.ExternalContact{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: contactname.For("acme", id), Labels: contactname.Labels("acme", id)},
				Spec: wecomv1alpha1.ExternalContactSpec{AppRef: wecomv1alpha1.LocalObjectReference{Name: "acme"}, ExternalUserID: id,
					LastEvent: &wecomv1alpha1.ContactEvent{ChangeType: "add_external_contact", Time: metav1.Now(), UserID: "u"}},
			}
			if err := env.Client.Create(ctx, ec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "creates/s")
}
