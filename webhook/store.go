package webhook

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/wecomevent"
)

// FieldManager owns what the receiver writes: labels, spec.appRef,
// spec.externalUserID and spec.lastEvent.
const FieldManager = "wecom-callback"

var externalContactGVK = wecomv1alpha1.GroupVersion.WithKind("ExternalContact")

// olderEventMessage is the message of the CRD's transition rule that keeps an
// older event from replacing a newer one.
const olderEventMessage = "lastEvent cannot be replaced by an older event"

// storeEvent writes ev onto its ExternalContact: an add (usually a new
// contact) with a plain create, anything else, or an add for a contact that
// exists, with one server-side apply that creates the object if missing and
// records the event. Both are idempotent (the same event twice changes
// nothing) and safe across replicas (the name is deterministic); the CRD
// refuses an event older than the one stored, which counts as success: the
// newer one is already durable.
func storeEvent(ctx context.Context, c client.Client, app *wecomv1alpha1.WeComApp, ev *wecomevent.Event) (string, error) {
	u := contactApply(app.Namespace, app.Name, ev)
	if isAdd(ev.ChangeType) {
		// An add is usually a new contact: a plain create is the cheapest
		// durable write. If the contact exists, fall through to the apply.
		err := c.Create(ctx, u.DeepCopy(), client.FieldOwner(FieldManager))
		if err == nil {
			return resultStored, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return resultFailed, fmt.Errorf("create ExternalContact: %w", err)
		}
	}
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
	if err == nil {
		return resultStored, nil
	}
	if apierrors.IsInvalid(err) && strings.Contains(err.Error(), olderEventMessage) {
		return resultSuperseded, nil
	}
	return resultFailed, fmt.Errorf("apply ExternalContact: %w", err)
}

func isAdd(changeType string) bool {
	return changeType == wecomv1alpha1.ChangeAddExternalContact || changeType == wecomv1alpha1.ChangeAddHalfExternalContact
}

// contactApply builds the apply configuration of the event's contact.
func contactApply(namespace, app string, ev *wecomevent.Event) *unstructured.Unstructured {
	labels := map[string]any{}
	for k, v := range contactname.Labels(app, ev.ExternalUserID) {
		labels[k] = v
	}
	last := map[string]any{
		"changeType": ev.ChangeType,
		"time":       ev.Time().Format(time.RFC3339),
	}
	for k, v := range map[string]string{
		"userID": ev.UserID, "state": ev.State, "source": ev.Source,
		"failReason": ev.FailReason, "welcomeCode": ev.WelcomeCode,
	} {
		if v != "" {
			last[k] = v
		}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{
			"name":      contactname.For(app, ev.ExternalUserID),
			"namespace": namespace,
			"labels":    labels,
		},
		"spec": map[string]any{
			"appRef":         map[string]any{"name": app},
			"externalUserID": ev.ExternalUserID,
			"lastEvent":      last,
		},
	}}
	u.SetGroupVersionKind(externalContactGVK)
	return u
}
