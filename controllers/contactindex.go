package controllers

import (
	"context"
	"fmt"

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
type ContactIndex struct {
	store toolscache.Indexer
}

// NewContactIndex returns the index over the cache's ExternalContact
// informer (creating the informer if needed).
func NewContactIndex(ctx context.Context, c cache.Cache) (*ContactIndex, error) {
	inf, err := c.GetInformer(ctx, &wecomv1alpha1.ExternalContact{}, cache.BlockUntilSynced(false))
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
	return &ContactIndex{store: shared.GetIndexer()}, nil
}

// Count returns how many contacts the app has in the cache.
func (x *ContactIndex) Count(namespace, app string) (int, error) {
	n := 0
	err := x.Each(namespace, app, func(*wecomv1alpha1.ExternalContact) bool { n++; return true })
	return n, err
}

// Each calls fn with each cached contact of the app until fn returns false.
// The contacts are the cache's own: fn must not modify them (DeepCopy one
// to change it).
func (x *ContactIndex) Each(namespace, app string, fn func(*wecomv1alpha1.ExternalContact) bool) error {
	objs, err := x.store.ByIndex(toolscache.NamespaceIndex, namespace)
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
