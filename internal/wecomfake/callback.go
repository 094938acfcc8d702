package wecomfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

// ContactEvent is a change_external_contact event to send.
type ContactEvent struct {
	CorpID         string
	ChangeType     string
	UserID         string
	ExternalUserID string
	State          string
	WelcomeCode    string
	Source         string
	FailReason     string
	CreateTime     time.Time
}

// XML renders the event as WeCom's decrypted XML.
func (e ContactEvent) XML() []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	cdata(&b, "ToUserName", e.CorpID)
	cdata(&b, "FromUserName", "sys")
	fmt.Fprintf(&b, "<CreateTime>%d</CreateTime>", e.CreateTime.Unix())
	cdata(&b, "MsgType", "event")
	cdata(&b, "Event", "change_external_contact")
	cdata(&b, "ChangeType", e.ChangeType)
	if e.FailReason != "" {
		cdata(&b, "FailReason", e.FailReason)
	}
	cdata(&b, "UserID", e.UserID)
	cdata(&b, "ExternalUserID", e.ExternalUserID)
	for _, f := range [][2]string{{"State", e.State}, {"WelcomeCode", e.WelcomeCode}, {"Source", e.Source}} {
		if f[1] != "" {
			cdata(&b, f[0], f[1])
		}
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

func cdata(b *bytes.Buffer, name, v string) {
	b.WriteString("<" + name + "><![CDATA[" + v + "]]></" + name + ">")
}

// Sender posts callbacks to one app's URL, as WeCom would.
type Sender struct {
	URL    string // the full callback URL, e.g. http://host:9292/wecom/ns/app
	CorpID string
	Token  string
	AESKey string // the 43-character EncodingAESKey
	Client *http.Client
	// Now is the clock used for timestamps (default time.Now).
	Now func() time.Time
}

func (s *Sender) crypt() (*wxcrypt.MsgCrypt, error) {
	return wxcrypt.New(s.Token, s.AESKey, s.CorpID)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// Nonce returns a random nonce like WeCom's.
func Nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(uint64(b[0])<<24|uint64(b[1])<<16|uint64(b[2])<<8|uint64(b[3]), 10)
}

// Request is a signed callback, ready to send (or to tamper with in tests).
type Request struct {
	Method string
	Query  url.Values
	Body   []byte
}

// EventRequest seals plaintext into a POST request.
func (s *Sender) EventRequest(plaintext []byte) (*Request, error) {
	c, err := s.crypt()
	if err != nil {
		return nil, err
	}
	sealed, err := c.Seal(plaintext, s.now(), Nonce())
	if err != nil {
		return nil, err
	}
	q := url.Values{"msg_signature": {sealed.Signature}, "timestamp": {sealed.Timestamp}, "nonce": {sealed.Nonce}}
	return &Request{Method: http.MethodPost, Query: q, Body: sealed.EnvelopeXML(s.CorpID, "1000002")}, nil
}

// VerifyRequest builds the GET URL verification WeCom sends when an admin
// saves the callback settings; echo is the plaintext WeCom expects back.
func (s *Sender) VerifyRequest(echo string) (*Request, error) {
	c, err := s.crypt()
	if err != nil {
		return nil, err
	}
	sealed, err := c.Seal([]byte(echo), s.now(), Nonce())
	if err != nil {
		return nil, err
	}
	q := url.Values{"msg_signature": {sealed.Signature}, "timestamp": {sealed.Timestamp},
		"nonce": {sealed.Nonce}, "echostr": {sealed.Encrypt}}
	return &Request{Method: http.MethodGet, Query: q}, nil
}

// Response is what the receiver answered.
type Response struct {
	Status int
	Body   string
}

// Do sends a request.
func (s *Sender) Do(ctx context.Context, r *Request) (*Response, error) {
	u := s.URL + "?" + r.Query.Encode()
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Body: string(body)}, nil
}

// Send encrypts and posts one event and returns the answer.
func (s *Sender) Send(ctx context.Context, ev ContactEvent) (*Response, error) {
	if ev.CorpID == "" {
		ev.CorpID = s.CorpID
	}
	if ev.CreateTime.IsZero() {
		ev.CreateTime = s.now()
	}
	r, err := s.EventRequest(ev.XML())
	if err != nil {
		return nil, err
	}
	return s.Do(ctx, r)
}

// SendWithRetry posts like WeCom: a non-200 answer or a network error is
// retried (WeCom retries three times; tests may allow more), with the same
// signed request each time. It returns the last answer.
func (s *Sender) SendWithRetry(ctx context.Context, r *Request, attempts int, wait time.Duration) (*Response, error) {
	var last *Response
	var err error
	for i := 0; i < attempts; i++ {
		last, err = s.Do(ctx, r)
		if err == nil && last.Status == http.StatusOK {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(wait):
		}
	}
	if err != nil {
		return last, err
	}
	return last, fmt.Errorf("not acknowledged after %d attempts: %d %s", attempts, last.Status, strings.TrimSpace(last.Body))
}

// RandomID returns an external-user-ID-like string (mixed case).
func RandomID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	out := []byte(prefix + h)
	for i := len(prefix); i < len(out); i += 3 {
		if out[i] >= 'a' && out[i] <= 'f' {
			out[i] -= 'a' - 'A'
		}
	}
	return string(out)
}

// The callback credentials the tests and the demo use: WeCom's published
// sample Token and EncodingAESKey (set B of the fact sheet), not secrets.
const (
	SampleToken  = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
	SampleAESKey = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
)
