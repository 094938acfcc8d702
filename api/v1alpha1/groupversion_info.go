// Package v1alpha1 contains the wecom.dev/v1alpha1 API: WeComApp, which names a
// WeCom corp and the Secret holding its credentials, and ExternalContact, one
// WeCom customer ("external contact") of that corp.
//
// +kubebuilder:object:generate=true
// +groupName=wecom.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "wecom.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
