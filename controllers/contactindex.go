package controllers

import (
	"context"
	"fmt"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// indexByApp is the contact informer's index of contacts by
// "<namespace>/<spec.appRef.name>".
const indexByApp = "wecom.dev/app"

// ContactIndex reads an app's contacts straight from the informer's store:
// counting them or walking them copies nothing. A client List, even with
// UnsafeDisableDeepCopy, copies every object's struct into the list, which
// at 10^5 contacts is tens of MiB per call.
type ContactIndex struct {
	store toolscache.Indexer
}

// NewContactIndex adds the app index to the cache's ExternalContact informer.
func NewContactIndex(ctx context.Context, c cache.Cache) (*ContactIndex, error) {
	inf, err := c.GetInformer(ctx, &wecomv1alpha1.ExternalContact{}, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("contact informer: %w", err)
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	if !ok {
		return nil, fmt.Errorf("contact informer is a %T, not a SharedIndexInformer", inf)
	}
	err = shared.AddIndexers(toolscache.Indexers{indexByApp: func(obj any) ([]string, error) {
		ec, ok := obj.(*wecomv1alpha1.ExternalContact)
		if !ok {
			return nil, nil
		}
		return []string{appKey(ec.Namespace, ec.Spec.AppRef.Name)}, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("index contacts by app: %w", err)
	}
	return &ContactIndex{store: shared.GetIndexer()}, nil
}

func appKey(namespace, app string) string { return namespace + "/" + app }

// Count returns how many contacts the app has in the cache.
func (x *ContactIndex) Count(namespace, app string) (int, error) {
	keys, err := x.store.IndexKeys(indexByApp, appKey(namespace, app))
	if err != nil {
		return 0, fmt.Errorf("count contacts: %w", err)
	}
	return len(keys), nil
}

// Each calls fn with each cached contact of the app until fn returns false.
// The contacts are the cache's own: fn must not modify them (DeepCopy one
// to change it).
func (x *ContactIndex) Each(namespace, app string, fn func(*wecomv1alpha1.ExternalContact) bool) error {
	objs, err := x.store.ByIndex(indexByApp, appKey(namespace, app))
	if err != nil {
		return fmt.Errorf("list contacts: %w", err)
	}
	for _, o := range objs {
		if ec, ok := o.(*wecomv1alpha1.ExternalContact); ok && !fn(ec) {
			return nil
		}
	}
	return nil
}
