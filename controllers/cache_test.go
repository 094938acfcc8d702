package controllers

import (
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// decoded builds a contact as a decoder would: every string its own copy,
// slices with spare capacity.
func decoded(id string) *wecomv1alpha1.ExternalContact {
	s := func(v string) string { return string([]byte(v)) }
	tags := make([]wecomv1alpha1.Tag, 1, 4)
	tags[0] = wecomv1alpha1.Tag{ID: s("etLevelA"), GroupName: s("客户等级"), Name: s("重要"), Type: 1}
	follows := make([]wecomv1alpha1.FollowUser, 1, 4)
	follows[0] = wecomv1alpha1.FollowUser{UserID: s("member001"), Remark: s("王敏"), Tags: tags, State: s("seed"),
		OperUserID: s("member001"), RelationState: wecomv1alpha1.RelationState(s("Active"))}
	return &wecomv1alpha1.ExternalContact{
		ObjectMeta: metav1.ObjectMeta{Name: s("acme-" + id), Namespace: s("crm"), UID: types.UID("u-" + id),
			Labels:        map[string]string{wecomv1alpha1.LabelApp: "acme"},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "wecom-callback"}}},
		Spec: wecomv1alpha1.ExternalContactSpec{AppRef: wecomv1alpha1.LocalObjectReference{Name: s("acme")}, ExternalUserID: s(id),
			LastEvent: &wecomv1alpha1.ContactEvent{ChangeType: s("add_external_contact"), UserID: s("member001")}},
		Status: wecomv1alpha1.ExternalContactStatus{
			Conditions: append(make([]metav1.Condition, 0, 4), metav1.Condition{Type: s("Ready"),
				Status: metav1.ConditionStatus(s("True")), Reason: s("Synced"), Message: s("synced from WeCom")}),
			Profile:     &wecomv1alpha1.ContactProfile{Name: s("王敏"), CorpName: s("腾讯"), Position: s("Manager")},
			FollowUsers: follows,
		},
	}
}

func TestCompactContact(t *testing.T) {
	a, b := decoded("wmA"), decoded("wmB")
	want := a.DeepCopy()
	for _, ec := range []*wecomv1alpha1.ExternalContact{a, b} {
		if _, err := CompactContact(ec); err != nil {
			t.Fatal(err)
		}
	}
	if a.Labels != nil || a.Annotations != nil || a.ManagedFields != nil {
		t.Errorf("metadata kept: labels %v annotations %v managedFields %v", a.Labels, a.Annotations, a.ManagedFields)
	}
	if !equality.Semantic.DeepEqual(a.Spec, want.Spec) || !equality.Semantic.DeepEqual(a.Status, want.Status) {
		t.Errorf("content changed:\n got %+v\nwant %+v", a.Status, want.Status)
	}
	if a.Name != want.Name || a.UID != want.UID {
		t.Errorf("identity changed: %s %s", a.Name, a.UID)
	}
	shared := map[string][2]string{
		"namespace":        {a.Namespace, b.Namespace},
		"appRef":           {a.Spec.AppRef.Name, b.Spec.AppRef.Name},
		"event type":       {a.Spec.LastEvent.ChangeType, b.Spec.LastEvent.ChangeType},
		"condition reason": {a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason},
		"message":          {a.Status.Conditions[0].Message, b.Status.Conditions[0].Message},
		"follow user":      {a.Status.FollowUsers[0].UserID, b.Status.FollowUsers[0].UserID},
		"tag group":        {a.Status.FollowUsers[0].Tags[0].GroupName, b.Status.FollowUsers[0].Tags[0].GroupName},
		"corp name":        {a.Status.Profile.CorpName, b.Status.Profile.CorpName},
	}
	for field, pair := range shared {
		if unsafe.StringData(pair[0]) != unsafe.StringData(pair[1]) {
			t.Errorf("%s not shared between contacts", field)
		}
	}
	if unsafe.StringData(a.Status.FollowUsers[0].Remark) == unsafe.StringData(b.Status.FollowUsers[0].Remark) {
		t.Errorf("remark interned: personal texts are unique, interning them only costs")
	}
	caps := map[string][2]int{
		"conditions":  {len(a.Status.Conditions), cap(a.Status.Conditions)},
		"followUsers": {len(a.Status.FollowUsers), cap(a.Status.FollowUsers)},
		"tags":        {len(a.Status.FollowUsers[0].Tags), cap(a.Status.FollowUsers[0].Tags)},
	}
	for field, lc := range caps {
		if lc[0] != lc[1] {
			t.Errorf("%s: len %d cap %d", field, lc[0], lc[1])
		}
	}
}

func TestCompactOtherObjects(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	out, err := CompactContact(cm)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*corev1.ConfigMap); got.ManagedFields != nil || got.Labels["a"] != "b" {
		t.Errorf("other objects: managedFields %v labels %v", got.ManagedFields, got.Labels)
	}
}
