package v1alpha1

// Condition types shared by both kinds. They follow the Flux/kstatus
// convention: Ready is the summary a person looks at; Reconciling and Stalled
// say whether the controller is still working or has given up until something
// changes.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionResyncing is true on a WeComApp while a full resync runs.
	ConditionResyncing = "Resyncing"
	// ConditionDeleted is true on an ExternalContact that WeCom no longer
	// holds but that is kept because its app has deletionPolicy Retain.
	ConditionDeleted = "Deleted"
)

// Well-known labels and annotations.
const (
	// LabelApp carries the name of the WeComApp an ExternalContact belongs to.
	LabelApp = "wecom.dev/app"
	// LabelExternalUserID carries the original, case-sensitive external user
	// ID when it is a valid label value.
	LabelExternalUserID = "wecom.dev/external-userid"
	// AnnotationResyncRequestedAt on a WeComApp asks for a resync whenever its
	// value changes.
	AnnotationResyncRequestedAt = "wecom.dev/resync-requested-at"
)
