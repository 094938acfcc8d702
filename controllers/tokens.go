package controllers

import (
	"context"
	"errors"
	"sync"

	"github.com/wecom-operator/wecom-operator/internal/wecom"
)

// WeComTokens proves corp secrets with the WeCom client. A rejected secret
// is remembered, so the same wrong secret is never sent again (WeCom blocks
// an IP that keeps sending wrong secrets); a changed secret is tried anew.
type WeComTokens struct {
	Client *wecom.Client

	mu       sync.Mutex
	rejected map[string]*TokenError // by corp ID + secret
}

// VerifyToken implements TokenVerifier.
func (t *WeComTokens) VerifyToken(ctx context.Context, corpID, secret string) error {
	key := corpID + "\x00" + secret
	t.mu.Lock()
	if te := t.rejected[key]; te != nil {
		t.mu.Unlock()
		return te
	}
	t.mu.Unlock()
	_, err := t.Client.Token(ctx, wecom.Creds{CorpID: corpID, Secret: secret})
	if err == nil || !wecom.IsConfig(err) {
		return err
	}
	var we *wecom.Error
	te := &TokenError{ErrCode: wecom.ErrCode(err)}
	if errors.As(err, &we) {
		te.Message = we.ErrMsg
	}
	t.mu.Lock()
	if t.rejected == nil {
		t.rejected = map[string]*TokenError{}
	}
	t.rejected[key] = te
	t.mu.Unlock()
	return te
}
