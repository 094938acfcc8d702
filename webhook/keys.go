package webhook

import (
	"bytes"
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

// KeySet is what a callback may be signed and encrypted with: the current
// token and key first, then those still accepted during a rotation.
type KeySet struct {
	Tokens []string
	Keys   []wxcrypt.Key
}

// keyStore resolves a WeComApp's KeySet on every replica, from the Secret
// (see credentials.Cache: metadata watch plus a live read on change). Keys
// that a change replaced stay accepted for the grace period, so events
// signed while the WeCom admin console is being updated are not lost.
type keyStore struct {
	creds *credentials.Cache
	grace time.Duration
	now   func() time.Time

	mu      sync.Mutex
	entries map[types.NamespacedName]*keyEntry
}

type keyEntry struct {
	creds  *credentials.Credentials
	graced []gracedKey
	// ks is the KeySet handed out until ksUntil, when a graced key expires:
	// a callback does not rebuild it.
	ks      *KeySet
	ksUntil time.Time
}

type gracedKey struct {
	token string
	key   wxcrypt.Key
	until time.Time
}

// maxGraced bounds the replaced keys remembered per app.
const maxGraced = 4

func newKeyStore(creds *credentials.Cache, grace time.Duration, now func() time.Time) *keyStore {
	return &keyStore{creds: creds, grace: grace, now: now, entries: map[types.NamespacedName]*keyEntry{}}
}

// get returns the KeySet of app.
func (s *keyStore) get(ctx context.Context, app *wecomv1alpha1.WeComApp) (*KeySet, error) {
	creds, err := s.creds.Get(ctx, app)
	if err != nil {
		return nil, err
	}
	id := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[id]
	switch {
	case e == nil:
		e = &keyEntry{creds: creds}
		s.entries[id] = e
	case e.creds != creds:
		old := e.creds
		e.creds = creds
		e.graced = e.live(now)
		if s.grace > 0 && (old.Token != creds.Token || !bytes.Equal(old.Key, creds.Key)) {
			e.graced = append(e.graced, gracedKey{token: old.Token, key: old.Key, until: now.Add(s.grace)})
		}
		if len(e.graced) > maxGraced {
			e.graced = e.graced[len(e.graced)-maxGraced:]
		}
		e.ks = nil
	}
	if e.ks == nil || !now.Before(e.ksUntil) {
		e.ks, e.ksUntil = e.keySet(now)
	}
	return e.ks, nil
}

// live returns the graced keys that have not expired.
func (e *keyEntry) live(now time.Time) []gracedKey {
	var out []gracedKey
	for _, g := range e.graced {
		if now.Before(g.until) {
			out = append(out, g)
		}
	}
	return out
}

// keySet builds the KeySet valid now, and says until when it is valid.
func (e *keyEntry) keySet(now time.Time) (*KeySet, time.Time) {
	ks := &KeySet{}
	until := now.Add(time.Hour)
	ks.addToken(e.creds.Token)
	ks.addKey(e.creds.Key)
	ks.addToken(e.creds.PreviousToken)
	ks.addKey(e.creds.PreviousKey)
	for _, g := range e.live(now) {
		ks.addToken(g.token)
		ks.addKey(g.key)
		if g.until.Before(until) {
			until = g.until
		}
	}
	return ks, until
}

func (ks *KeySet) addToken(t string) {
	for _, have := range ks.Tokens {
		if have == t {
			return
		}
	}
	if t != "" {
		ks.Tokens = append(ks.Tokens, t)
	}
}

func (ks *KeySet) addKey(k wxcrypt.Key) {
	for _, have := range ks.Keys {
		if bytes.Equal(have, k) {
			return
		}
	}
	if len(k) > 0 {
		ks.Keys = append(ks.Keys, k)
	}
}
