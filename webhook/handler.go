package webhook

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wecomevent"
	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

// outcome is how one request ended; it drives the answer, metrics and logs.
type outcome struct {
	status int
	body   []byte
	app    string // namespace/name, set once the app is known
	event  string // event kind for metrics
	result string
	reason string // rejection reason
	err    error  // internal error (logged)
}

func reject(status int, reason string) outcome {
	return outcome{status: status, result: resultRejected, reason: reason, body: []byte(reasonText[reason] + "\n")}
}

var reasonText = map[string]string{
	"unknown_path":            "not a callback path",
	"unknown_app":             "no WeComApp at this path",
	"method":                  "method not allowed",
	"not_ready":               "not ready",
	"missing_params":          "missing msg_signature, timestamp, nonce or echostr",
	"bad_timestamp":           "timestamp is not a unix time",
	"stale_timestamp":         "timestamp outside the replay window",
	"signature":               "signature verification failed",
	"body_too_large":          "body too large",
	"bad_body":                "body could not be read",
	"malformed":               "malformed message",
	"decrypt":                 "decryption failed",
	"receive_id":              "receive ID does not match the corp ID",
	"credentials_unavailable": "credentials unavailable",
}

// ServeHTTP handles one WeCom callback.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	start := time.Now()
	o := s.handle(r)
	if o.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(o.status)
	_, _ = w.Write(o.body)
	s.record(r, o, time.Since(start))
}

func (s *Server) record(r *http.Request, o outcome, d time.Duration) {
	callbacksTotal.WithLabelValues(o.app, o.event, o.result).Inc()
	handleSeconds.WithLabelValues(r.Method, o.result).Observe(d.Seconds())
	if o.reason != "" {
		rejectionsTotal.WithLabelValues(o.reason).Inc()
	}
	switch {
	case o.err != nil:
		// Errors say what failed, never keys, tokens or message content.
		s.log.Error(o.err, "callback not handled", "app", o.app, "status", o.status, "reason", o.reason)
	case o.reason != "":
		s.log.V(1).Info("callback rejected", "app", o.app, "status", o.status, "reason", o.reason, "remote", r.RemoteAddr)
	default:
		s.log.V(1).Info("callback handled", "app", o.app, "event", o.event, "result", o.result, "duration", d)
	}
}

func (s *Server) handle(r *http.Request) outcome {
	ns, name, ok := parsePath(r.URL.Path)
	if !ok {
		return reject(http.StatusNotFound, "unknown_path")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "method")
	}
	if !s.ready.Load() {
		return reject(http.StatusServiceUnavailable, "not_ready")
	}
	// The app is only read: no deep copy of the cached object per callback.
	app := &wecomv1alpha1.WeComApp{}
	if err := s.apps.Get(r.Context(), types.NamespacedName{Namespace: ns, Name: name}, app, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return reject(http.StatusNotFound, "unknown_app")
		}
		o := reject(http.StatusServiceUnavailable, "not_ready")
		o.err = err
		return o
	}
	o := s.handleApp(r, app)
	o.app = ns + "/" + name
	return o
}

// params are the signed query parameters.
type params struct{ sig, ts, nonce string }

func (s *Server) handleApp(r *http.Request, app *wecomv1alpha1.WeComApp) outcome {
	q := r.URL.Query() // decodes exactly once (the fact sheet's '+' pitfall)
	p := params{sig: q.Get("msg_signature"), ts: q.Get("timestamp"), nonce: q.Get("nonce")}
	if p.sig == "" || p.ts == "" || p.nonce == "" {
		return reject(http.StatusBadRequest, "missing_params")
	}
	ts, err := strconv.ParseInt(p.ts, 10, 64)
	if err != nil {
		return reject(http.StatusBadRequest, "bad_timestamp")
	}
	if r.Method == http.MethodPost {
		return s.handleEvent(r, app, p, ts)
	}
	echostr := q.Get("echostr")
	if echostr == "" {
		return reject(http.StatusBadRequest, "missing_params")
	}
	return s.handleVerify(r.Context(), app, p, ts, echostr)
}

func (s *Server) fresh(ts int64) bool {
	if s.cfg.ReplayWindow <= 0 {
		return true
	}
	d := s.cfg.Now().Sub(time.Unix(ts, 0))
	return d <= s.cfg.ReplayWindow && d >= -s.cfg.ReplayWindow
}

func (s *Server) keySet(ctx context.Context, app *wecomv1alpha1.WeComApp) (*KeySet, *outcome) {
	ks, err := s.keys.get(ctx, app)
	if err != nil {
		o := reject(http.StatusServiceUnavailable, "credentials_unavailable")
		if credentials.ReasonOf(err) == "" {
			o.err = err
		}
		return nil, &o
	}
	return ks, nil
}

// handleVerify answers WeCom's URL check with the decrypted echostr, verbatim.
func (s *Server) handleVerify(ctx context.Context, app *wecomv1alpha1.WeComApp, p params, ts int64, echostr string) outcome {
	ks, bad := s.keySet(ctx, app)
	if bad != nil {
		return *bad
	}
	msg, err := open(ks, app.Spec.CorpID, p, echostr)
	if err != nil && strings.Contains(echostr, " ") {
		// A proxy that form-decoded a raw '+' into a space: undo it once.
		msg, err = open(ks, app.Spec.CorpID, p, strings.ReplaceAll(echostr, " ", "+"))
	}
	if err != nil {
		return cryptoReject(err)
	}
	if !s.fresh(ts) {
		return reject(http.StatusUnauthorized, "stale_timestamp")
	}
	return outcome{status: http.StatusOK, body: msg, event: "url_verification", result: resultVerified}
}

// open verifies the signature with any accepted token, then decrypts with
// any accepted key and checks the receive ID.
func open(ks *KeySet, corpID string, p params, encrypt string) ([]byte, error) {
	signed := false
	for _, tok := range ks.Tokens {
		if wxcrypt.VerifySignature(tok, p.ts, p.nonce, encrypt, p.sig) == nil {
			signed = true
			break
		}
	}
	if !signed {
		return nil, wxcrypt.ErrValidateSignature
	}
	var firstErr error
	for _, key := range ks.Keys {
		msg, rid, err := wxcrypt.Decrypt(key, encrypt)
		if err == nil && rid != corpID {
			err = wxcrypt.ErrValidateReceiveID
		}
		if err == nil {
			return msg, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = wxcrypt.ErrIllegalAESKey
	}
	return nil, firstErr
}

func cryptoReject(err error) outcome {
	switch {
	case errors.Is(err, wxcrypt.ErrValidateSignature):
		return reject(http.StatusUnauthorized, "signature")
	case errors.Is(err, wxcrypt.ErrValidateReceiveID):
		return reject(http.StatusForbidden, "receive_id")
	case errors.Is(err, wxcrypt.ErrParseXML):
		return reject(http.StatusBadRequest, "malformed")
	default:
		return reject(http.StatusBadRequest, "decrypt")
	}
}

// handleEvent verifies, decrypts, parses and stores one event POST.
func (s *Server) handleEvent(r *http.Request, app *wecomv1alpha1.WeComApp, p params, ts int64) outcome {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return reject(http.StatusRequestEntityTooLarge, "body_too_large")
		}
		return reject(http.StatusBadRequest, "bad_body")
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return cryptoReject(err)
	}
	ks, bad := s.keySet(r.Context(), app)
	if bad != nil {
		return *bad
	}
	plain, err := open(ks, app.Spec.CorpID, p, env.Encrypt)
	if err != nil {
		return cryptoReject(err)
	}
	if !s.fresh(ts) {
		return reject(http.StatusUnauthorized, "stale_timestamp")
	}
	ev, err := wecomevent.Parse(plain)
	if err == nil {
		err = ev.Validate()
	}
	if err != nil {
		return reject(http.StatusBadRequest, "malformed")
	}
	o := outcome{status: http.StatusOK, event: ev.Kind()}
	if !ev.IsContactChange() {
		o.result = resultIgnored
		return o
	}
	digest := sha256.Sum256(plain)
	seenKey := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}.String() + string(digest[:])
	if _, dup := s.seen.Get(seenKey); dup {
		o.result = resultDuplicate
		return o
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
	defer cancel()
	o.result, o.err = storeEvent(ctx, s.writer, app, ev)
	if o.err != nil {
		// Never acknowledge what was not stored: WeCom will deliver it again.
		o.status = http.StatusServiceUnavailable
		o.body = []byte("event not stored, retry\n")
		return o
	}
	s.seen.Add(seenKey, struct{}{}, s.cfg.DedupeTTL)
	s.touchApp(app)
	return o
}

func parseEnvelope(body []byte) (wxcrypt.Envelope, error) {
	trimmed := strings.TrimSpace(string(body[:min(len(body), 16)]))
	if strings.HasPrefix(trimmed, "{") {
		return wxcrypt.ParseJSONEnvelope(body)
	}
	return wxcrypt.ParseEnvelope(body)
}

// touchApp records status.lastEventTime on the WeComApp, at most once per
// LastEventInterval per app and off the request path: it is informational
// and must never delay or fail an acknowledgement.
func (s *Server) touchApp(app *wecomv1alpha1.WeComApp) {
	id := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	now := s.cfg.Now()
	s.touchMu.Lock()
	if last, ok := s.touched[id]; ok && now.Sub(last) < s.cfg.LastEventInterval {
		s.touchMu.Unlock()
		return
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		patch := []byte(`{"status":{"lastEventTime":"` + now.UTC().Format(time.RFC3339) + `"}}`)
		target := &wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: id.Namespace, Name: id.Name}}
		if err := s.writer.Status().Patch(ctx, target, client.RawPatch(types.MergePatchType, patch)); err != nil && !apierrors.IsNotFound(err) {
			s.log.V(1).Info("could not record lastEventTime", "app", id.String(), "error", err.Error())
		}
	}()
}
