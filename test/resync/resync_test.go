// Package resync proves that a resync makes the ExternalContacts equal to
// what WeCom holds, at a scale of 10,000 contacts over 50 follow users, with
// lost callbacks, a 45009 window mid-walk, and no writes when nothing changed.
package resync

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/manager"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

const (
	corpID   = "ww00000000resync01"
	secret   = "resync-secret"
	token    = wecomfake.SampleToken
	aesKey   = wecomfake.SampleAESKey
	contacts = 10000
	members  = 50
)

var (
	env     *testenv.Env
	mgr     *testenv.Running
	fake    *wecomfake.Server
	fakeURL string
)

func TestMain(m *testing.M) {
	corp := wecomfake.NewCorp(corpID, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: members, Contacts: contacts, MaxFollowsPerContact: 3, Seed: 42})
	fake = wecomfake.NewServer(corp)
	ts := httptest.NewServer(fake)
	defer ts.Close()
	fakeURL = ts.URL
	testenv.RunTests(m, &env, func(*testenv.Env) (func(), error) {
		return func() {
			if mgr != nil {
				_ = mgr.Stop()
			}
		}, nil
	})
}

// startManager starts the in-process manager the tests share, on first use
// (the benchmark runs the manager binary in its own process instead).
func startManager(t testing.TB) {
	t.Helper()
	if mgr != nil {
		return
	}
	var err error
	if mgr, err = env.StartManager(mgrOptions()); err != nil {
		t.Fatal(err)
	}
}

// wantState is what WeCom holds: contact ID -> sorted "user:tagID,tagID".
func wantState() map[string]string { return wantStateOf(corpID) }

func wantStateOf(corp string) map[string]string {
	out := map[string]string{}
	fake.Do(corp, func(c *wecomfake.Corp) {
		for id, ct := range c.Contacts {
			var rel []string
			for _, f := range ct.Follows {
				tags := append([]string{}, f.TagIDs...)
				sort.Strings(tags)
				rel = append(rel, f.UserID+":"+strings.Join(tags, ","))
			}
			sort.Strings(rel)
			if len(rel) > 0 {
				out[id] = strings.Join(rel, ";")
			}
		}
	})
	return out
}

// gotState is what the ExternalContacts say, in the same form; it also
// checks every corp tag carries its name.
// contactsIn lists the namespace's contacts from the API server.
func contactsIn(t testing.TB, ns string) []wecomv1alpha1.ExternalContact {
	t.Helper()
	var list wecomv1alpha1.ExternalContactList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func gotState(t testing.TB, ns string) (map[string]string, map[string]string) {
	t.Helper()
	out, versions := map[string]string{}, map[string]string{}
	for _, ec := range contactsIn(t, ns) {
		var rel []string
		for _, f := range ec.Status.FollowUsers {
			if f.RelationState == wecomv1alpha1.RelationDeletedByUser {
				continue
			}
			var tags []string
			for _, tg := range f.Tags {
				if tg.ID == "" {
					continue
				}
				if tg.Name == "" || tg.GroupName == "" {
					t.Fatalf("%s: tag %s without its name", ec.Name, tg.ID)
				}
				tags = append(tags, tg.ID)
			}
			sort.Strings(tags)
			rel = append(rel, f.UserID+":"+strings.Join(tags, ","))
		}
		sort.Strings(rel)
		out[ec.Spec.ExternalUserID] = strings.Join(rel, ";")
		versions[ec.Name] = ec.ResourceVersion
	}
	return out, versions
}

func diff(want, got map[string]string) string {
	var b strings.Builder
	n := 0
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			if n < 5 {
				fmt.Fprintf(&b, "  %s: want %q got %q\n", id, w, g)
			}
			n++
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			if n < 10 {
				fmt.Fprintf(&b, "  %s: extra %q\n", id, g)
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d differences:\n%s", n, b.String())
}

// resyncDeadline bounds how long resync waits (the 100k benchmark raises it).
var resyncDeadline = 10 * time.Minute

// resync asks for a resync and waits for its result.
func resync(t testing.TB, ns, value string) *wecomv1alpha1.ResyncResult {
	t.Helper()
	ctx := context.Background()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, wecomv1alpha1.AnnotationResyncRequestedAt, value))
	app := &wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme"}}
	if err := env.Client.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sawResyncing := false
	for deadline := time.Now().Add(resyncDeadline); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(app), app); err != nil {
			t.Fatal(err)
		}
		sawResyncing = sawResyncing || apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionResyncing)
		if app.Status.LastHandledResyncRequest == value && app.Status.LastResync != nil && app.Status.LastResync.CompletionTime != nil &&
			!apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionResyncing) {
			r := app.Status.LastResync
			t.Logf("resync %s: %v, seen %d created %d updated %d deleted %d failed %d complete %v %s", value,
				time.Since(start).Round(time.Millisecond), r.Seen, r.Created, r.Updated, r.Deleted, r.Failed, r.Complete, r.Message)
			if !sawResyncing {
				t.Logf("the Resyncing condition was not observed (the resync was faster than the poll)")
			}
			return r
		}
	}
	t.Fatalf("resync %s did not finish: %+v", value, app.Status)
	return nil
}

func TestResyncConvergesAtScale(t *testing.T) {
	ctx := context.Background()
	ns := newApp(t, corpID)
	sender := &wecomfake.Sender{URL: mgr.CallbackURL + webhook.PathFor(ns, "acme"), CorpID: corpID, Token: token, AESKey: aesKey}

	// Some contacts arrive by callback first; one of them is then deleted
	// in WeCom with its callback lost.
	ids := sortedIDs()
	for _, id := range ids[:20] {
		if resp, err := sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: id}); err != nil || resp.Status != 200 {
			t.Fatalf("callback: %v %+v", err, resp)
		}
	}
	fake.Do(corpID, func(c *wecomfake.Corp) { delete(c.Contacts, ids[0]) })

	r := resync(t, ns, "first")
	if !r.Complete || r.Failed != 0 || r.Seen != int64(contacts-1) {
		t.Fatalf("first resync: %+v", r)
	}
	got, _ := gotState(t, ns)
	if d := diff(wantState(), got); d != "" {
		t.Fatalf("after the first resync: %s", d)
	}

	// Lost callbacks: contacts added and removed, tags changed, relations
	// ended, all without callbacks; and a 45009 window during the walk.
	fake.Do(corpID, func(c *wecomfake.Corp) {
		for i, id := range ids[1:21] {
			delete(c.Contacts, id)
			nid := fmt.Sprintf("wmNewLost%04dX", i)
			c.Contacts[nid] = &wecomfake.Contact{ExternalUserID: nid, Name: "新客户", Type: 1,
				Follows: []*wecomfake.Follow{{UserID: "member007", CreateTime: 1700000000, TagIDs: []string{"etLevelA"}}}}
		}
		for _, id := range ids[100:120] {
			for _, f := range c.Contacts[id].Follows {
				f.TagIDs = []string{"etSrcExpo", "etLevelB"}
			}
		}
		ended := 0
		for _, id := range ids[200:400] {
			if ct := c.Contacts[id]; len(ct.Follows) > 1 && ended < 10 {
				ct.Follows = ct.Follows[1:]
				ended++
			}
		}
	})
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/batch/get_by_user", ErrCode: 45009, Times: 1})
	r = resync(t, ns, "second")
	if !r.Complete || r.Failed != 0 || r.Created != 20 || r.Deleted != 20 || r.Updated < 30 {
		t.Fatalf("second resync: %+v", r)
	}
	got, versions := gotState(t, ns)
	if d := diff(wantState(), got); d != "" {
		t.Fatalf("after the second resync: %s", d)
	}

	// Nothing changed: nothing is written.
	r = resync(t, ns, "third")
	if !r.Complete || r.Created != 0 || r.Updated != 0 || r.Deleted != 0 || r.Failed != 0 {
		t.Fatalf("third resync wrote: %+v", r)
	}
	_, after := gotState(t, ns)
	for name, rv := range versions {
		if after[name] != rv {
			t.Fatalf("%s was written by a resync of an unchanged corp", name)
		}
	}
}

// TestIncompleteWalkDeletesNothing: members without an interop license make
// the walk incomplete, and an incomplete walk proves no absence.
func TestIncompleteWalkDeletesNothing(t *testing.T) {
	const small = "ww00000000resync02"
	corp := wecomfake.NewCorp(small, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 5, Contacts: 200, MaxFollowsPerContact: 1, Seed: 7})
	fake.AddCorp(corp)
	ns := newApp(t, small)
	if r := resync(t, ns, "complete"); !r.Complete || r.Created != 200 {
		t.Fatalf("first resync: %+v", r)
	}
	fake.Do(small, func(c *wecomfake.Corp) {
		c.Unlicensed["member003"] = true
		for _, id := range sortedIDsOf(c)[:5] {
			delete(c.Contacts, id)
		}
	})
	r := resync(t, ns, "incomplete")
	if r.Complete || r.Deleted != 0 || !strings.Contains(r.Message, "license") {
		t.Fatalf("incomplete resync: %+v", r)
	}
	if n := len(contactsIn(t, ns)); n != 200 {
		t.Fatalf("an incomplete walk changed the contact count to %d", n)
	}
	// Once the license is back, the walk is complete and the absences count.
	fake.Do(small, func(c *wecomfake.Corp) { delete(c.Unlicensed, "member003") })
	if r := resync(t, ns, "licensed"); !r.Complete || r.Deleted != 5 {
		t.Fatalf("complete resync: %+v", r)
	}
}

// newApp creates a namespace with the credentials and a WeComApp for corp.
func newApp(t testing.TB, corp string) string {
	t.Helper()
	startManager(t)
	ns := newNamespace(t)
	createApp(t, ns, corp)
	waitReady(t, ns)
	return ns
}

func newNamespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "resync-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// createApp creates the app "acme" of corp and its Secret, resync on demand
// only.
func createApp(t testing.TB, ns, corp string) {
	t.Helper()
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
			StringData: map[string]string{"corpSecret": secret, "token": token, "encodingAESKey": aesKey}},
		&wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme"},
			Spec: wecomv1alpha1.WeComAppSpec{CorpID: corp, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"},
				ResyncInterval: &metav1.Duration{}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func sortedIDs() []string {
	var ids []string
	fake.Do(corpID, func(c *wecomfake.Corp) { ids = sortedIDsOf(c) })
	return ids
}

func sortedIDsOf(c *wecomfake.Corp) []string {
	ids := make([]string, 0, len(c.Contacts))
	for id := range c.Contacts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func waitReady(t testing.TB, ns string) {
	t.Helper()
	app := &wecomv1alpha1.WeComApp{}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "acme"}, app); err == nil &&
			apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
			return
		}
	}
	t.Fatalf("app not ready: %+v", app.Status.Conditions)
}

// TestInterruptedResyncRestarts: a leader that dies mid-resync leaves its
// Resyncing condition; the next leader starts the walk over and finishes it,
// with no duplicates.
func TestInterruptedResyncRestarts(t *testing.T) {
	ctx := context.Background()
	const small = "ww00000000resync03"
	corp := wecomfake.NewCorp(small, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 4, Contacts: 100, MaxFollowsPerContact: 2, Seed: 11})
	fake.AddCorp(corp)
	ns := newApp(t, small)
	if err := mgr.Stop(); err != nil {
		t.Fatal(err)
	}
	// What the dead leader left: a started walk, as its field manager wrote it.
	now := metav1.Now()
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "acme", "namespace": ns},
		"status": map[string]any{
			"conditions": []any{map[string]any{"type": "Resyncing", "status": "True", "reason": "Resyncing",
				"message": "resync started", "lastTransitionTime": now.UTC().Format(time.RFC3339), "observedGeneration": int64(1)}},
			"lastResync": map[string]any{"startTime": now.UTC().Format(time.RFC3339), "complete": false, "seen": int64(40),
				"created": int64(40), "updated": int64(0), "deleted": int64(0), "failed": int64(0)},
		},
	}}
	u.SetGroupVersionKind(wecomv1alpha1.GroupVersion.WithKind("WeComApp"))
	if err := env.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("wecom-resync"), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	var err error
	if mgr, err = env.StartManager(mgrOptions()); err != nil {
		t.Fatal(err)
	}
	app := &wecomv1alpha1.WeComApp{}
	testenv.Eventually(t, 2*time.Minute, func() error {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, app); err != nil {
			return err
		}
		r := app.Status.LastResync
		if r == nil || r.CompletionTime == nil || !r.Complete || apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionResyncing) {
			return fmt.Errorf("not restarted and finished: %+v", app.Status)
		}
		return nil
	})
	if r := app.Status.LastResync; r.Created != 100 || r.Seen != 100 {
		t.Fatalf("restarted walk: %+v", r)
	}
	if n := len(contactsIn(t, ns)); n != 100 {
		t.Fatalf("%d contacts after the restarted walk, want 100", n)
	}
}

// TestCallbacksDuringResync: events that arrive while a resync walks are not
// overwritten by the walk's older page data.
func TestCallbacksDuringResync(t *testing.T) {
	ctx := context.Background()
	const mid = "ww00000000resync04"
	corp := wecomfake.NewCorp(mid, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 10, Contacts: 3000, MaxFollowsPerContact: 2, Seed: 12})
	fake.AddCorp(corp)
	ns := newApp(t, mid)
	sender := &wecomfake.Sender{URL: mgr.CallbackURL + webhook.PathFor(ns, "acme"), CorpID: mid, Token: token, AESKey: aesKey}
	var ids []string
	fake.Do(mid, func(c *wecomfake.Corp) { ids = sortedIDsOf(c) })
	done := make(chan *wecomv1alpha1.ResyncResult, 1)
	go func() { done <- resync(t, ns, "interleaved") }()
	testenv.Eventually(t, time.Minute, func() error {
		app := &wecomv1alpha1.WeComApp{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, app); err != nil {
			return err
		}
		if !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionResyncing) {
			return fmt.Errorf("resync not running yet")
		}
		return nil
	})
	// While it walks: members re-tag customers and WeCom calls back.
	changed := ids[len(ids)-40:]
	for i, id := range changed {
		var member string
		fake.Do(mid, func(c *wecomfake.Corp) {
			f := c.Contacts[id].Follows[0]
			f.TagIDs, member = []string{"etSrcWeb", "etLevelA"}, f.UserID
		})
		resp, err := sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: member, ExternalUserID: id,
			CreateTime: time.Now().Add(time.Duration(i) * time.Millisecond)})
		if err != nil || resp.Status != 200 {
			t.Fatalf("callback during the resync: %v %+v", err, resp)
		}
	}
	if r := <-done; !r.Complete {
		t.Fatalf("resync: %+v", r)
	}
	testenv.Eventually(t, time.Minute, func() error {
		got, _ := gotState(t, ns)
		want := map[string]string{}
		for id, v := range wantStateOf(mid) {
			want[id] = v
		}
		if d := diff(want, got); d != "" {
			return fmt.Errorf("%s", d)
		}
		return nil
	})
}

func mgrOptions() manager.Options {
	o := testenv.TestOptions()
	o.WeComAPIBaseURL = fakeURL
	o.WeComRatePerSecond = 1000
	o.WeCom = func(w *wecom.Options) {
		w.MinuteBlock, w.HourBlock, w.BackoffBase = time.Second, 2*time.Second, 5*time.Millisecond
	}
	return o
}
