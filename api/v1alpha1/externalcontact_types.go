package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Change types of the change_external_contact callback event.
const (
	ChangeAddExternalContact     = "add_external_contact"
	ChangeEditExternalContact    = "edit_external_contact"
	ChangeAddHalfExternalContact = "add_half_external_contact"
	ChangeDelExternalContact     = "del_external_contact"
	ChangeDelFollowUser          = "del_follow_user"
	ChangeTransferFail           = "transfer_fail"
)

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
}

// ContactEvent is one change_external_contact callback, as WeCom sent it.
type ContactEvent struct {
	// ChangeType as WeCom sent it, e.g. add_external_contact. Unknown future
	// change types are stored as they are.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ChangeType string `json:"changeType"`
	// Time is the event's CreateTime.
	Time metav1.Time `json:"time"`
	// UserID is the member (follow user) the event is about; for
	// transfer_fail, the member who failed to take the customer over.
	// +optional
	UserID string `json:"userID,omitempty"`
	// State is the channel ("state") of the 联系我 config that brought the
	// customer, when present.
	// +optional
	State string `json:"state,omitempty"`
	// Source is DELETE_BY_TRANSFER when a deletion came from a transfer.
	// +optional
	Source string `json:"source,omitempty"`
	// FailReason of a transfer_fail: customer_refused or
	// customer_limit_exceed.
	// +optional
	FailReason string `json:"failReason,omitempty"`
	// WelcomeCode lets a service send a welcome message; it is valid for a
	// few seconds only, so act on it as soon as it appears.
	// +optional
	WelcomeCode string `json:"welcomeCode,omitempty"`
}

// ExternalContactSpec identifies a WeCom external contact. It is written by
// the callback receiver and by resync, never by hand.
//
// +kubebuilder:validation:XValidation:rule="self.appRef == oldSelf.appRef && self.externalUserID == oldSelf.externalUserID",message="appRef and externalUserID are immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.lastEvent) || (has(self.lastEvent) && self.lastEvent.time >= oldSelf.lastEvent.time)",message="lastEvent cannot be replaced by an older event"
type ExternalContactSpec struct {
	// AppRef names the WeComApp (same namespace) the contact belongs to.
	AppRef LocalObjectReference `json:"appRef"`

	// ExternalUserID is WeCom's external_userid: case sensitive, exactly as
	// WeCom sends it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	ExternalUserID string `json:"externalUserID"`

	// LastEvent is the newest callback event received for this contact. The
	// receiver records it here, in the same write that creates the object, so
	// an event is durable before WeCom gets its acknowledgement; every new
	// event bumps metadata.generation, which the reconciler acts on. An older
	// event never replaces a newer one.
	// +optional
	LastEvent *ContactEvent `json:"lastEvent,omitempty"`
}

// ExternalAttr is one entry of a contact's external profile.
type ExternalAttr struct {
	// Type: 0 text, 1 web page, 2 mini program.
	Type int32  `json:"type"`
	Name string `json:"name"`
	// +optional
	Text *ExternalAttrText `json:"text,omitempty"`
	// +optional
	Web *ExternalAttrWeb `json:"web,omitempty"`
	// +optional
	MiniProgram *ExternalAttrMiniProgram `json:"miniprogram,omitempty"`
}

// ExternalAttrText is a text attribute.
type ExternalAttrText struct {
	Value string `json:"value"`
}

// ExternalAttrWeb is a web-page attribute.
type ExternalAttrWeb struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
}

// ExternalAttrMiniProgram is a mini-program attribute.
type ExternalAttrMiniProgram struct {
	AppID    string `json:"appid"`
	PagePath string `json:"pagepath,omitempty"`
	Title    string `json:"title,omitempty"`
}

// ExternalProfile is the public profile of a WeCom-user contact (type 2).
type ExternalProfile struct {
	// +optional
	ExternalCorpName string `json:"externalCorpName,omitempty"`
	// +optional
	ExternalAttr []ExternalAttr `json:"externalAttr,omitempty"`
}

// ContactProfile is the contact as WeCom describes it.
type ContactProfile struct {
	// Name is the WeChat nickname, or a WeCom user's external display name.
	// +optional
	Name string `json:"name,omitempty"`
	// Type: 1 WeChat user, 2 WeCom user.
	// +optional
	Type int32 `json:"type,omitempty"`
	// Gender: 0 unknown, 1 male, 2 female.
	// +optional
	Gender int32 `json:"gender,omitempty"`
	// +optional
	Avatar string `json:"avatar,omitempty"`
	// +optional
	CorpName string `json:"corpName,omitempty"`
	// +optional
	CorpFullName string `json:"corpFullName,omitempty"`
	// +optional
	Position string `json:"position,omitempty"`
	// +optional
	UnionID string `json:"unionID,omitempty"`
	// +optional
	ExternalProfile *ExternalProfile `json:"externalProfile,omitempty"`
}

// Tag is a tag a follow user put on the contact.
type Tag struct {
	// ID of a corp tag (absent for personal tags).
	// +optional
	ID string `json:"id,omitempty"`
	// +optional
	GroupName string `json:"groupName,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// Type: 1 corp tag, 2 personal tag, 3 rule-group tag.
	// +optional
	Type int32 `json:"type,omitempty"`
}

// RelationState is the state of one follow relation.
// +kubebuilder:validation:Enum=Active;DeletedByCustomer;DeletedByUser
type RelationState string

const (
	// RelationActive is a normal, two-way relation.
	RelationActive RelationState = "Active"
	// RelationDeletedByCustomer: the customer deleted the member
	// (del_follow_user); the member still holds the contact.
	RelationDeletedByCustomer RelationState = "DeletedByCustomer"
	// RelationDeletedByUser: the member deleted the customer
	// (del_external_contact); kept only under deletionPolicy Retain.
	RelationDeletedByUser RelationState = "DeletedByUser"
)

// FollowUser is one member of the corp who has the contact.
type FollowUser struct {
	// UserID of the member.
	UserID string `json:"userID"`
	// +optional
	Remark string `json:"remark,omitempty"`
	// +optional
	Description string `json:"description,omitempty"`
	// CreateTime is when the member added the contact.
	// +optional
	CreateTime *metav1.Time `json:"createTime,omitempty"`
	// +optional
	Tags []Tag `json:"tags,omitempty"`
	// +optional
	RemarkCorpName string `json:"remarkCorpName,omitempty"`
	// +optional
	RemarkMobiles []string `json:"remarkMobiles,omitempty"`
	// AddWay: how the contact was added (1 QR code, 2 phone search, ...).
	// Stored as WeCom sends it; new values keep appearing.
	// +optional
	AddWay int32 `json:"addWay,omitempty"`
	// OperUserID is who initiated the add.
	// +optional
	OperUserID string `json:"operUserID,omitempty"`
	// State is the channel of the 联系我 config that brought the customer.
	// +optional
	State string `json:"state,omitempty"`
	// RelationState is the relation's own state.
	// +optional
	RelationState RelationState `json:"relationState,omitempty"`
}

// EventRecord is the summary of the event the reconciler last acted on.
type EventRecord struct {
	ChangeType string      `json:"changeType"`
	Time       metav1.Time `json:"time"`
	// +optional
	UserID string `json:"userID,omitempty"`
}

// TransferFailure records a failed transfer of the contact.
type TransferFailure struct {
	// UserID of the member who failed to take the contact over.
	UserID string `json:"userID,omitempty"`
	// Reason: customer_refused or customer_limit_exceed.
	Reason string      `json:"reason,omitempty"`
	Time   metav1.Time `json:"time"`
}

// ExternalContactStatus is what WeCom knows about the contact.
type ExternalContactStatus struct {
	// ObservedGeneration is the generation (and so the last event) the
	// reconciler has acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (reasons Synced, NotFound, RateLimited, WeComError,
	// AppNotReady), Deleted.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Profile of the contact.
	// +optional
	Profile *ContactProfile `json:"profile,omitempty"`

	// FollowUsers are the members who have the contact.
	// +listType=map
	// +listMapKey=userID
	// +optional
	FollowUsers []FollowUser `json:"followUsers,omitempty"`

	// FollowUserCount is len(followUsers), for printing.
	// +optional
	FollowUserCount int32 `json:"followUserCount,omitempty"`

	// LastSyncTime is when the status was last read from WeCom.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// LastEvent is the event the reconciler last acted on.
	// +optional
	LastEvent *EventRecord `json:"lastEvent,omitempty"`

	// LastTransferFailure is set by a transfer_fail event.
	// +optional
	LastTransferFailure *TransferFailure `json:"lastTransferFailure,omitempty"`
}

// ExternalContact is one WeCom customer (external contact) of a WeComApp's
// corp. The receiver creates it from callbacks, resync from WeCom's lists;
// the reconciler fills its status from WeCom's API.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ec,categories=wecom
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.status.profile.name`
// +kubebuilder:printcolumn:name="Type",type=integer,JSONPath=`.status.profile.type`,description="1 WeChat user, 2 WeCom user"
// +kubebuilder:printcolumn:name="Corp",type=string,JSONPath=`.status.profile.corpName`
// +kubebuilder:printcolumn:name="Follow Users",type=integer,JSONPath=`.status.followUserCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="External User ID",type=string,JSONPath=`.spec.externalUserID`,priority=1
// +kubebuilder:printcolumn:name="App",type=string,JSONPath=`.spec.appRef.name`,priority=1
// +kubebuilder:printcolumn:name="Last Event",type=string,JSONPath=`.spec.lastEvent.changeType`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ExternalContact struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ExternalContactSpec   `json:"spec"`
	Status ExternalContactStatus `json:"status,omitempty"`
}

// ExternalContactList is a list of ExternalContacts.
//
// +kubebuilder:object:root=true
type ExternalContactList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalContact `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ExternalContact{}, &ExternalContactList{})
}
