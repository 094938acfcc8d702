package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

const (
	fzCorp  = "ww1436e0e65a779aee"
	fzToken = wecomfake.SampleToken
	fzKey   = wecomfake.SampleAESKey
)

// newUnitServer builds a Server over the fake client (a small unit test of
// the handler; the integration tests use the real API server).
func newUnitServer(t testing.TB) *Server {
	t.Helper()
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = wecomv1alpha1.AddToScheme(s)
	objs := []client.Object{
		&wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "app"},
			Spec: wecomv1alpha1.WeComAppSpec{CorpID: fzCorp, SecretRef: wecomv1alpha1.SecretReference{Name: "creds"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "creds", ResourceVersion: "1"},
			Data: map[string][]byte{"corpSecret": []byte("s"), "token": []byte(fzToken), "encodingAESKey": []byte(fzKey)}},
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	cfg := DefaultConfig()
	cfg.defaults()
	srv := &Server{cfg: cfg, apps: c, writer: c, log: logr.Discard(),
		keys: newKeyStore(credentials.NewCache(c, c), time.Minute, time.Now),
		seen: utilcache.NewLRUExpireCache(100), touched: map[types.NamespacedName]time.Time{}}
	srv.ready.Store(true)
	return srv
}

// FuzzHandler: any method, path, query and body gets an answer from the
// expected set, never a panic; only a correctly signed, decryptable event is
// ever acknowledged with 200 for a POST.
func FuzzHandler(f *testing.F) {
	c, _ := wxcrypt.New(fzToken, fzKey, fzCorp)
	sealed, _ := c.Seal([]byte(`<xml><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><ExternalUserID>woA</ExternalUserID><CreateTime>1700000000</CreateTime></xml>`), time.Now(), "1")
	q := url.Values{"msg_signature": {sealed.Signature}, "timestamp": {sealed.Timestamp}, "nonce": {sealed.Nonce}}
	f.Add("POST", "/wecom/ns/app", q.Encode(), sealed.EnvelopeXML(fzCorp, "1"))
	f.Add("GET", "/wecom/ns/app", q.Encode()+"&echostr="+url.QueryEscape(sealed.Encrypt), []byte(nil))
	f.Add("POST", "/wecom/ns/app", "msg_signature=x&timestamp=1&nonce=1", []byte("<xml><Encrypt>AAAA</Encrypt></xml>"))
	f.Add("DELETE", "/wecom//", "", []byte("{"))
	srv := newUnitServer(f)
	allowed := map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 405: true, 413: true, 503: true}
	f.Fuzz(func(t *testing.T, method, path, rawQuery string, body []byte) {
		if len(method) == 0 || len(method) > 10 || !validToken(method) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method = method
		req.URL = &url.URL{Path: path, RawQuery: rawQuery}
		req.Body = httpBody(body)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d for %s %q", rec.Code, method, path)
		}
		if rec.Code == 200 && method == "POST" {
			qq := req.URL.Query()
			env, err := parseEnvelope(body)
			if err != nil || wxcrypt.VerifySignature(fzToken, qq.Get("timestamp"), qq.Get("nonce"), env.Encrypt, qq.Get("msg_signature")) != nil {
				t.Fatalf("acknowledged an unsigned POST")
			}
		}
	})
}

func validToken(s string) bool {
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func httpBody(b []byte) readCloser { return readCloser{bytes.NewReader(b)} }
