package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
)

// Condition reasons of an ExternalContact.
const (
	ReasonSynced      = "Synced"
	ReasonNotFound    = "NotFound"
	ReasonRateLimited = "RateLimited"
	ReasonWeComError  = "WeComError"
	ReasonAppNotReady = "AppNotReady"
	ReasonGone        = "GoneFromWeCom"
)

// ExternalContactReconciler makes each ExternalContact's status a copy of
// what WeCom knows, acting on the event the receiver recorded in spec.
type ExternalContactReconciler struct {
	client.Client
	Creds    *credentials.Cache
	Contacts *ContactIndex
	WeCom    *wecom.Client
	Recorder events.EventRecorder
	// CoalesceWindow delays the reconcile after an event so that a burst of
	// events for one contact costs one WeCom call.
	CoalesceWindow time.Duration
	// Yield, if set, is called before each WeCom call; it blocks while
	// enrichment should give way (callbacks are being acknowledged).
	Yield func(context.Context) error
	Now   func() time.Time
}

// Reconcile syncs one contact.
func (r *ExternalContactReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ec := &wecomv1alpha1.ExternalContact{}
	if err := r.Get(ctx, req.NamespacedName, ec); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ec.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	app, creds, why := r.appOf(ctx, ec)
	if why != "" {
		return ctrl.Result{}, r.setNotReady(ctx, ec, ReasonAppNotReady, why)
	}
	ready := apimeta.FindStatusCondition(ec.Status.Conditions, wecomv1alpha1.ConditionReady)
	if ec.Generation == ec.Status.ObservedGeneration && ec.Status.LastSyncTime != nil &&
		ready != nil && ready.Status == metav1.ConditionTrue {
		return ctrl.Result{}, nil // nothing new
	}
	if r.Yield != nil {
		if err := r.Yield(ctx); err != nil {
			return ctrl.Result{}, err
		}
	}
	detail, err := r.WeCom.GetContact(ctx, wecom.Creds{CorpID: app.Spec.CorpID, Secret: creds.CorpSecret}, ec.Spec.ExternalUserID)
	switch {
	case err == nil, wecom.IsGone(err):
		return r.apply(ctx, app, ec, detail)
	case wecom.IsNotFound(err):
		return ctrl.Result{}, r.setNotReady(ctx, ec, ReasonNotFound, err.Error())
	}
	if rl, ok := wecom.AsRateLimited(err); ok {
		return ctrl.Result{RequeueAfter: rl.RetryAfter}, r.setNotReady(ctx, ec, ReasonRateLimited, rl.Error())
	}
	if serr := r.setNotReady(ctx, ec, ReasonWeComError, err.Error()); serr != nil {
		return ctrl.Result{}, serr
	}
	return ctrl.Result{}, fmt.Errorf("sync contact: %w", err) // backs off per object
}

// appOf returns the contact's app and credentials, or why they cannot be used.
func (r *ExternalContactReconciler) appOf(ctx context.Context, ec *wecomv1alpha1.ExternalContact) (*wecomv1alpha1.WeComApp, *credentials.Credentials, string) {
	app := &wecomv1alpha1.WeComApp{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: ec.Namespace, Name: ec.Spec.AppRef.Name}, app); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Sprintf("WeComApp %q not found: the contact is kept as it is (delete it with "+
				"kubectl delete ec -l %s=%s if the app is gone for good)", ec.Spec.AppRef.Name, wecomv1alpha1.LabelApp, ec.Spec.AppRef.Name)
		}
		return nil, nil, "reading WeComApp: " + err.Error()
	}
	if app.DeletionTimestamp != nil {
		return nil, nil, fmt.Sprintf("WeComApp %q is being deleted", app.Name)
	}
	cond := apimeta.FindStatusCondition(app.Status.Conditions, wecomv1alpha1.ConditionReady)
	if cond == nil || cond.Status != metav1.ConditionTrue {
		msg := fmt.Sprintf("WeComApp %q is not ready", app.Name)
		if cond != nil {
			msg += ": " + cond.Reason
		}
		return nil, nil, msg
	}
	creds, err := r.Creds.Get(ctx, app)
	if err != nil {
		return nil, nil, fmt.Sprintf("credentials of WeComApp %q: %v", app.Name, err)
	}
	return app, creds, ""
}

// apply writes what WeCom returned (detail is nil when the contact is gone)
// and the recorded event's meaning into status.
func (r *ExternalContactReconciler) apply(ctx context.Context, app *wecomv1alpha1.WeComApp, ec *wecomv1alpha1.ExternalContact, detail *wecom.ContactDetail) (ctrl.Result, error) {
	before := ec.DeepCopy()
	newEvent := ec.Generation != ec.Status.ObservedGeneration && ec.Spec.LastEvent != nil
	follows := r.followUsers(ec, detail, newEvent)
	gone := activeCount(follows) == 0
	if gone && app.Spec.DeletionPolicy != wecomv1alpha1.DeletionPolicyRetain {
		// A conflict means a new event arrived: its update re-queues the contact.
		_, err := deleteGone(ctx, r.Client, ec)
		return ctrl.Result{}, err
	}
	if detail != nil {
		ec.Status.Profile = ProfileFrom(&detail.Contact)
	}
	ec.Status.FollowUsers = follows
	ec.Status.FollowUserCount = int32(activeCount(follows))
	now := metav1.NewTime(r.now())
	ec.Status.LastSyncTime = &now
	ec.Status.ObservedGeneration = ec.Generation
	if ev := ec.Spec.LastEvent; newEvent {
		ec.Status.LastEvent = &wecomv1alpha1.EventRecord{ChangeType: ev.ChangeType, Time: ev.Time, UserID: ev.UserID}
		if ev.ChangeType == wecomv1alpha1.ChangeTransferFail {
			ec.Status.LastTransferFailure = &wecomv1alpha1.TransferFailure{UserID: ev.UserID, Reason: ev.FailReason, Time: ev.Time}
			r.event(ec, corev1.EventTypeWarning, "TransferFailed", "Transfer to %s failed: %s", ev.UserID, ev.FailReason)
		}
	}
	setCond(&ec.Status.Conditions, wecomv1alpha1.ConditionReady, true, ReasonSynced, "synced from WeCom", ec.Generation)
	setBool(&ec.Status.Conditions, wecomv1alpha1.ConditionDeleted, gone, ReasonGone, retainedMessage, ec.Generation)
	if err := r.Status().Patch(ctx, ec, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("patch contact status: %w", err)
	}
	r.transitionEvent(before, ec)
	return ctrl.Result{}, nil
}

// followUsers merges WeCom's answer with what the event says. WeCom's
// answer right after a deletion may still list the member, so the event wins
// for the member it names.
func (r *ExternalContactReconciler) followUsers(ec *wecomv1alpha1.ExternalContact, detail *wecom.ContactDetail, newEvent bool) []wecomv1alpha1.FollowUser {
	prev := map[string]wecomv1alpha1.FollowUser{}
	for _, f := range ec.Status.FollowUsers {
		prev[f.UserID] = f
	}
	var ev *wecomv1alpha1.ContactEvent
	if newEvent {
		ev = ec.Spec.LastEvent
	}
	var out []wecomv1alpha1.FollowUser
	seen := map[string]bool{}
	if detail != nil {
		for i := range detail.FollowUsers {
			f := FollowUserFrom(&detail.FollowUsers[i], nil)
			if ev != nil && ev.ChangeType == wecomv1alpha1.ChangeDelExternalContact && ev.UserID == f.UserID {
				continue
			}
			if p, ok := prev[f.UserID]; ok && p.RelationState == wecomv1alpha1.RelationDeletedByCustomer && !readds(ev, f.UserID) {
				f.RelationState = wecomv1alpha1.RelationDeletedByCustomer
			}
			seen[f.UserID] = true
			out = append(out, f)
		}
	}
	if ev != nil && ev.ChangeType == wecomv1alpha1.ChangeDelFollowUser && ev.UserID != "" {
		marked := false
		for i := range out {
			if out[i].UserID == ev.UserID {
				out[i].RelationState, marked = wecomv1alpha1.RelationDeletedByCustomer, true
			}
		}
		if !marked {
			f := prev[ev.UserID]
			f.UserID, f.RelationState = ev.UserID, wecomv1alpha1.RelationDeletedByCustomer
			out = append(out, f)
			seen[f.UserID] = true
		}
	}
	if activeCount(out) == 0 {
		// Gone: keep the last known relations (for Retain), marked ended.
		var unseen []wecomv1alpha1.FollowUser
		for _, p := range ec.Status.FollowUsers {
			if !seen[p.UserID] {
				unseen = append(unseen, p)
			}
		}
		out = append(out, endRelations(unseen)...)
	}
	return out
}

func readds(ev *wecomv1alpha1.ContactEvent, userID string) bool {
	return ev != nil && ev.UserID == userID &&
		(ev.ChangeType == wecomv1alpha1.ChangeAddExternalContact || ev.ChangeType == wecomv1alpha1.ChangeAddHalfExternalContact)
}

// setNotReady records a failure; it writes only when something changed, so
// retries do not cost API-server writes.
func (r *ExternalContactReconciler) setNotReady(ctx context.Context, ec *wecomv1alpha1.ExternalContact, reason, message string) error {
	before := ec.DeepCopy()
	setCond(&ec.Status.Conditions, wecomv1alpha1.ConditionReady, false, reason, message, ec.Generation)
	if apimeta.IsStatusConditionPresentAndEqual(before.Status.Conditions, wecomv1alpha1.ConditionReady, metav1.ConditionFalse) &&
		apimeta.FindStatusCondition(before.Status.Conditions, wecomv1alpha1.ConditionReady).Reason == reason {
		return nil
	}
	if err := r.Status().Patch(ctx, ec, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch contact status: %w", err)
	}
	r.transitionEvent(before, ec)
	return nil
}

// transitionEvent emits an event when Ready changes: no event per sync,
// and none for the first successful sync (not news).
func (r *ExternalContactReconciler) transitionEvent(before, after *wecomv1alpha1.ExternalContact) {
	if c := readyTransition(before.Status.Conditions, after.Status.Conditions, false); c != nil {
		r.event(after, eventType(c), c.Reason, "%s", c.Message)
	}
}

func (r *ExternalContactReconciler) event(obj *wecomv1alpha1.ExternalContact, kind, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, kind, reason, "Sync", format, args...)
	}
}

func (r *ExternalContactReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the controller. New and changed contacts are
// queued after the coalescing window; a WeComApp whose readiness changes
// re-queues its contacts.
func (r *ExternalContactReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("externalcontact").
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Watches(&wecomv1alpha1.ExternalContact{}, r.contactHandler()).
		Watches(&wecomv1alpha1.WeComApp{}, handler.EnqueueRequestsFromMapFunc(r.contactsOfApp),
			builder.WithPredicates(readinessChanged())).
		Complete(r)
}

// contactHandler queues a contact when it is created or its spec (an event)
// changes, after the coalescing window; status writes do not re-queue.
func (r *ExternalContactReconciler) contactHandler() handler.TypedEventHandler[client.Object, reconcile.Request] {
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
		if r.CoalesceWindow > 0 {
			q.AddAfter(req, r.CoalesceWindow)
		} else {
			q.Add(req)
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() {
				add(q, e.ObjectNew)
			}
		},
	}
}

// contactsOfApp re-queues an app's contacts when the app's readiness
// changed (they say AppNotReady, or can sync again).
func (r *ExternalContactReconciler) contactsOfApp(ctx context.Context, o client.Object) []reconcile.Request {
	appReady := r.appReady(ctx, o)
	var reqs []reconcile.Request
	err := r.Contacts.Each(ctx, o.GetNamespace(), o.GetName(), func(ec *wecomv1alpha1.ExternalContact) bool {
		if needsApp(ec, appReady) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(ec)})
		}
		return true
	})
	if err != nil {
		log.FromContext(ctx).Error(err, "list contacts of app")
	}
	return reqs
}

// appReady says whether the app the watch delivered is usable: Ready, not
// being deleted, and still there (a deletion delivers the last state).
func (r *ExternalContactReconciler) appReady(ctx context.Context, o client.Object) bool {
	app, ok := o.(*wecomv1alpha1.WeComApp)
	if !ok || app.DeletionTimestamp != nil || !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
		return false
	}
	return !apierrors.IsNotFound(r.Get(ctx, client.ObjectKeyFromObject(app), &wecomv1alpha1.WeComApp{}))
}

// needsApp says whether an app change concerns the contact: only contacts
// whose Ready state disagrees with the app's are queued, so an app status
// update does not fan out to 10^5 no-op reconciles.
func needsApp(ec *wecomv1alpha1.ExternalContact, appReady bool) bool {
	c := apimeta.FindStatusCondition(ec.Status.Conditions, wecomv1alpha1.ConditionReady)
	if appReady {
		return c == nil || c.Status != metav1.ConditionTrue
	}
	return c == nil || c.Reason != ReasonAppNotReady
}

// readinessChanged passes app creations, deletions and changes of Ready.
func readinessChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, okOld := e.ObjectOld.(*wecomv1alpha1.WeComApp)
			n, okNew := e.ObjectNew.(*wecomv1alpha1.WeComApp)
			if !okOld || !okNew {
				return true
			}
			return apimeta.IsStatusConditionTrue(o.Status.Conditions, wecomv1alpha1.ConditionReady) !=
				apimeta.IsStatusConditionTrue(n.Status.Conditions, wecomv1alpha1.ConditionReady) ||
				(o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil)
		},
	}
}
