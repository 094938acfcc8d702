package webhook

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// keyStore resolves a WeComApp's KeySet on every replica. Secrets are not
// held in the informer cache: a metadata-only informer says when a Secret
// changed (its resourceVersion), and only then is it read live. Keys that a
// change replaced stay accepted for the grace period, so events signed while
// the WeCom admin console is being updated are not lost.
type keyStore struct {
	meta  client.Reader // cache holding Secret metadata
	live  client.Reader // API reader
	grace time.Duration
	now   func() time.Time

	sf      singleflight.Group
	mu      sync.Mutex
	entries map[types.NamespacedName]*keyEntry
}

type keyEntry struct {
	source string // secret name + key names
	rv     string
	creds  *credentials.Credentials
	graced []gracedKey
}

type gracedKey struct {
	token string
	key   wxcrypt.Key
	until time.Time
}

func newKeyStore(meta, live client.Reader, grace time.Duration, now func() time.Time) *keyStore {
	return &keyStore{meta: meta, live: live, grace: grace, now: now, entries: map[types.NamespacedName]*keyEntry{}}
}

// get returns the KeySet of app.
func (s *keyStore) get(ctx context.Context, app *wecomv1alpha1.WeComApp) (*KeySet, error) {
	id := types.NamespacedName{Namespace: app.Namespace, Name: app.Name}
	source := sourceOf(app)
	rv, err := s.secretVersion(ctx, app)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	e := s.entries[id]
	if e != nil && e.source == source && e.rv == rv {
		ks := e.keySet(s.now())
		s.mu.Unlock()
		return ks, nil
	}
	s.mu.Unlock()
	_, err, _ = s.sf.Do(id.String()+"|"+source+"|"+rv, func() (any, error) {
		return nil, s.load(ctx, id, source, app)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries[id].keySet(s.now()), nil
}

func (s *keyStore) secretVersion(ctx context.Context, app *wecomv1alpha1.WeComApp) (string, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	err := s.meta.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: app.Spec.SecretRef.Name}, m)
	if apierrors.IsNotFound(err) {
		return "", &credentials.Error{Reason: credentials.ReasonSecretNotFound,
			Message: fmt.Sprintf("Secret %s/%s not found", app.Namespace, app.Spec.SecretRef.Name)}
	}
	if err != nil {
		return "", fmt.Errorf("read Secret metadata: %w", err)
	}
	return m.ResourceVersion, nil
}

func (s *keyStore) load(ctx context.Context, id types.NamespacedName, source string, app *wecomv1alpha1.WeComApp) error {
	creds, err := credentials.Load(ctx, s.live, app)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.entries[id]
	e := &keyEntry{source: source, rv: creds.ResourceVersion, creds: creds}
	if old != nil {
		now := s.now()
		e.graced = old.live(now)
		if s.grace > 0 && (old.creds.Token != creds.Token || !bytes.Equal(old.creds.Key, creds.Key)) {
			e.graced = append(e.graced, gracedKey{token: old.creds.Token, key: old.creds.Key, until: now.Add(s.grace)})
		}
		if len(e.graced) > 4 { // bounded: the newest few replaced keys
			e.graced = e.graced[len(e.graced)-4:]
		}
	}
	s.entries[id] = e
	return nil
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

func (e *keyEntry) keySet(now time.Time) *KeySet {
	ks := &KeySet{}
	addToken := func(t string) {
		for _, have := range ks.Tokens {
			if have == t {
				return
			}
		}
		if t != "" {
			ks.Tokens = append(ks.Tokens, t)
		}
	}
	addKey := func(k wxcrypt.Key) {
		for _, have := range ks.Keys {
			if bytes.Equal(have, k) {
				return
			}
		}
		if len(k) > 0 {
			ks.Keys = append(ks.Keys, k)
		}
	}
	addToken(e.creds.Token)
	addKey(e.creds.Key)
	addToken(e.creds.PreviousToken)
	addKey(e.creds.PreviousKey)
	for _, g := range e.live(now) {
		addToken(g.token)
		addKey(g.key)
	}
	return ks
}

// forget drops what is known of an app (it was deleted).
func (s *keyStore) forget(id types.NamespacedName) {
	s.mu.Lock()
	delete(s.entries, id)
	s.mu.Unlock()
}

func sourceOf(app *wecomv1alpha1.WeComApp) string {
	n := credentials.KeyNames(app.Spec.SecretRef)
	return fmt.Sprintf("%s|%s|%s|%s|%s", app.Spec.SecretRef.Name, n.Token, n.EncodingAESKey, n.PreviousToken, n.PreviousEncodingAESKey)
}
