package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeletionPolicy says what happens to an ExternalContact once WeCom no longer
// holds the contact.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the ExternalContact object.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyRetain keeps the object with a Deleted condition.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// Default key names in the credentials Secret.
const (
	DefaultCorpSecretKey             = "corpSecret"
	DefaultTokenKey                  = "token"
	DefaultEncodingAESKeyKey         = "encodingAESKey"
	DefaultPreviousTokenKey          = "previousToken"
	DefaultPreviousEncodingAESKeyKey = "previousEncodingAESKey"
)

// SecretReference names a Secret in the WeComApp's own namespace and the keys
// that hold each credential. A Secret in another namespace cannot be named.
type SecretReference struct {
	// Name of the Secret, in the same namespace as the WeComApp.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`

	// CorpSecretKey is the key holding the app's corp secret (used to obtain
	// access tokens for the REST API).
	// +kubebuilder:default=corpSecret
	// +optional
	CorpSecretKey string `json:"corpSecretKey,omitempty"`

	// TokenKey is the key holding the callback Token (signatures).
	// +kubebuilder:default=token
	// +optional
	TokenKey string `json:"tokenKey,omitempty"`

	// EncodingAESKeyKey is the key holding the 43-character EncodingAESKey.
	// +kubebuilder:default=encodingAESKey
	// +optional
	EncodingAESKeyKey string `json:"encodingAESKeyKey,omitempty"`

	// PreviousTokenKey is an optional key holding the token that was in use
	// before a rotation; callbacks signed with it are still accepted.
	// +kubebuilder:default=previousToken
	// +optional
	PreviousTokenKey string `json:"previousTokenKey,omitempty"`

	// PreviousEncodingAESKeyKey is an optional key holding the EncodingAESKey
	// in use before a rotation; callbacks encrypted with it still decrypt.
	// +kubebuilder:default=previousEncodingAESKey
	// +optional
	PreviousEncodingAESKeyKey string `json:"previousEncodingAESKeyKey,omitempty"`
}

// WeComAppSpec names a WeCom corp and where its credentials are.
type WeComAppSpec struct {
	// CorpID is the WeCom corp ID (企业ID), e.g. ww1436e0e65a779aee. It is
	// also the receive ID that every callback must carry.
	// +kubebuilder:validation:Pattern=`^w[wx][A-Za-z0-9]{6,62}$`
	// +kubebuilder:validation:MaxLength=64
	CorpID string `json:"corpID"`

	// AgentID is the ID of the self-built app whose secret is used
	// (informational; WeCom identifies the app by its secret).
	// +kubebuilder:validation:Minimum=0
	// +optional
	AgentID *int64 `json:"agentID,omitempty"`

	// SecretRef names the Secret holding corp secret, callback token and
	// EncodingAESKey.
	SecretRef SecretReference `json:"secretRef"`

	// DeletionPolicy says what happens to an ExternalContact that WeCom no
	// longer holds: Delete (default) deletes the object, Retain keeps it with
	// a Deleted condition. Deleting the WeComApp itself never deletes contacts.
	// +kubebuilder:default=Delete
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// ResyncInterval is how often every contact is re-read from WeCom to heal
	// missed callbacks. 0 disables periodic resync.
	// +kubebuilder:default="24h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^(0|([0-9]+(\.[0-9]+)?(ms|s|m|h))+)$`
	// +optional
	ResyncInterval *metav1.Duration `json:"resyncInterval,omitempty"`
}

// ResyncResult counts what the last resync did.
type ResyncResult struct {
	// StartTime is when the resync began.
	StartTime metav1.Time `json:"startTime"`
	// CompletionTime is when it ended (absent while running).
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// Complete is true when every page was read, so absences were proven.
	Complete bool  `json:"complete"`
	Seen     int64 `json:"seen"`
	Created  int64 `json:"created"`
	Updated  int64 `json:"updated"`
	Deleted  int64 `json:"deleted"`
	Failed   int64 `json:"failed"`
	// Message explains an incomplete resync.
	// +optional
	Message string `json:"message,omitempty"`
}

// WeComAppStatus is the observed state of a WeComApp.
type WeComAppStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, Resyncing.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// WebhookPath is the path on the callback server where this app's
	// callbacks are received; prefix it with the public callback URL and
	// paste it into the WeCom admin console. It does not change when keys
	// are rotated.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`

	// Contacts is the number of ExternalContacts of this app.
	// +optional
	Contacts int64 `json:"contacts,omitempty"`

	// LastEventTime is when the last callback event of this app was stored.
	// +optional
	LastEventTime *metav1.Time `json:"lastEventTime,omitempty"`

	// LastResyncTime is when the last complete resync finished.
	// +optional
	LastResyncTime *metav1.Time `json:"lastResyncTime,omitempty"`

	// LastResync counts what the last resync did.
	// +optional
	LastResync *ResyncResult `json:"lastResync,omitempty"`

	// LastHandledResyncRequest is the value of the
	// wecom.dev/resync-requested-at annotation that was last acted on.
	// +optional
	LastHandledResyncRequest string `json:"lastHandledResyncRequest,omitempty"`
}

// WeComApp is a WeCom corp app whose customer contacts are kept as
// ExternalContacts in this namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wecomapp,categories=wecom
// +kubebuilder:printcolumn:name="Corp",type=string,JSONPath=`.spec.corpID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Contacts",type=integer,JSONPath=`.status.contacts`
// +kubebuilder:printcolumn:name="Webhook Path",type=string,JSONPath=`.status.webhookPath`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="WeComApp names are at most 63 characters (they become label values)"
type WeComApp struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WeComAppSpec   `json:"spec"`
	Status WeComAppStatus `json:"status,omitempty"`
}

// WeComAppList is a list of WeComApps.
//
// +kubebuilder:object:root=true
type WeComAppList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WeComApp `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WeComApp{}, &WeComAppList{})
}
