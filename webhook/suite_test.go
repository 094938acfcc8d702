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
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

var (
	env *testenv.Env
	mgr *testenv.Running
	// clockOffset shifts the receiver's clock (for the published vectors,
	// whose timestamps are from 2014).
	clockOffset atomic.Int64
)

func now() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

func TestMain(m *testing.M) {
	testenv.RunTests(m, &env, func(e *testenv.Env) (func(), error) {
		o := testenv.TestOptions()
		o.Callback.Now = now
		o.Callback.RotationGrace = time.Hour
		var err error
		if mgr, err = e.StartManager(o); err != nil {
			return nil, err
		}
		return func() { _ = mgr.Stop() }, nil
	})
}

// Keys: WeCom's published set B, and a second set for rotations.
const (
	corpID = "ww1436e0e65a779aee"
	token1 = wecomfake.SampleToken
	key1   = wecomfake.SampleAESKey
	token2 = "QDG6eK"
	key2   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

type fixture struct {
	ns, app string
	sender  *wecomfake.Sender
}

// newApp creates a namespace, a credentials Secret and a WeComApp.
func newApp(t testing.TB, corp string, data map[string]string) *fixture {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cb-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if data == nil {
		data = map[string]string{"corpSecret": "s", "token": token1, "encodingAESKey": key1}
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "creds"}, StringData: data}
	if err := env.Client.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	app := &wecomv1alpha1.WeComApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "acme"},
		Spec:       wecomv1alpha1.WeComAppSpec{CorpID: corp, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"}},
	}
	if err := env.Client.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	f := &fixture{ns: ns.Name, app: app.Name, sender: &wecomfake.Sender{
		URL: mgr.CallbackURL + webhook.PathFor(ns.Name, app.Name), CorpID: corp,
		Token: data["token"], AESKey: data["encodingAESKey"], Now: now,
	}}
	// The receiver reads apps from its cache: wait until it routes this one.
	testenv.Eventually(t, 30*time.Second, func() error {
		r, err := f.sender.VerifyRequest("ping")
		if err != nil {
			return err
		}
		resp, err := f.sender.Do(ctx, r)
		if err != nil {
			return err
		}
		if resp.Status != 200 {
			return fmt.Errorf("status %d %s", resp.Status, resp.Body)
		}
		return nil
	})
	return f
}
