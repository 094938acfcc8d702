package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

func (f *fixture) waitAppReason(t *testing.T, status metav1.ConditionStatus, reason string) *wecomv1alpha1.WeComApp {
	t.Helper()
	var app *wecomv1alpha1.WeComApp
	testenv.Eventually(t, time.Minute, func() error {
		app = f.getApp(t)
		c := apimeta.FindStatusCondition(app.Status.Conditions, wecomv1alpha1.ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || app.Status.ObservedGeneration != app.Generation {
			return fmt.Errorf("Ready = %+v, want %s/%s", c, status, reason)
		}
		return nil
	})
	return app
}

func (f *fixture) updateSecret(t *testing.T, mutate func(map[string][]byte)) {
	t.Helper()
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "creds"}, &s); err != nil {
		t.Fatal(err)
	}
	mutate(s.Data)
	if err := env.Client.Update(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
}

func TestAppReadyWithStatus(t *testing.T) {
	f := newFixture(t, 3)
	app := f.waitAppReason(t, metav1.ConditionTrue, "Ready")
	if app.Status.WebhookPath != webhook.PathFor(f.ns, f.app) {
		t.Fatalf("webhookPath %q", app.Status.WebhookPath)
	}
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	testenv.Eventually(t, time.Minute, func() error {
		app := f.getApp(t)
		if app.Status.Contacts != 1 || app.Status.LastEventTime == nil {
			return fmt.Errorf("contacts %d lastEventTime %v", app.Status.Contacts, app.Status.LastEventTime)
		}
		return nil
	})
}

// TestSecretProblemsAndFixes walks an app through every credentials state.
func TestSecretProblemsAndFixes(t *testing.T) {
	ctx := context.Background()
	corpID, secret := newCorp(t, 1)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "sec-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	f := &fixture{ns: ns.Name, app: "acme", corpID: corpID, secret: secret}
	app := &wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "acme"},
		Spec: wecomv1alpha1.WeComAppSpec{CorpID: corpID, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"},
			ResyncInterval: &metav1.Duration{}}}
	if err := env.Client.Create(ctx, app); err != nil {
		t.Fatal(err)
	}
	f.waitAppReason(t, metav1.ConditionFalse, "SecretNotFound")
	// Fixing the Secret turns the app Ready within seconds (Secret watch).
	f.createSecret(t, secret)
	start := time.Now()
	f.waitAppReason(t, metav1.ConditionTrue, "Ready")
	t.Logf("Ready %v after the Secret was created", time.Since(start).Round(time.Millisecond))

	f.updateSecret(t, func(d map[string][]byte) { delete(d, "token") })
	f.waitAppReason(t, metav1.ConditionFalse, "SecretKeyMissing")
	f.updateSecret(t, func(d map[string][]byte) { d["token"] = []byte(token); d["encodingAESKey"] = []byte("tooshort") })
	f.waitAppReason(t, metav1.ConditionFalse, "InvalidEncodingAESKey")
	f.updateSecret(t, func(d map[string][]byte) { d["encodingAESKey"] = []byte(aesKey); d["corpSecret"] = []byte("wrong") })
	app = f.waitAppReason(t, metav1.ConditionFalse, "TokenRejected")
	c := apimeta.FindStatusCondition(app.Status.Conditions, wecomv1alpha1.ConditionReady)
	if !strings.Contains(c.Message, "40001") || strings.Contains(c.Message, "wrong") {
		t.Fatalf("message %q: want the errcode and never the secret", c.Message)
	}
	if !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionStalled) {
		t.Fatalf("a configuration error is Stalled: %+v", app.Status.Conditions)
	}
	// Rotation: WeCom and the Secret get a new corp secret.
	fake.Do(corpID, func(c *wecomfake.Corp) { c.Secret = "rotated-" + secret })
	f.updateSecret(t, func(d map[string][]byte) { d["corpSecret"] = []byte("rotated-" + secret) })
	f.waitAppReason(t, metav1.ConditionTrue, "Ready")
}

// TestWrongSecretNotRetried: a rejected secret is not sent to WeCom again
// and again (WeCom blocks IPs that do that).
func TestWrongSecretNotRetried(t *testing.T) {
	f := newFixture(t, 1)
	f.waitAppReady(t)
	f.updateSecret(t, func(d map[string][]byte) { d["corpSecret"] = []byte("wrong-again") })
	f.waitAppReason(t, metav1.ConditionFalse, "TokenRejected")
	before := fake.Calls("gettoken")
	// Make the app reconcile several more times (annotation changes).
	for i := 0; i < 3; i++ {
		patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"test/poke":"%d"}}}`, i))
		if err := env.Client.Patch(context.Background(), f.getApp(t), client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
	}
	f.waitAppReason(t, metav1.ConditionFalse, "TokenRejected")
	if after := fake.Calls("gettoken"); after != before {
		t.Fatalf("the rejected secret was sent %d more times", after-before)
	}
}

func TestAppDeletionKeepsContacts(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	if err := env.Client.Delete(context.Background(), f.getApp(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, func() error {
		ec, err := f.contact(id)
		if err != nil {
			return fmt.Errorf("contact must survive its app: %w", err)
		}
		c := apimeta.FindStatusCondition(ec.Status.Conditions, wecomv1alpha1.ConditionReady)
		if c == nil || c.Reason != "AppNotReady" || !strings.Contains(c.Message, "not found") {
			return fmt.Errorf("condition %+v", c)
		}
		if ec.Status.Profile == nil {
			return fmt.Errorf("profile lost")
		}
		return nil
	})
}

func TestTokenExpiryMidRun(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	before := fake.Calls("gettoken")
	fake.ExpireTokens()
	f.send(t, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(time.Second)})
	f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		if ec.Status.LastEvent.ChangeType != "edit_external_contact" {
			return fmt.Errorf("edit not synced")
		}
		return nil
	})
	if fake.Calls("gettoken") <= before {
		t.Fatal("the expired token was not replaced")
	}
}

// TestRateLimitStorm: during a 45009 window contacts say RateLimited and
// back off; when it ends every update arrives.
func TestRateLimitStorm(t *testing.T) {
	f := newFixture(t, 12)
	f.waitAppReady(t)
	var ids []string
	fake.Do(f.corpID, func(c *wecomfake.Corp) {
		for id := range c.Contacts {
			ids = append(ids, id)
		}
	})
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get", ErrCode: 45009, Until: time.Now().Add(3 * time.Second)})
	defer fake.ClearFaults()
	for _, id := range ids {
		f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: id})
	}
	sawLimited := false
	testenv.Eventually(t, time.Minute, func() error {
		synced := 0
		for _, id := range ids {
			ec, err := f.contact(id)
			if err != nil {
				return err
			}
			switch readyReason(ec) {
			case "False/RateLimited":
				sawLimited = true
			case "True/Synced":
				if ec.Status.ObservedGeneration == ec.Generation {
					synced++
				}
			}
		}
		if synced != len(ids) {
			return fmt.Errorf("%d of %d synced", synced, len(ids))
		}
		return nil
	})
	if !sawLimited {
		t.Log("no contact was seen in RateLimited (the window may have passed between polls)")
	}
	if n := fake.Calls("externalcontact/get"); n > 10*len(ids) {
		t.Fatalf("%d calls for %d contacts: no backoff", n, len(ids))
	}
}

// TestTransientFaultsConverge: WeCom answers -1, 5xx and slowly for a
// while; the contacts converge once the faults end.
func TestTransientFaultsConverge(t *testing.T) {
	f := newFixture(t, 9)
	f.waitAppReady(t)
	var ids []string
	fake.Do(f.corpID, func(c *wecomfake.Corp) {
		for id := range c.Contacts {
			ids = append(ids, id)
		}
	})
	until := time.Now().Add(2 * time.Second)
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get", ErrCode: -1, Times: 6})
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get", HTTPStatus: 502, Times: 6})
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get", Delay: 300 * time.Millisecond, Until: until})
	defer fake.ClearFaults()
	for _, id := range ids {
		f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: id})
	}
	for _, id := range ids {
		f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
			if ec.Status.Profile == nil || ec.Status.Profile.Name == "" {
				return fmt.Errorf("no profile")
			}
			return nil
		})
	}
}
