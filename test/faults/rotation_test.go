package faults

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

// TestWrongKeyDuringRotationHealedByResync: the admin saves new keys in
// WeCom before the Secret has them; the callbacks signed with the new keys
// are rejected and counted; once the Secret is fixed, a resync brings in
// the contacts those callbacks were about.
func TestWrongKeyDuringRotationHealedByResync(t *testing.T) {
	corp := wecomfake.NewCorp(corpID, "s")
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 2, Contacts: 5, Seed: 3})
	fake := wecomfake.NewServer(corp)
	ts := httptest.NewServer(fake)
	defer ts.Close()
	o := testenv.TestOptions()
	o.WeComAPIBaseURL = ts.URL
	m, err := env.StartManager(o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	ns, _ := setupAppOnly(t, func(a *wecomv1alpha1.WeComApp) { a.Spec.ResyncInterval = &metav1.Duration{} })
	ctx := context.Background()
	testenv.Eventually(t, 60*time.Second, func() error {
		app := &wecomv1alpha1.WeComApp{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, app); err != nil {
			return err
		}
		if !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
			return fmt.Errorf("not ready: %+v", app.Status.Conditions)
		}
		return nil
	})
	const newToken, newKey = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	s := &wecomfake.Sender{URL: m.CallbackURL + webhook.PathFor(ns, "acme"), CorpID: corpID, Token: newToken, AESKey: newKey}
	before := testenv.MetricSum("wecom_callback_rejections_total", map[string]string{"reason": "signature"})
	var ids []string
	fake.Do(corpID, func(c *wecomfake.Corp) {
		for id := range c.Contacts {
			ids = append(ids, id)
		}
	})
	for _, id := range ids {
		resp, err := s.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: id})
		if err != nil || resp.Status != 401 {
			t.Fatalf("a callback with keys the Secret does not have yet: %v %+v", err, resp)
		}
	}
	if after := testenv.MetricSum("wecom_callback_rejections_total", map[string]string{"reason": "signature"}); after-before != float64(len(ids)) {
		t.Fatalf("rejections counted %v, want %d", after-before, len(ids))
	}
	// The Secret catches up, and a resync heals what the rejected callbacks carried.
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "creds"}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["token"], sec.Data["encodingAESKey"] = []byte(newToken), []byte(newKey)
	if err := env.Client.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"metadata":{"annotations":{"wecom.dev/resync-requested-at":"heal"}}}`)
	if err := env.Client.Patch(ctx, &wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "acme"}},
		client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		var list wecomv1alpha1.ExternalContactList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		synced := 0
		for _, ec := range list.Items {
			if ec.Status.Profile != nil && apimeta.IsStatusConditionTrue(ec.Status.Conditions, wecomv1alpha1.ConditionReady) {
				synced++
			}
		}
		if synced != len(ids) {
			return fmt.Errorf("%d of %d contacts healed", synced, len(ids))
		}
		return nil
	})
	// And the new keys work for live callbacks now.
	resp, err := s.Send(ctx, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: "member000", ExternalUserID: ids[0]})
	if err != nil || resp.Status != 200 {
		t.Fatalf("after the Secret update: %v %+v", err, resp)
	}
}
