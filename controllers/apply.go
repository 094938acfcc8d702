package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// Field managers of the controllers' server-side applies. Each owns only
// the status fields (and conditions, a map keyed by type) it writes, so the
// app controller and resync never overwrite each other.
const (
	AppFieldManager    = "wecom-app-controller"
	ResyncFieldManager = "wecom-resync"
)

// applyAppStatus server-side applies owned (a struct with the fields the
// manager owns) to the WeComApp's status.
func applyAppStatus(ctx context.Context, c client.Client, app *wecomv1alpha1.WeComApp, manager string, owned any) error {
	status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(owned)
	if err != nil {
		return fmt.Errorf("convert status: %w", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": app.Name, "namespace": app.Namespace},
		"status":   status,
	}}
	u.SetGroupVersionKind(wecomv1alpha1.GroupVersion.WithKind("WeComApp"))
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply WeComApp status: %w", err)
	}
	return nil
}
