package controllers

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
)

// DefaultResyncInterval applies when spec.resyncInterval is unset.
const DefaultResyncInterval = 24 * time.Hour

// ResyncReconciler heals what callbacks missed: on a schedule
// (spec.resyncInterval) and on demand (the wecom.dev/resync-requested-at
// annotation), it walks every contact WeCom holds for the app and makes the
// ExternalContacts match. A walk interrupted by a leader change leaves the
// Resyncing condition set; the next leader sees it and starts over (every
// write is idempotent, so a restart creates no duplicates).
type ResyncReconciler struct {
	client.Client
	Creds    *credentials.Cache
	Contacts *ContactIndex
	WeCom    *wecom.Client
	Recorder events.EventRecorder
	Now      func() time.Time
	// MaxRateLimitWait bounds how long one resync waits out 45009 blocks
	// before it gives up as incomplete.
	MaxRateLimitWait time.Duration
}

// Reconcile runs a resync of one app when one is due.
func (r *ResyncReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	app := &wecomv1alpha1.WeComApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if app.DeletionTimestamp != nil || !apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) {
		return ctrl.Result{}, nil // the Ready transition brings it back
	}
	due, wait, requested := r.due(app)
	if !due {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	creds, err := r.Creds.Get(ctx, app)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("credentials: %w", err)
	}
	start := metav1.NewTime(r.now())
	res := &wecomv1alpha1.ResyncResult{StartTime: start}
	if err := r.applyStatus(ctx, app, res, requested, true, "resync started"); err != nil {
		return ctrl.Result{}, err
	}
	w := &walk{r: r, app: app, creds: wecom.Creds{CorpID: app.Spec.CorpID, Secret: creds.CorpSecret}, res: res, start: start.Time}
	walkErr := w.run(ctx)
	releaseMemory(res)
	end := metav1.NewTime(r.now())
	res.CompletionTime = &end
	msg := fmt.Sprintf("seen %d, created %d, updated %d, deleted %d, failed %d", res.Seen, res.Created, res.Updated, res.Deleted, res.Failed)
	if walkErr != nil {
		res.Message = walkErr.Error()
		r.event(app, corev1.EventTypeWarning, "ResyncIncomplete", "Resync incomplete (nothing deleted): %s; %s", res.Message, msg)
	} else {
		r.event(app, corev1.EventTypeNormal, "ResyncComplete", "Resync complete: %s", msg)
	}
	if err := r.applyStatus(ctx, app, res, requested, false, msg); err != nil {
		return ctrl.Result{}, err
	}
	if ctx.Err() != nil {
		return ctrl.Result{}, ctx.Err()
	}
	if walkErr != nil {
		log.FromContext(ctx).Info("resync incomplete", "reason", walkErr.Error())
		return ctrl.Result{RequeueAfter: retryAfter(walkErr)}, nil
	}
	_, wait, _ = r.due(app)
	return ctrl.Result{RequeueAfter: wait}, nil
}

// bulkWrites is how many contact writes make a resync a bulk import.
const bulkWrites = 1000

// releaseMemory returns the heap a bulk resync used for its garbage to the
// operating system at once (one forced collection), instead of over the
// minutes the background scavenger takes: the pod's working set falls back
// to what the cache holds.
func releaseMemory(res *wecomv1alpha1.ResyncResult) {
	if res.Created+res.Updated+res.Deleted >= bulkWrites {
		debug.FreeOSMemory()
	}
}

// due says whether a resync should run now, else how long until one is due.
// requested is the annotation value to record as handled.
func (r *ResyncReconciler) due(app *wecomv1alpha1.WeComApp) (bool, time.Duration, string) {
	requested := app.Annotations[wecomv1alpha1.AnnotationResyncRequestedAt]
	if requested != "" && requested != app.Status.LastHandledResyncRequest {
		return true, 0, requested
	}
	if interrupted(app) {
		return true, 0, requested // a leader died mid-walk: start over
	}
	interval := DefaultResyncInterval
	if app.Spec.ResyncInterval != nil {
		interval = app.Spec.ResyncInterval.Duration
	}
	if interval <= 0 {
		return false, 0, requested
	}
	last := app.Status.LastResyncTime
	if app.Status.LastResync != nil && app.Status.LastResync.CompletionTime != nil {
		last = app.Status.LastResync.CompletionTime // incomplete ones count too: no hot loop
	}
	if last == nil {
		return true, 0, requested
	}
	if wait := last.Add(interval).Sub(r.now()); wait > 0 {
		return false, wait, requested
	}
	return true, 0, requested
}

// interrupted says a resync was started and never finished: Resyncing is
// set and no completion is recorded after it began.
func interrupted(app *wecomv1alpha1.WeComApp) bool {
	c := apimeta.FindStatusCondition(app.Status.Conditions, wecomv1alpha1.ConditionResyncing)
	if c == nil || c.Status != metav1.ConditionTrue {
		return false
	}
	last := app.Status.LastResync
	return last == nil || last.CompletionTime == nil || last.CompletionTime.Before(&c.LastTransitionTime)
}

// resyncStatusOwned is the part of a WeComApp's status resync owns.
type resyncStatusOwned struct {
	Conditions               []metav1.Condition          `json:"conditions"`
	LastResync               *wecomv1alpha1.ResyncResult `json:"lastResync,omitempty"`
	LastResyncTime           *metav1.Time                `json:"lastResyncTime,omitempty"`
	LastHandledResyncRequest string                      `json:"lastHandledResyncRequest,omitempty"`
}

func (r *ResyncReconciler) applyStatus(ctx context.Context, app *wecomv1alpha1.WeComApp, res *wecomv1alpha1.ResyncResult, requested string, running bool, msg string) error {
	owned := resyncStatusOwned{LastResync: res, LastResyncTime: app.Status.LastResyncTime, LastHandledResyncRequest: requested}
	if !running && res.Complete {
		owned.LastResyncTime = res.CompletionTime
	}
	if running {
		c := metav1.Condition{Type: wecomv1alpha1.ConditionResyncing, Status: metav1.ConditionTrue, Reason: "Resyncing",
			Message: msg, ObservedGeneration: app.Generation, LastTransitionTime: metav1.NewTime(r.now())}
		owned.Conditions = []metav1.Condition{c}
	} else {
		owned.Conditions = []metav1.Condition{}
	}
	if err := applyAppStatus(ctx, r.Client, app, ResyncFieldManager, &owned); err != nil {
		return err
	}
	app.Status.LastResync, app.Status.LastHandledResyncRequest = res, requested
	app.Status.LastResyncTime = owned.LastResyncTime
	if running {
		apimeta.SetStatusCondition(&app.Status.Conditions, owned.Conditions[0])
	} else {
		apimeta.RemoveStatusCondition(&app.Status.Conditions, wecomv1alpha1.ConditionResyncing)
	}
	return nil
}

func retryAfter(err error) time.Duration {
	if rl, ok := wecom.AsRateLimited(err); ok {
		return rl.RetryAfter
	}
	return 5 * time.Minute
}

func (r *ResyncReconciler) event(app *wecomv1alpha1.WeComApp, kind, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(app, nil, kind, reason, "Resync", format, args...)
	}
}

func (r *ResyncReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// SetupWithManager registers the resync controller: one resync per app at
// a time, up to workers apps at once.
func (r *ResyncReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("resync").
		For(&wecomv1alpha1.WeComApp{}, builder.WithPredicates(resyncTriggers())).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// resyncTriggers passes creations, spec changes, a changed resync
// annotation and the app becoming Ready; not the resync's own status writes.
func resyncTriggers() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, okOld := e.ObjectOld.(*wecomv1alpha1.WeComApp)
			n, okNew := e.ObjectNew.(*wecomv1alpha1.WeComApp)
			if !okOld || !okNew {
				return false
			}
			return o.Generation != n.Generation ||
				o.Annotations[wecomv1alpha1.AnnotationResyncRequestedAt] != n.Annotations[wecomv1alpha1.AnnotationResyncRequestedAt] ||
				apimeta.IsStatusConditionTrue(o.Status.Conditions, wecomv1alpha1.ConditionReady) !=
					apimeta.IsStatusConditionTrue(n.Status.Conditions, wecomv1alpha1.ConditionReady)
		},
		DeleteFunc: func(event.DeleteEvent) bool { return false },
	}
}
