package webhook_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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
// Throughput under load, next to the raw create rate, is test/load's.
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
