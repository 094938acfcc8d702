package webhook_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

func getContact(t *testing.T, f *fixture, id string) (*wecomv1alpha1.ExternalContact, error) {
	t.Helper()
	ec := &wecomv1alpha1.ExternalContact{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: contactname.For(f.app, id)}, ec)
	return ec, err
}

func countContacts(t *testing.T, ns string) int {
	t.Helper()
	var l wecomv1alpha1.ExternalContactList
	if err := env.Client.List(context.Background(), &l, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// TestURLVerification: the reply is the decrypted echostr, byte for byte,
// also when echostr holds '+', '/' and '=' (decoded exactly once).
func TestURLVerification(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	sawSpecial := false
	for i := 0; i < 40; i++ {
		echo := (wecomfake.Nonce() + "1616140317555161061")[:19] // as long as WeCom's
		r, err := f.sender.VerifyRequest(echo)
		if err != nil {
			t.Fatal(err)
		}
		e := r.Query.Get("echostr")
		sawSpecial = sawSpecial || (strings.ContainsAny(e, "+/") && strings.Contains(e, "="))
		resp, err := f.sender.Do(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || resp.Body != echo {
			t.Fatalf("answer %d %q, want 200 %q", resp.Status, resp.Body, echo)
		}
	}
	if !sawSpecial {
		t.Fatal("no echostr with '+' or '/' and '=' was exercised")
	}
}

// TestPublishedVectorGET answers WeCom's own A-GET request as sent on the wire.
func TestPublishedVectorGET(t *testing.T) {
	f := newApp(t, "wx5823bf96d3bd56c7", map[string]string{"corpSecret": "s", "token": "QDG6eK", "encodingAESKey": key2})
	clockOffset.Store(int64(time.Unix(1409659589, 0).Sub(time.Now())))
	defer clockOffset.Store(0)
	u := f.sender.URL + "?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D"
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || body.String() != "1616140317555161061" {
		t.Fatalf("A-GET answered %d %q", resp.StatusCode, body.String())
	}
}

// TestEveryChangeType stores every change type, known and unknown, on its
// contact, with the event's fields.
func TestEveryChangeType(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	events := []wecomfake.ContactEvent{
		{ChangeType: "add_external_contact", UserID: "zhangsan", State: "teststate", WelcomeCode: "WELCOMECODE"},
		{ChangeType: "edit_external_contact", UserID: "zhangsan", State: "teststate"},
		{ChangeType: "add_half_external_contact", UserID: "lisi", State: "s2", WelcomeCode: "W2"},
		{ChangeType: "del_external_contact", UserID: "zhangsan", Source: "DELETE_BY_TRANSFER"},
		{ChangeType: "del_follow_user", UserID: "wangwu"},
		{ChangeType: "transfer_fail", UserID: "zhaoliu", FailReason: "customer_limit_exceed"},
		{ChangeType: "member_range_changed", UserID: "x"}, // a future change type
	}
	for i := range events {
		ev := events[i]
		ev.ExternalUserID = wecomfake.RandomID("wo")
		ev.CreateTime = time.Unix(time.Now().Unix()-int64(i), 0)
		resp, err := f.sender.Send(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || resp.Body != "" {
			t.Fatalf("%s: answered %d %q, want 200 and an empty body", ev.ChangeType, resp.Status, resp.Body)
		}
		// Acknowledged means stored: no waiting.
		ec, err := getContact(t, f, ev.ExternalUserID)
		if err != nil {
			t.Fatalf("%s: acknowledged but not stored: %v", ev.ChangeType, err)
		}
		le := ec.Spec.LastEvent
		if ec.Spec.ExternalUserID != ev.ExternalUserID || ec.Spec.AppRef.Name != f.app || le == nil ||
			le.ChangeType != ev.ChangeType || le.UserID != ev.UserID || !le.Time.Time.Equal(ev.CreateTime) ||
			le.State != ev.State || le.WelcomeCode != ev.WelcomeCode || le.Source != ev.Source || le.FailReason != ev.FailReason {
			t.Fatalf("%s: stored %+v %+v", ev.ChangeType, ec.Spec, le)
		}
		if ec.Labels[wecomv1alpha1.LabelApp] != f.app || ec.Labels[wecomv1alpha1.LabelExternalUserID] != ev.ExternalUserID {
			t.Fatalf("labels %v", ec.Labels)
		}
		if len(ec.OwnerReferences) != 0 || len(ec.Finalizers) != 0 {
			t.Fatalf("contacts must not be owned by their app or carry finalizers: %+v", ec.ObjectMeta)
		}
	}
	if n := countContacts(t, f.ns); n != len(events) {
		t.Fatalf("%d contacts, want %d", n, len(events))
	}
}

// TestDuplicatesAndOrder: the same delivery twice is one effective event; an
// older event never replaces a newer one; a newer one does.
func TestDuplicatesAndOrder(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	id := wecomfake.RandomID("wm")
	t0 := time.Unix(time.Now().Unix(), 0)
	add := wecomfake.ContactEvent{CorpID: corpID, ChangeType: "add_external_contact", UserID: "u1", ExternalUserID: id, CreateTime: t0}
	req, err := f.sender.EventRequest(add.XML())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if resp, err := f.sender.Do(ctx, req); err != nil || resp.Status != 200 {
			t.Fatalf("delivery %d: %v %+v", i, err, resp)
		}
	}
	// The same event re-encrypted (WeCom's retry has a new nonce) is also harmless.
	if resp, err := f.sender.Send(ctx, add); err != nil || resp.Status != 200 {
		t.Fatalf("re-encrypted duplicate: %v %+v", err, resp)
	}
	ec, err := getContact(t, f, id)
	if err != nil {
		t.Fatal(err)
	}
	if ec.Generation != 1 {
		t.Fatalf("generation %d after duplicates, want 1", ec.Generation)
	}
	older := add
	older.ChangeType, older.CreateTime = "edit_external_contact", t0.Add(-time.Minute)
	if resp, err := f.sender.Send(ctx, older); err != nil || resp.Status != 200 {
		t.Fatalf("older event must be acknowledged: %v %+v", err, resp)
	}
	if ec, _ = getContact(t, f, id); ec.Spec.LastEvent.ChangeType != "add_external_contact" {
		t.Fatalf("older event overwrote the newer one: %+v", ec.Spec.LastEvent)
	}
	newer := add
	newer.ChangeType, newer.CreateTime = "del_external_contact", t0.Add(time.Second)
	if resp, err := f.sender.Send(ctx, newer); err != nil || resp.Status != 200 {
		t.Fatalf("newer: %v %+v", err, resp)
	}
	if ec, _ = getContact(t, f, id); ec.Spec.LastEvent.ChangeType != "del_external_contact" || ec.Generation != 2 {
		t.Fatalf("newer event not recorded: gen %d %+v", ec.Generation, ec.Spec.LastEvent)
	}
	if n := countContacts(t, f.ns); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
}

// TestOtherEventsAcknowledged: events that are not about one contact are
// acknowledged (never 500) and change nothing.
func TestOtherEventsAcknowledged(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	before := testenv.MetricSum("wecom_callback_requests_total", map[string]string{"event": "change_external_tag", "result": "ignored"})
	for _, x := range []string{
		`<xml><ToUserName><![CDATA[` + corpID + `]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[create]]></ChangeType><StrategyId>1</StrategyId></xml>`,
		`<xml><ToUserName><![CDATA[` + corpID + `]]></ToUserName><CreateTime>1403610513</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>c</ChatId><ChangeType>dismiss</ChangeType></xml>`,
		`<xml><MsgType>event</MsgType><Event>brand_new_event</Event></xml>`,
		`<xml><MsgType>text</MsgType><Content>hi</Content></xml>`,
	} {
		r, err := f.sender.EventRequest([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := f.sender.Do(ctx, r); err != nil || resp.Status != 200 {
			t.Fatalf("%s: %v %+v", x, err, resp)
		}
	}
	if n := countContacts(t, f.ns); n != 0 {
		t.Fatalf("%d contacts created by non-contact events", n)
	}
	after := testenv.MetricSum("wecom_callback_requests_total", map[string]string{"event": "change_external_tag", "result": "ignored"})
	if after != before+1 {
		t.Fatalf("ignored tag events counted %v -> %v", before, after)
	}
}

// TestBadInput: each malformed or forged request gets its status, is counted
// with its reason, and changes nothing.
func TestBadInput(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	good := func() *wecomfake.Request {
		r, err := f.sender.EventRequest(wecomfake.ContactEvent{CorpID: corpID, ChangeType: "add_external_contact",
			UserID: "u", ExternalUserID: wecomfake.RandomID("wo"), CreateTime: time.Now()}.XML())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	key, _ := wxcrypt.ParseEncodingAESKey(key1)
	// signed builds a correctly signed request around an arbitrary Encrypt.
	signed := func(encrypt string) *wecomfake.Request {
		r := good()
		ts := r.Query.Get("timestamp")
		r.Query.Set("msg_signature", wxcrypt.Signature(token1, ts, r.Query.Get("nonce"), encrypt))
		r.Body = wxcrypt.Sealed{Encrypt: encrypt}.EnvelopeXML(corpID, "")
		return r
	}
	otherCorp, _ := wxcrypt.New(token1, key1, "ww0000000000000000")
	wrongCorp := func() *wecomfake.Request {
		s, _ := otherCorp.Seal(wecomfake.ContactEvent{ChangeType: "add_external_contact", ExternalUserID: "woX", CreateTime: time.Now()}.XML(), time.Now(), "1")
		return &wecomfake.Request{Method: "POST", Query: url.Values{"msg_signature": {s.Signature}, "timestamp": {s.Timestamp}, "nonce": {s.Nonce}}, Body: s.EnvelopeXML(corpID, "")}
	}
	badPadding := func() *wecomfake.Request {
		enc, _ := wxcrypt.EncryptWithRandom(key, []byte("0123456789abcdef"), []byte("x"), corpID)
		raw := []byte(enc)
		// Flip a character of the last block: its padding no longer checks out.
		raw[len(raw)-5] ^= 0x01
		return signed(string(raw))
	}
	tests := []struct {
		name   string
		req    func() *wecomfake.Request
		path   string
		status int
		reason string
	}{
		{"missing signature", func() *wecomfake.Request { r := good(); r.Query.Del("msg_signature"); return r }, "", 400, "missing_params"},
		{"missing nonce", func() *wecomfake.Request { r := good(); r.Query.Del("nonce"); return r }, "", 400, "missing_params"},
		{"timestamp not a number", func() *wecomfake.Request { r := good(); r.Query.Set("timestamp", "abc"); return r }, "", 400, "bad_timestamp"},
		{"wrong signature", func() *wecomfake.Request {
			r := good()
			r.Query.Set("msg_signature", strings.Repeat("a", 40))
			return r
		}, "", 401, "signature"},
		{"signed with another token", func() *wecomfake.Request {
			r := good()
			r.Query.Set("msg_signature", wxcrypt.Signature("other", r.Query.Get("timestamp"), r.Query.Get("nonce"), "x"))
			return r
		}, "", 401, "signature"},
		{"stale timestamp", func() *wecomfake.Request {
			old := *f.sender
			old.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
			r, _ := old.EventRequest(wecomfake.ContactEvent{ChangeType: "add_external_contact", ExternalUserID: "woOld", CreateTime: time.Now()}.XML())
			return r
		}, "", 401, "stale_timestamp"},
		{"future timestamp", func() *wecomfake.Request {
			fut := *f.sender
			fut.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
			r, _ := fut.EventRequest(wecomfake.ContactEvent{ChangeType: "add_external_contact", ExternalUserID: "woFut", CreateTime: time.Now()}.XML())
			return r
		}, "", 401, "stale_timestamp"},
		{"bad base64", func() *wecomfake.Request { return signed("!!!not-base64!!!") }, "", 400, "decrypt"},
		{"ciphertext not a block multiple", func() *wecomfake.Request { return signed("AAAAAAAAAAAAAAAAAAAAAA==") }, "", 400, "decrypt"},
		{"bad padding", badPadding, "", 400, "decrypt"},
		{"wrong receive ID", wrongCorp, "", 403, "receive_id"},
		{"body not XML", func() *wecomfake.Request { r := good(); r.Body = []byte("hello"); return r }, "", 400, "malformed"},
		{"envelope without Encrypt", func() *wecomfake.Request {
			r := good()
			r.Body = []byte("<xml><ToUserName>x</ToUserName></xml>")
			return r
		}, "", 400, "malformed"},
		{"decrypted message not XML", func() *wecomfake.Request { r, _ := f.sender.EventRequest([]byte("not xml at all")); return r }, "", 400, "malformed"},
		{"contact event without ExternalUserID", func() *wecomfake.Request {
			r, _ := f.sender.EventRequest([]byte(`<xml><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><CreateTime>1700000000</CreateTime></xml>`))
			return r
		}, "", 400, "malformed"},
		{"body over 1 MiB", func() *wecomfake.Request { r := good(); r.Body = bytes.Repeat([]byte("a"), 1<<20+1); return r }, "", 413, "body_too_large"},
		{"unknown path", good, "/other/path", 404, "unknown_path"},
		{"unknown app", good, "/wecom/" + f.ns + "/nope", 404, "unknown_app"},
		{"wrong method", func() *wecomfake.Request { r := good(); r.Method = "PUT"; return r }, "", 405, "method"},
	}
	base, _ := url.Parse(f.sender.URL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *f.sender
			if tt.path != "" {
				s.URL = base.Scheme + "://" + base.Host + tt.path
			}
			before := testenv.MetricSum("wecom_callback_rejections_total", map[string]string{"reason": tt.reason})
			resp, err := s.Do(ctx, tt.req())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.Status, strings.TrimSpace(resp.Body), tt.status)
			}
			if after := testenv.MetricSum("wecom_callback_rejections_total", map[string]string{"reason": tt.reason}); after != before+1 {
				t.Fatalf("rejections{reason=%s} went %v -> %v", tt.reason, before, after)
			}
		})
	}
	if n := countContacts(t, f.ns); n != 0 {
		t.Fatalf("bad input created %d contacts", n)
	}
	// The good request itself is accepted: the table's failures are real.
	if resp, err := f.sender.Do(ctx, good()); err != nil || resp.Status != 200 {
		t.Fatalf("good request: %v %+v", err, resp)
	}
}

// TestCredentialsProblems: an app whose Secret is missing answers 503 so that
// WeCom retries once the Secret exists; nothing is stored meanwhile.
func TestCredentialsProblems(t *testing.T) {
	f := newApp(t, corpID, nil)
	ctx := context.Background()
	if err := env.Client.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(f.ns)); err != nil {
		t.Fatal(err)
	}
	// Until the deletion reaches the watch the old keys are still valid;
	// wait for the first refusal.
	testenv.Eventually(t, 30*time.Second, func() error {
		resp, err := f.sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", ExternalUserID: wecomfake.RandomID("wo"), UserID: "u"})
		if err != nil {
			return err
		}
		if resp.Status != http.StatusServiceUnavailable {
			return errStatus(resp)
		}
		return nil
	})
	for i := 0; i < 5; i++ {
		id := wecomfake.RandomID("wo")
		resp, err := f.sender.Send(ctx, wecomfake.ContactEvent{ChangeType: "add_external_contact", ExternalUserID: id, UserID: "u"})
		if err != nil || resp.Status != http.StatusServiceUnavailable {
			t.Fatalf("without credentials: %v %+v", err, resp)
		}
		if _, err := getContact(t, f, id); err == nil {
			t.Fatalf("event for %s stored without credentials", id)
		}
	}
}
