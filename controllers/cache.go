package controllers

import (
	"slices"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// CompactContact is the informer cache's transform for ExternalContacts. At
// 10^5 contacts the cache is most of the leader's memory, so the cached copy
// keeps only what the reconcilers read:
//
//   - managedFields, labels and annotations are dropped (no reconciler reads
//     them from the cache; label selectors are served by the API server);
//   - strings repeated across contacts (namespace, app, condition texts,
//     follow user IDs, tag names and IDs, company names) share one copy;
//   - slices are copied to their length (JSON decoding leaves spare
//     capacity).
//
// A cached contact is therefore not a full object: never Update one read
// from the cache; patch it (client.MergeFrom) or apply, as every writer here
// does. Objects that are not ExternalContacts pass through with their
// managedFields dropped.
func CompactContact(obj any) (any, error) {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		a.GetObjectMeta().SetManagedFields(nil)
	}
	ec, ok := obj.(*wecomv1alpha1.ExternalContact)
	if !ok {
		return obj, nil
	}
	ec.Labels, ec.Annotations = nil, nil
	intern(&ec.APIVersion, &ec.Kind, &ec.Namespace, &ec.Spec.AppRef.Name)
	if ev := ec.Spec.LastEvent; ev != nil {
		intern(&ev.ChangeType, &ev.UserID, &ev.State, &ev.Source)
	}
	compactStatus(&ec.Status)
	return ec, nil
}

func compactStatus(s *wecomv1alpha1.ExternalContactStatus) {
	s.Conditions = exact(s.Conditions)
	for i := range s.Conditions {
		c := &s.Conditions[i]
		status := string(c.Status)
		intern(&c.Type, &status, &c.Reason, &c.Message)
		c.Status = metav1.ConditionStatus(status)
	}
	if p := s.Profile; p != nil {
		intern(&p.CorpName, &p.CorpFullName, &p.Position)
	}
	if ev := s.LastEvent; ev != nil {
		intern(&ev.ChangeType, &ev.UserID)
	}
	if tf := s.LastTransferFailure; tf != nil {
		intern(&tf.UserID, &tf.Reason)
	}
	s.FollowUsers = exact(s.FollowUsers)
	for i := range s.FollowUsers {
		compactFollowUser(&s.FollowUsers[i])
	}
}

func compactFollowUser(f *wecomv1alpha1.FollowUser) {
	state := string(f.RelationState)
	intern(&f.UserID, &f.OperUserID, &f.State, &state)
	f.RelationState = wecomv1alpha1.RelationState(state)
	f.Tags = exact(f.Tags)
	for i := range f.Tags {
		t := &f.Tags[i]
		intern(&t.ID, &t.GroupName, &t.Name)
	}
	f.RemarkMobiles = exact(f.RemarkMobiles)
}

// exact returns s in an array of its length.
func exact[T any](s []T) []T {
	if cap(s) == len(s) {
		return s
	}
	return slices.Clone(s)
}

// intern replaces each string with its canonical copy. Only fields with few
// distinct values are interned: a unique string would only gain overhead.
func intern(ss ...*string) {
	for _, s := range ss {
		if *s != "" {
			*s = unique.Make(*s).Value()
		}
	}
}
