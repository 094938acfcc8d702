package wecom

import (
	"errors"
	"fmt"
	"time"
)

// WeCom errcodes the client acts on.
const (
	CodeSystemBusy         = -1
	CodeInvalidSecret      = 40001
	CodeInvalidCorpID      = 40013
	CodeInvalidToken       = 40014
	CodeTokenExpired       = 42001
	CodeInvalidUserID      = 40003
	CodeInvalidExternalID  = 40096
	CodeNotExternalContact = 84061
	CodeRateLimited        = 45009
	CodeConcurrencyLimit   = 45033
	CodeAPINotPermitted    = 48002
	CodeIPNotAllowed       = 60020
	CodeUserNotFound       = 60111
)

// Error is a non-zero errcode from WeCom.
type Error struct {
	Endpoint string
	ErrCode  int
	ErrMsg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.Endpoint, e.ErrCode, e.ErrMsg)
}

// ErrCode returns the WeCom errcode in err, or 0.
func ErrCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrCode
	}
	return 0
}

// IsGone says the external contact (or the relation) no longer exists.
func IsGone(err error) bool { return ErrCode(err) == CodeNotExternalContact }

// IsNotFound says WeCom does not know the ID asked for (wrong subject, not
// visible to the app, or a member who left).
func IsNotFound(err error) bool {
	switch ErrCode(err) {
	case CodeInvalidExternalID, CodeInvalidUserID, CodeUserNotFound:
		return true
	}
	return false
}

// IsConfig says the credentials or the app's permissions are wrong: retrying
// does not help until someone changes the configuration.
func IsConfig(err error) bool {
	switch ErrCode(err) {
	case CodeInvalidSecret, CodeInvalidCorpID, CodeAPINotPermitted, CodeIPNotAllowed, 301002:
		return true
	}
	return false
}

// RateLimitedError is returned while a corp is blocked by WeCom (45009) or by
// the client's own limiter; RetryAfter says when to try again.
type RateLimitedError struct {
	CorpID     string
	RetryAfter time.Duration
	Cause      error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("wecom: corp %s rate limited, retry in %v", e.CorpID, e.RetryAfter.Round(time.Second))
}

func (e *RateLimitedError) Unwrap() error { return e.Cause }

// AsRateLimited unwraps a *RateLimitedError.
func AsRateLimited(err error) (*RateLimitedError, bool) {
	var rl *RateLimitedError
	ok := errors.As(err, &rl)
	return rl, ok
}

func retryable(code int) bool {
	return code == CodeSystemBusy || code == CodeConcurrencyLimit
}

func tokenInvalid(code int) bool {
	return code == CodeInvalidSecret || code == CodeInvalidToken || code == CodeTokenExpired
}
