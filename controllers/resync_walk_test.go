package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

func TestSameContent(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	base := func() *wecomv1alpha1.ExternalContact {
		return &wecomv1alpha1.ExternalContact{Status: wecomv1alpha1.ExternalContactStatus{
			ObservedGeneration: 1, FollowUserCount: 1, LastSyncTime: &t0,
			Conditions:  []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Synced", Message: "synced from WeCom", LastTransitionTime: t0}},
			Profile:     &wecomv1alpha1.ContactProfile{Name: "王敏"},
			FollowUsers: []wecomv1alpha1.FollowUser{{UserID: "member001", Tags: []wecomv1alpha1.Tag{{ID: "etLevelA"}}}},
		}}
	}
	for _, tc := range []struct {
		name   string
		change func(*wecomv1alpha1.ExternalContact)
		same   bool
	}{
		{"identical", func(*wecomv1alpha1.ExternalContact) {}, true},
		{"synced later", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.LastSyncTime = &t1 }, true},
		{"condition transitioned later", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.Conditions[0].LastTransitionTime = t1 }, true},
		{"condition reason", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.Conditions[0].Reason = "NotFound" }, false},
		{"condition added", func(ec *wecomv1alpha1.ExternalContact) {
			ec.Status.Conditions = append(ec.Status.Conditions, metav1.Condition{Type: "Deleted", Status: "True"})
		}, false},
		{"profile", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.Profile.Name = "Wang Min" }, false},
		{"tag", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.FollowUsers[0].Tags[0].ID = "etLevelB" }, false},
		{"observed generation", func(ec *wecomv1alpha1.ExternalContact) { ec.Status.ObservedGeneration = 2 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(), base()
			tc.change(b)
			wantA, wantB := a.DeepCopy(), b.DeepCopy()
			if got := sameContent(a, b); got != tc.same {
				t.Errorf("sameContent = %v, want %v", got, tc.same)
			}
			if a.Status.LastSyncTime == nil || !a.Status.LastSyncTime.Equal(wantA.Status.LastSyncTime) ||
				b.Status.LastSyncTime == nil || !b.Status.LastSyncTime.Equal(wantB.Status.LastSyncTime) ||
				!a.Status.Conditions[0].LastTransitionTime.Equal(&wantA.Status.Conditions[0].LastTransitionTime) ||
				!b.Status.Conditions[0].LastTransitionTime.Equal(&wantB.Status.Conditions[0].LastTransitionTime) {
				t.Errorf("sameContent modified its arguments")
			}
		})
	}
}
