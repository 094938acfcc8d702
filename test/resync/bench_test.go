package resync

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// BenchmarkInitialResync imports a whole corp through a resync and reports
// the WeCom calls made (and the minimum the batch API allows), the writes
// to the API server, the wall time, and the manager's heap per contact
// (peak while running, and live after a GC with every contact in the
// informer cache). Run with -benchtime=1x: one iteration is one corp.
func BenchmarkInitialResync(b *testing.B) {
	for _, size := range []int{10_000, 50_000, 100_000} {
		b.Run(fmt.Sprintf("contacts=%d", size), func(b *testing.B) {
			for b.Loop() {
				benchResync(b, size)
			}
		})
	}
}

var benchSeq atomic.Int64

func benchResync(b *testing.B, contacts int) {
	const users = 50
	resyncDeadline = time.Hour
	corp := fmt.Sprintf("wwbench%011d", benchSeq.Add(1))
	c := wecomfake.NewCorp(corp, secret)
	c.Seed(wecomfake.SeedOptions{FollowUsers: users, Contacts: contacts, MaxFollowsPerContact: 3, Seed: 9})
	relations := c.Relations()
	fake.AddCorp(c)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	rssBefore := rss()
	fake.ResetCalls()

	peak, stop := sampleHeap()
	ns := newApp(b, corp)
	start := time.Now()
	r := resync(b, ns, "bench")
	wall := time.Since(start)
	stop()
	if !r.Complete || r.Created != int64(contacts) {
		b.Fatalf("resync: %+v", r)
	}
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)

	calls := fake.Calls("")
	// The minimum: one follow-user list, one tag list, and one page per 100
	// relations of each chunk of 100 users, plus gettoken.
	minCalls := 3 + (relations+99)/100
	b.ReportMetric(float64(calls), "wecom-calls")
	b.ReportMetric(float64(minCalls), "wecom-calls-min")
	b.ReportMetric(float64(2*r.Created+r.Updated+r.Deleted), "api-writes")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(peak.Load()-int64(base.HeapAlloc))/float64(contacts), "peak-heap-B/contact")
	b.ReportMetric(float64(int64(live.HeapAlloc)-int64(base.HeapAlloc))/float64(contacts), "live-heap-B/contact")
	b.ReportMetric(float64(rss()-rssBefore)/float64(contacts), "rss-B/contact")
}

// rss is this process's resident set size in bytes (0 where /proc is
// missing). The process holds the manager and the simulated WeCom; the
// growth during an import is the manager's.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// sampleHeap records the highest HeapAlloc until stop is called.
func sampleHeap() (*atomic.Int64, func()) {
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if int64(m.HeapAlloc) > peak.Load() {
				peak.Store(int64(m.HeapAlloc))
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return &peak, func() { close(done); wg.Wait() }
}
