package wecom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Options configure a Client.
type Options struct {
	// BaseURL, e.g. https://qyapi.weixin.qq.com.
	BaseURL string
	// HTTP is the transport (default: a client with sane timeouts).
	HTTP *http.Client
	// RatePerSecond and Burst limit calls per corp on the client side. The
	// default, 100/s, is 6,000 a minute: under WeCom's 10,000 per corp per
	// minute per API, and 150,000 an hour is reached only after 25 minutes
	// of sustained full speed (WeCom's 45009 then blocks and the client
	// waits).
	RatePerSecond float64
	Burst         int
	// CallTimeout bounds each HTTP attempt.
	CallTimeout time.Duration
	// Retries is how many times a transient failure is retried.
	Retries int
	// BackoffBase is the first retry delay; it doubles, with jitter.
	BackoffBase time.Duration
	// MinuteBlock and HourBlock are how long a 45009 stops a corp: the first
	// in a row a minute, a repeat within the hour an hour.
	MinuteBlock, HourBlock time.Duration
	// TokenMargin: a token is refreshed this long before it expires.
	TokenMargin time.Duration
	// Now is the clock.
	Now func() time.Time
	// Observe, if set, is called after each HTTP call with its endpoint and
	// errcode (-2 for a transport error) for metrics.
	Observe func(endpoint string, errcode int, d time.Duration)
}

// DefaultOptions returns the production defaults for baseURL.
func DefaultOptions(baseURL string) Options {
	return Options{
		BaseURL:       baseURL,
		RatePerSecond: 100,
		Burst:         20,
		CallTimeout:   10 * time.Second,
		Retries:       3,
		BackoffBase:   200 * time.Millisecond,
		MinuteBlock:   time.Minute,
		HourBlock:     time.Hour,
		TokenMargin:   5 * time.Minute,
		Now:           time.Now,
	}
}

// Creds identify an app: a corp ID and the app's secret.
type Creds struct {
	CorpID string
	Secret string
}

func (c Creds) key() string {
	sum := sha256.Sum256([]byte(c.CorpID + "\x00" + c.Secret))
	return hex.EncodeToString(sum[:])
}

// Client calls WeCom's API. It is safe for concurrent use.
type Client struct {
	o    Options
	http *http.Client
	sf   singleflight.Group

	mu       sync.Mutex
	tokens   map[string]token // by Creds.key()
	limiters map[string]*rate.Limiter
	blocks   map[string]block // by corp ID
}

type token struct {
	value   string
	expires time.Time
}

type block struct {
	until    time.Time
	lastHour time.Time // when the last 45009 happened, for escalation
}

// New returns a Client.
func New(o Options) *Client {
	d := DefaultOptions(o.BaseURL)
	o.RatePerSecond = positive(o.RatePerSecond, d.RatePerSecond)
	o.Burst = positive(o.Burst, d.Burst)
	o.CallTimeout = positive(o.CallTimeout, d.CallTimeout)
	o.BackoffBase = positive(o.BackoffBase, d.BackoffBase)
	o.MinuteBlock = positive(o.MinuteBlock, d.MinuteBlock)
	o.HourBlock = positive(o.HourBlock, d.HourBlock)
	o.TokenMargin = positive(o.TokenMargin, d.TokenMargin)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: o.CallTimeout,
		}}
	}
	return &Client{o: o, http: hc, tokens: map[string]token{}, limiters: map[string]*rate.Limiter{}, blocks: map[string]block{}}
}

// envelope is the common part of every response.
type envelope struct {
	ErrCode Int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Token returns a valid access token for creds, fetching it if needed.
func (c *Client) Token(ctx context.Context, creds Creds) (string, error) {
	k := creds.key()
	c.mu.Lock()
	t, ok := c.tokens[k]
	c.mu.Unlock()
	if ok && c.o.Now().Before(t.expires) {
		return t.value, nil
	}
	v, err, _ := c.sf.Do(k, func() (any, error) { return c.fetchToken(ctx, creds) })
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (c *Client) fetchToken(ctx context.Context, creds Creds) (string, error) {
	var resp struct {
		envelope
		AccessToken string `json:"access_token"`
		ExpiresIn   Int    `json:"expires_in"`
	}
	q := url.Values{"corpid": {creds.CorpID}, "corpsecret": {creds.Secret}}
	if err := c.do(ctx, creds.CorpID, http.MethodGet, "gettoken", q, nil, &resp); err != nil {
		return "", fmt.Errorf("get access token: %w", err)
	}
	if resp.AccessToken == "" {
		return "", fmt.Errorf("get access token: empty token")
	}
	ttl := time.Duration(resp.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = 7200 * time.Second
	}
	if ttl > 2*c.o.TokenMargin {
		ttl -= c.o.TokenMargin
	} else {
		ttl /= 2
	}
	c.mu.Lock()
	c.tokens[creds.key()] = token{value: resp.AccessToken, expires: c.o.Now().Add(ttl)}
	c.mu.Unlock()
	return resp.AccessToken, nil
}

// dropToken forgets creds' token if it is still the one that failed.
func (c *Client) dropToken(creds Creds, used string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[creds.key()]; ok && t.value == used {
		delete(c.tokens, creds.key())
	}
}

// call performs an authenticated API call: token, retry once on an invalid
// token, decode into out (which must embed envelope via errorOf).
func (c *Client) call(ctx context.Context, creds Creds, method, endpoint string, q url.Values, body, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx, creds)
		if err != nil {
			return err
		}
		qq := url.Values{"access_token": {tok}}
		for k, v := range q {
			qq[k] = v
		}
		err = c.do(ctx, creds.CorpID, method, endpoint, qq, body, out)
		if attempt == 0 && tokenInvalid(ErrCode(err)) {
			c.dropToken(creds, tok)
			continue
		}
		return err
	}
}

// do runs one request with the limiter, block and retry policy.
func (c *Client) do(ctx context.Context, corpID, method, endpoint string, q url.Values, body, out any) error {
	var lastErr error
	for attempt := 0; attempt <= c.o.Retries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.backoff(attempt)); err != nil {
				return errors.Join(lastErr, err)
			}
		}
		if err := c.admit(ctx, corpID); err != nil {
			return err
		}
		err := c.once(ctx, method, endpoint, q, body, out)
		code := ErrCode(err)
		switch {
		case err == nil:
			return nil
		case code == CodeRateLimited:
			return c.blocked(corpID, err)
		case retryable(code) || isTransport(err):
			lastErr = err
			continue
		default:
			return err
		}
	}
	return lastErr
}

// admit waits for the corp's limiter, or fails fast while WeCom blocks it.
func (c *Client) admit(ctx context.Context, corpID string) error {
	c.mu.Lock()
	b := c.blocks[corpID]
	lim, ok := c.limiters[corpID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(c.o.RatePerSecond), c.o.Burst)
		c.limiters[corpID] = lim
	}
	c.mu.Unlock()
	if wait := b.until.Sub(c.o.Now()); wait > 0 {
		return &RateLimitedError{CorpID: corpID, RetryAfter: wait}
	}
	if err := lim.Wait(ctx); err != nil {
		return &RateLimitedError{CorpID: corpID, RetryAfter: time.Second, Cause: err}
	}
	return nil
}

// blocked records a 45009: the corp is blocked for a minute, or an hour when
// it happens again within the hour after a minute block.
func (c *Client) blocked(corpID string, cause error) error {
	now := c.o.Now()
	c.mu.Lock()
	b := c.blocks[corpID]
	d := c.o.MinuteBlock
	if !b.lastHour.IsZero() && now.Sub(b.lastHour) < c.o.HourBlock && now.Sub(b.until) < c.o.MinuteBlock {
		d = c.o.HourBlock
	}
	if until := now.Add(d); until.After(b.until) {
		b.until = until
	}
	b.lastHour = now
	c.blocks[corpID] = b
	c.mu.Unlock()
	return &RateLimitedError{CorpID: corpID, RetryAfter: d, Cause: cause}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.BackoffBase << (attempt - 1)
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError marks failures below WeCom's errcode level.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func isTransport(err error) bool {
	var t *transportError
	return errors.As(err, &t)
}

func (c *Client) once(ctx context.Context, method, endpoint string, q url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.CallTimeout)
	defer cancel()
	start := time.Now()
	code, err := c.roundTrip(ctx, method, endpoint, q, body, out)
	if c.o.Observe != nil {
		c.o.Observe(endpoint, code, time.Since(start))
	}
	return err
}

func (c *Client) roundTrip(ctx context.Context, method, endpoint string, q url.Values, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return -2, fmt.Errorf("encode %s request: %w", endpoint, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.o.BaseURL+"/cgi-bin/"+endpoint+"?"+q.Encode(), rd)
	if err != nil {
		return -2, fmt.Errorf("build %s request: %w", endpoint, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Drop the URL from the error: it carries the token or the secret.
		return -2, &transportError{fmt.Errorf("wecom %s: %w", endpoint, redact(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return -2, &transportError{fmt.Errorf("wecom %s: read response: %w", endpoint, err)}
	}
	if resp.StatusCode >= 500 {
		return -2, &transportError{fmt.Errorf("wecom %s: HTTP %d", endpoint, resp.StatusCode)}
	}
	if resp.StatusCode != http.StatusOK {
		return -2, fmt.Errorf("wecom %s: HTTP %d", endpoint, resp.StatusCode)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return -2, fmt.Errorf("wecom %s: decode response: %w", endpoint, err)
	}
	if env.ErrCode != 0 {
		return int(env.ErrCode), &Error{Endpoint: endpoint, ErrCode: int(env.ErrCode), ErrMsg: env.ErrMsg}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return 0, fmt.Errorf("wecom %s: decode response: %w", endpoint, err)
	}
	return 0, nil
}

// redact removes the request URL from a transport error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// positive returns v, or d when v is not positive (unset or invalid).
func positive[T ~int | ~int64 | ~float64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}
