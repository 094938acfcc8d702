package resync

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// BenchmarkInitialResync imports a whole corp through a resync and reports
// the WeCom calls made (and the minimum the batch API allows), the writes
// to the API server, the wall time, and the manager's memory per contact.
// The manager is the built binary in its own process (as in a cluster), so
// the simulated WeCom and the test, which live in this process, are not
// counted. Run with -benchtime=1x: one iteration is one corp. With
// WECOM_BENCH_HEAP_PROFILE=path the manager's heap profile after the import
// is saved as path.<contacts> (go tool pprof).
func BenchmarkInitialResync(b *testing.B) {
	bin := testenv.BuildManager(b)
	for _, size := range []int{10_000, 50_000, 100_000} {
		b.Run(fmt.Sprintf("contacts=%d", size), func(b *testing.B) {
			for b.Loop() {
				benchResync(b, bin, size)
			}
		})
	}
}

var benchSeq atomic.Int64

func benchResync(b *testing.B, bin string, contacts int) {
	const users = 50
	resyncDeadline = time.Hour
	corp := fmt.Sprintf("wwbench%011d", benchSeq.Add(1))
	c := wecomfake.NewCorp(corp, secret)
	c.Seed(wecomfake.SeedOptions{FollowUsers: users, Contacts: contacts, MaxFollowsPerContact: 3, Seed: 9})
	relations := c.Relations()
	fake.AddCorp(c)

	// A manager per corp, started with no contacts in the cluster (each run
	// deletes its own at the end).
	ns := newNamespace(b)
	b.Cleanup(func() { deleteContacts(b, ns) })
	if os.Getenv("WECOM_BENCH_HEAP_PROFILE") != "" {
		// A finer heap profile of the manager (it runs slower).
		os.Setenv("GODEBUG", "memprofilerate=1024")
	}
	p := env.StartProcess(b, bin, "--wecom-api-base-url", fakeURL, "--wecom-rate-limit", "1000")
	defer func() {
		if err := p.Stop(); err != nil {
			b.Errorf("stop manager: %v", err)
		}
	}()
	createApp(b, ns, corp)
	waitReady(b, ns)

	before := snapshot(b, p)
	fake.ResetCalls()
	peak, stop := samplePeak(p)
	start := time.Now()
	r := resync(b, ns, "bench")
	wall := time.Since(start)
	stop()
	if !r.Complete || r.Created != int64(contacts) {
		b.Fatalf("resync: %+v", r)
	}
	after := snapshot(b, p)
	if path := os.Getenv("WECOM_BENCH_HEAP_PROFILE"); path != "" {
		if err := p.SaveHeapProfile(fmt.Sprintf("%s.%d", path, contacts)); err != nil {
			b.Error(err)
		}
	}
	hwm, err := p.Status("VmHWM")
	if err != nil {
		b.Fatal(err)
	}

	perContact := func(v float64) float64 { return v / float64(contacts) }
	calls := fake.Calls("")
	// The minimum: one follow-user list, one tag list, and one page per 100
	// relations of each chunk of 100 users (the access token was fetched
	// when the app became ready).
	minCalls := 2 + (relations+99)/100
	b.ReportMetric(float64(calls), "wecom-calls")
	b.ReportMetric(float64(minCalls), "wecom-calls-min")
	b.ReportMetric(float64(2*r.Created+r.Updated+r.Deleted), "api-writes")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(perContact(max(peak.heap.Load(), after.heap)-before.heap), "peak-heap-B/contact")
	b.ReportMetric(perContact(after.heap-before.heap), "live-heap-B/contact")
	b.ReportMetric(perContact(float64(hwm)-before.rss), "peak-rss-B/contact")
	b.ReportMetric(perContact(after.rss-before.rss), "rss-B/contact")
	b.Logf("manager heap: %.1f MiB before, %.1f MiB after; during the import: at most %.1f MiB in use, %.1f MiB live at a collection, heap goal %.1f MiB; RSS %.1f MiB before, %.1f MiB after, %.1f MiB at most",
		before.heap/mib, after.heap/mib, peak.heap.Load()/mib, peak.live.Load()/mib, peak.goal.Load()/mib, before.rss/mib, after.rss/mib, float64(hwm)/mib)
	b.ReportMetric(after.cpu-before.cpu, "cpu-s")
	b.ReportMetric(after.gcCPU-before.gcCPU, "gc-cpu-s")
}

// usage is the manager's memory and CPU at one moment, after a collection.
type usage struct{ heap, rss, cpu, gcCPU float64 }

func snapshot(b *testing.B, p *testenv.Process) usage {
	b.Helper()
	heap, err := p.GC()
	if err != nil {
		b.Fatal(err)
	}
	m, err := p.Scrape()
	if err != nil {
		b.Fatal(err)
	}
	rss, err := p.Status("VmRSS")
	if err != nil {
		b.Fatal(err)
	}
	return usage{heap: heap, rss: float64(rss), cpu: m["process_cpu_seconds_total"], gcCPU: m["go_cpu_classes_gc_total_cpu_seconds_total"]}
}

const mib = 1 << 20

// peaks are the highest heap in use, live heap (as marked by a collection)
// and heap goal seen.
type peaks struct{ heap, live, goal atomicMax }

// samplePeak records the manager's peaks, scraped every 200 ms (a scrape
// costs the manager a few hundred KiB of garbage), until stop is called.
func samplePeak(p *testenv.Process) (*peaks, func()) {
	var peak peaks
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if m, err := p.Scrape(); err == nil {
				peak.heap.Store(m["go_memstats_heap_alloc_bytes"])
				peak.live.Store(m["go_gc_heap_live_bytes"])
				peak.goal.Store(m["go_gc_heap_goal_bytes"])
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return &peak, func() { close(done); wg.Wait() }
}

type atomicMax struct {
	mu sync.Mutex
	v  float64
}

func (a *atomicMax) Store(v float64) {
	a.mu.Lock()
	a.v = max(a.v, v)
	a.mu.Unlock()
}

func (a *atomicMax) Load() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.v
}

// deleteContacts removes a benchmark's contacts (envtest runs no namespace
// controller, so deleting the namespace would not).
func deleteContacts(b *testing.B, ns string) {
	err := env.Client.DeleteAllOf(context.Background(), &wecomv1alpha1.ExternalContact{}, client.InNamespace(ns))
	if err != nil {
		b.Logf("delete contacts: %v", err)
	}
}
