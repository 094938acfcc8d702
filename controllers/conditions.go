package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// setCond sets a condition to True or False.
func setCond(conds *[]metav1.Condition, t string, on bool, reason, message string, gen int64) {
	status := metav1.ConditionFalse
	if on {
		status = metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: status, Reason: reason, Message: message, ObservedGeneration: gen})
}

// setBool sets a condition that is present only while true (kstatus style).
func setBool(conds *[]metav1.Condition, t string, on bool, reason, message string, gen int64) {
	if !on {
		apimeta.RemoveStatusCondition(conds, t)
		return
	}
	setCond(conds, t, true, reason, message, gen)
}

// readyTransition returns the new Ready condition when its status or reason
// changed, else nil. A first Ready=True counts only when firstReady says so.
func readyTransition(before, after []metav1.Condition, firstReady bool) *metav1.Condition {
	old := apimeta.FindStatusCondition(before, wecomv1alpha1.ConditionReady)
	cur := apimeta.FindStatusCondition(after, wecomv1alpha1.ConditionReady)
	if cur == nil || (old != nil && old.Status == cur.Status && old.Reason == cur.Reason) {
		return nil
	}
	if old == nil && cur.Status == metav1.ConditionTrue && !firstReady {
		return nil
	}
	return cur
}

// eventType is Normal for a True condition, Warning otherwise.
func eventType(c *metav1.Condition) string {
	if c.Status == metav1.ConditionTrue {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

// retainedMessage is the Deleted condition's message under Retain.
const retainedMessage = "WeCom no longer has this contact; kept because the app's deletionPolicy is Retain"

// activeCount counts the relations that have not ended.
func activeCount(fs []wecomv1alpha1.FollowUser) int {
	n := 0
	for _, f := range fs {
		if f.RelationState != wecomv1alpha1.RelationDeletedByUser {
			n++
		}
	}
	return n
}

// endRelations returns the relations marked ended (kept under Retain).
func endRelations(fs []wecomv1alpha1.FollowUser) []wecomv1alpha1.FollowUser {
	out := make([]wecomv1alpha1.FollowUser, 0, len(fs))
	for _, f := range fs {
		f.RelationState = wecomv1alpha1.RelationDeletedByUser
		out = append(out, f)
	}
	return out
}

// deleteGone deletes a contact WeCom no longer has, unless it changed since
// it was read (a new event arrived) or is gone already; it says whether it
// deleted it.
func deleteGone(ctx context.Context, c client.Client, ec *wecomv1alpha1.ExternalContact) (bool, error) {
	err := c.Delete(ctx, ec, client.Preconditions{UID: &ec.UID, ResourceVersion: &ec.ResourceVersion})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return false, nil
	default:
		return false, fmt.Errorf("delete contact: %w", err)
	}
}
