package controllers_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

const (
	token  = wecomfake.SampleToken
	aesKey = wecomfake.SampleAESKey
)

var (
	env  *testenv.Env
	mgr  *testenv.Running
	fake *wecomfake.Server
	logs testenv.Buffer
	// corpSeq gives every test its own corp in the fake.
	corpMu  sync.Mutex
	corpSeq int
)

func TestMain(m *testing.M) {
	testenv.LogWriter = &logs
	fake = wecomfake.NewServer()
	ts := httptest.NewServer(fake)
	defer ts.Close()
	testenv.RunTests(m, &env, func(e *testenv.Env) (func(), error) {
		o := testenv.TestOptions()
		o.WeComAPIBaseURL = ts.URL
		o.EventCoalesceWindow = time.Second
		o.WeCom = func(w *wecom.Options) {
			w.BackoffBase = 10 * time.Millisecond
			w.MinuteBlock = 2 * time.Second
			w.HourBlock = 4 * time.Second
		}
		var err error
		if mgr, err = e.StartManager(o); err != nil {
			return nil, err
		}
		return func() { _ = mgr.Stop() }, nil
	})
}

// fixture is one app in its own namespace, backed by its own fake corp.
type fixture struct {
	ns, app, corpID, secret string
	sender                  *wecomfake.Sender
}

func newCorp(t *testing.T, contacts int) (string, string) {
	t.Helper()
	corpMu.Lock()
	corpSeq++
	id := fmt.Sprintf("ww%016d", corpSeq)
	corpMu.Unlock()
	secret := "secret-" + id
	corp := wecomfake.NewCorp(id, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 3, Contacts: contacts, MaxFollowsPerContact: 2, Seed: uint64(corpSeq)})
	fake.AddCorp(corp)
	return id, secret
}

type appOpt func(*wecomv1alpha1.WeComApp)

func newFixture(t *testing.T, contacts int, opts ...appOpt) *fixture {
	t.Helper()
	ctx := context.Background()
	corpID, secret := newCorp(t, contacts)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rc-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	f := &fixture{ns: ns.Name, app: "acme", corpID: corpID, secret: secret}
	f.createSecret(t, secret)
	app := &wecomv1alpha1.WeComApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: f.app},
		Spec: wecomv1alpha1.WeComAppSpec{CorpID: corpID, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"},
			ResyncInterval: &metav1.Duration{}}, // no automatic resync: tests drive it
	}
	for _, o := range opts {
		o(app)
	}
	if err := env.Client.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	f.sender = &wecomfake.Sender{URL: mgr.CallbackURL + webhook.PathFor(ns.Name, f.app), CorpID: corpID, Token: token, AESKey: aesKey}
	return f
}

func (f *fixture) createSecret(t *testing.T, corpSecret string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "creds"},
		StringData: map[string]string{"corpSecret": corpSecret, "token": token, "encodingAESKey": aesKey}}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) waitAppReady(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, time.Minute, func() error {
		app := f.getApp(t)
		if !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
			return fmt.Errorf("app not ready: %+v", app.Status.Conditions)
		}
		return nil
	})
}

func (f *fixture) getApp(t *testing.T) *wecomv1alpha1.WeComApp {
	t.Helper()
	app := &wecomv1alpha1.WeComApp{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: f.app}, app); err != nil {
		t.Fatal(err)
	}
	return app
}

// send posts an event and requires it acknowledged.
func (f *fixture) send(t *testing.T, ev wecomfake.ContactEvent) {
	t.Helper()
	if ev.CreateTime.IsZero() {
		ev.CreateTime = time.Now()
	}
	resp, err := f.sender.Send(context.Background(), ev)
	if err != nil || resp.Status != 200 {
		t.Fatalf("send %s: %v %+v", ev.ChangeType, err, resp)
	}
}

func (f *fixture) contact(id string) (*wecomv1alpha1.ExternalContact, error) {
	ec := &wecomv1alpha1.ExternalContact{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: contactname.For(f.app, id)}, ec)
	return ec, err
}

// someContact returns a seeded contact ID of the fixture's corp and its
// follow users.
func (f *fixture) someContact(t *testing.T, minFollows int) (string, []string) {
	t.Helper()
	var id string
	var users []string
	fake.Do(f.corpID, func(c *wecomfake.Corp) {
		for k, ct := range c.Contacts {
			if len(ct.Follows) >= minFollows && (id == "" || k < id) {
				id, users = k, nil
				for _, fu := range ct.Follows {
					users = append(users, fu.UserID)
				}
			}
		}
	})
	if id == "" {
		t.Fatalf("no seeded contact with %d follow users", minFollows)
	}
	return id, users
}

func readyReason(ec *wecomv1alpha1.ExternalContact) string {
	c := apimeta.FindStatusCondition(ec.Status.Conditions, wecomv1alpha1.ConditionReady)
	if c == nil {
		return ""
	}
	return string(c.Status) + "/" + c.Reason
}
