package controllers

import (
	"context"
	"fmt"
	"sync"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// ContactIndex reads an app's contacts straight from the informer's store,
// through the namespace index every controller-runtime informer has:
// counting them or walking them copies nothing, and no index of its own
// costs memory per contact. (A client List, even with UnsafeDisableDeepCopy,
// copies every object's struct into the list: tens of MiB per call at 10^5
// contacts.)
//
// The informer is looked up on first use, which only the leader's
// reconcilers make: replicas that only serve callbacks never cache contacts.
type ContactIndex struct {
	cache cache.Cache
	mu    sync.Mutex
	store toolscache.Indexer
}

// NewContactIndex returns an index over c's ExternalContact informer.
func NewContactIndex(c cache.Cache) *ContactIndex { return &ContactIndex{cache: c} }

// indexer returns the informer's store, waiting for its first sync.
func (x *ContactIndex) indexer(ctx context.Context) (toolscache.Indexer, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.store != nil {
		return x.store, nil
	}
	inf, err := x.cache.GetInformer(ctx, &wecomv1alpha1.ExternalContact{})
	if err != nil {
		return nil, fmt.Errorf("contact informer: %w", err)
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	if !ok {
		return nil, fmt.Errorf("contact informer is a %T, not a SharedIndexInformer", inf)
	}
	if _, ok := shared.GetIndexer().GetIndexers()[toolscache.NamespaceIndex]; !ok {
		return nil, fmt.Errorf("contact informer has no %s index", toolscache.NamespaceIndex)
	}
	x.store = shared.GetIndexer()
	return x.store, nil
}

// Get returns the cached contact, or nil if the cache has none. It is the
// cache's own object: do not modify it (DeepCopy it to change it).
func (x *ContactIndex) Get(ctx context.Context, namespace, name string) (*wecomv1alpha1.ExternalContact, error) {
	store, err := x.indexer(ctx)
	if err != nil {
		return nil, err
	}
	obj, ok, err := store.GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil, err
	}
	ec, _ := obj.(*wecomv1alpha1.ExternalContact)
	return ec, nil
}

// Count returns how many contacts the app has in the cache.
func (x *ContactIndex) Count(ctx context.Context, namespace, app string) (int, error) {
	n := 0
	err := x.Each(ctx, namespace, app, func(*wecomv1alpha1.ExternalContact) bool { n++; return true })
	return n, err
}

// Each calls fn with each cached contact of the app until fn returns false.
// The contacts are the cache's own: fn must not modify them (DeepCopy one
// to change it).
func (x *ContactIndex) Each(ctx context.Context, namespace, app string, fn func(*wecomv1alpha1.ExternalContact) bool) error {
	store, err := x.indexer(ctx)
	if err != nil {
		return err
	}
	objs, err := store.ByIndex(toolscache.NamespaceIndex, namespace)
	if err != nil {
		return fmt.Errorf("list contacts: %w", err)
	}
	for _, o := range objs {
		if ec, ok := o.(*wecomv1alpha1.ExternalContact); ok && ec.Spec.AppRef.Name == app && !fn(ec) {
			return nil
		}
	}
	return nil
}
