package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

// TestOnlyTheLeaderCachesContacts: a replica that is not the leader serves
// callbacks (it watches WeComApps) but holds no ExternalContact informer;
// once it becomes the leader it does. The API server's count of open
// watches per resource tells.
func TestOnlyTheLeaderCachesContacts(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "replicas-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "wecom-operator.wecom.dev", Namespace: ns.Name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("another-replica"), LeaseDurationSeconds: ptr.To(int32(3600)),
			AcquireTime: &metav1.MicroTime{Time: time.Now()}, RenewTime: &metav1.MicroTime{Time: time.Now()}},
	}
	if err := env.Client.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	before := openWatches(t)
	p := env.StartProcess(t, testenv.BuildManager(t), "--leader-elect", "--leader-election-namespace", ns.Name,
		"--wecom-api-base-url", "http://127.0.0.1:1")
	defer func() { _ = p.Stop() }()
	testenv.Eventually(t, time.Minute, func() error {
		if got := openWatches(t); got["wecomapps"] <= before["wecomapps"] {
			return fmt.Errorf("the replica does not watch WeComApps yet: %v", got)
		}
		return nil
	})
	if got := openWatches(t); got["externalcontacts"] != before["externalcontacts"] {
		t.Fatalf("a replica that is not the leader watches ExternalContacts: %d open watches, %d before it started",
			got["externalcontacts"], before["externalcontacts"])
	}

	// The other replica is gone: this one leads and caches contacts.
	if err := env.Client.Delete(ctx, lease); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		if got := openWatches(t); got["externalcontacts"] <= before["externalcontacts"] {
			return fmt.Errorf("the leader does not watch ExternalContacts: %v", got)
		}
		return nil
	})
}

// openWatches reads the API server's open WATCH requests per resource.
func openWatches(t *testing.T) map[string]int {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1024*1024), 4*1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "apiserver_longrunning_requests{") || !strings.Contains(l, `verb="WATCH"`) {
			continue
		}
		_, rest, _ := strings.Cut(l, `resource="`)
		resource, _, _ := strings.Cut(rest, `"`)
		f := strings.Fields(l)
		n, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			out[resource] += int(n)
		}
	}
	return out
}
