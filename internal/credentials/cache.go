package credentials

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/singleflight"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// SecretMetadata returns an empty metadata-only Secret, the form in which
// Secrets are watched (never in full).
func SecretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Secret"})
	return m
}

// Cache holds parsed credentials without keeping Secrets in the informer
// cache: a metadata-only informer tells when a Secret changed (its
// resourceVersion), and only then is the Secret read live. A rotation is
// therefore seen as soon as the watch delivers it.
type Cache struct {
	meta client.Reader // a cache that holds Secret metadata
	live client.Reader // the API reader
	sf   singleflight.Group
	mu   sync.Mutex
	m    map[client.ObjectKey]*Credentials
}

// NewCache returns a Cache reading metadata from meta and Secrets from live.
func NewCache(meta, live client.Reader) *Cache {
	return &Cache{meta: meta, live: live, m: map[client.ObjectKey]*Credentials{}}
}

// Get returns the app's current credentials. Results are shared: callers
// must not modify them.
func (c *Cache) Get(ctx context.Context, app *wecomv1alpha1.WeComApp) (*Credentials, error) {
	key := client.ObjectKey{Namespace: app.Namespace, Name: app.Spec.SecretRef.Name}
	m := SecretMetadata()
	if err := c.meta.Get(ctx, key, m); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &Error{ReasonSecretNotFound, fmt.Sprintf("Secret %s/%s not found", key.Namespace, key.Name)}
		}
		return nil, fmt.Errorf("read Secret metadata: %w", err)
	}
	names := KeyNames(app.Spec.SecretRef)
	c.mu.Lock()
	cur := c.m[key]
	c.mu.Unlock()
	if cur != nil && cur.ResourceVersion == m.ResourceVersion && cur.names == names {
		return cur, nil
	}
	v, err, _ := c.sf.Do(key.String()+"|"+m.ResourceVersion+"|"+fmt.Sprint(names), func() (any, error) {
		creds, err := Load(ctx, c.live, app)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.m[key] = creds
		c.mu.Unlock()
		return creds, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Credentials), nil
}
