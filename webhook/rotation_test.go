package webhook_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

func send(t *testing.T, s *wecomfake.Sender) *wecomfake.Response {
	t.Helper()
	resp, err := s.Send(context.Background(), wecomfake.ContactEvent{
		ChangeType: "add_external_contact", UserID: "u", ExternalUserID: wecomfake.RandomID("wo")})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func withKeys(s *wecomfake.Sender, token, key string) *wecomfake.Sender {
	c := *s
	c.Token, c.AESKey = token, key
	return &c
}

// TestRotation: a changed Secret takes effect within seconds, without a
// restart; the replaced token and key stay accepted for the grace period,
// so events signed while the admin console is being updated are not lost.
func TestRotation(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	oldKeys, newKeys := withKeys(f.sender, token1, key1), withKeys(f.sender, token2, key2)
	if r := send(t, oldKeys); r.Status != 200 {
		t.Fatalf("before rotation: %+v", r)
	}
	if r := send(t, newKeys); r.Status != 401 {
		t.Fatalf("new keys accepted before the rotation: %+v", r)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "creds"}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["token"], sec.Data["encodingAESKey"] = []byte(token2), []byte(key2)
	if err := env.Client.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testenv.Eventually(t, 30*time.Second, func() error {
		if r := send(t, newKeys); r.Status != 200 {
			return errStatus(r)
		}
		return nil
	})
	t.Logf("new keys accepted %v after the Secret update", time.Since(start).Round(time.Millisecond))
	if r := send(t, oldKeys); r.Status != 200 {
		t.Fatalf("old keys rejected during the grace period: %+v", r)
	}
	// Mixed: WeCom may already sign with the new token but encrypt with the old key.
	if r := send(t, withKeys(f.sender, token2, key1)); r.Status != 200 {
		t.Fatalf("new token with old key: %+v", r)
	}
	// Past the grace period the old keys are refused.
	clockOffset.Store(int64(2 * time.Hour))
	defer clockOffset.Store(0)
	if r := send(t, oldKeys); r.Status != 401 {
		t.Fatalf("old keys accepted after the grace period: %+v", r)
	}
	if r := send(t, newKeys); r.Status != 200 {
		t.Fatalf("new keys after the grace period: %+v", r)
	}
}

// TestPreviousKeysInSecret: previousToken / previousEncodingAESKey in the
// Secret are accepted with no in-memory history (e.g. right after a restart).
func TestPreviousKeysInSecret(t *testing.T) {
	f := newApp(t, corpID, map[string]string{"corpSecret": "s", "token": token2, "encodingAESKey": key2,
		"previousToken": token1, "previousEncodingAESKey": key1})
	for _, s := range []*wecomfake.Sender{withKeys(f.sender, token2, key2), withKeys(f.sender, token1, key1)} {
		if r := send(t, s); r.Status != 200 {
			t.Fatalf("token %s…: %+v", s.Token[:4], r)
		}
	}
	if r := send(t, withKeys(f.sender, "someoneelse", key2)); r.Status != 401 {
		t.Fatalf("unknown token accepted: %+v", r)
	}
}
