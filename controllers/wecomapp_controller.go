package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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
	"github.com/wecom-operator/wecom-operator/webhook"
)

// Field index names.
const (
	// IndexSecretRef indexes WeComApps by spec.secretRef.name, so a Secret
	// change finds its apps at once.
	IndexSecretRef = "spec.secretRef.name"
)

// Condition reasons of a WeComApp.
const (
	ReasonReady         = "Ready"
	ReasonTokenRejected = "TokenRejected"
	ReasonProgressing   = "Progressing"
)

// TokenVerifier proves a corp secret by obtaining an access token.
type TokenVerifier interface {
	// VerifyToken returns nil, or an error whose Reason (see TokenError)
	// says why WeCom refused.
	VerifyToken(ctx context.Context, corpID, corpSecret string) error
}

// WeComAppReconciler validates a WeComApp's credentials and reports them in
// its status, with the webhook path and the number of contacts.
type WeComAppReconciler struct {
	client.Client
	// Creds reads the app's Secret (metadata watch, live read on change).
	Creds    *credentials.Cache
	Contacts *ContactIndex
	Recorder events.EventRecorder
	// Tokens, when set, proves the corp secret against WeCom.
	Tokens TokenVerifier
	// CountInterval bounds how often contact churn recounts (default 5s).
	CountInterval time.Duration
}

// +kubebuilder:rbac:groups=wecom.dev,resources=wecomapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=wecom.dev,resources=wecomapps/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=wecom.dev,resources=externalcontacts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=wecom.dev,resources=externalcontacts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one WeComApp's status up to date.
func (r *WeComAppReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	app := &wecomv1alpha1.WeComApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := app.DeepCopy()
	app.Status.WebhookPath = webhook.PathFor(app.Namespace, app.Name)
	app.Status.ObservedGeneration = app.Generation

	count, err := r.countContacts(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	app.Status.Contacts = count

	ready, reason, message, retryErr := r.check(ctx, app)
	r.setReady(app, ready, reason, message)
	owned := appStatusOwned{ObservedGeneration: app.Generation, WebhookPath: app.Status.WebhookPath, Contacts: count}
	for _, t := range []string{wecomv1alpha1.ConditionReady, wecomv1alpha1.ConditionStalled, wecomv1alpha1.ConditionReconciling} {
		if c := apimeta.FindStatusCondition(app.Status.Conditions, t); c != nil {
			owned.Conditions = append(owned.Conditions, *c)
		}
	}
	if !equality.Semantic.DeepEqual(before.Status, app.Status) {
		if err := applyAppStatus(ctx, r.Client, app, AppFieldManager, &owned); err != nil {
			return ctrl.Result{}, err
		}
	}
	r.eventOnTransition(before, app)
	return ctrl.Result{}, retryErr
}

// appStatusOwned is the part of a WeComApp's status this controller owns.
type appStatusOwned struct {
	ObservedGeneration int64              `json:"observedGeneration"`
	WebhookPath        string             `json:"webhookPath"`
	Contacts           int64              `json:"contacts"`
	Conditions         []metav1.Condition `json:"conditions"`
}

// check validates the credentials. retryErr is set for transient failures
// (the API server, the network), which back off; configuration errors do
// not retry: the Secret watch brings the app back when it is fixed.
func (r *WeComAppReconciler) check(ctx context.Context, app *wecomv1alpha1.WeComApp) (bool, string, string, error) {
	creds, err := r.Creds.Get(ctx, app)
	if reason := credentials.ReasonOf(err); reason != "" {
		return false, reason, err.Error(), nil
	}
	if err != nil {
		return false, ReasonProgressing, "reading credentials: " + err.Error(), err
	}
	if r.Tokens != nil {
		if err := r.Tokens.VerifyToken(ctx, app.Spec.CorpID, creds.CorpSecret); err != nil {
			if te, ok := AsTokenError(err); ok {
				return false, ReasonTokenRejected, te.Error(), nil
			}
			return false, ReasonProgressing, "obtaining an access token: " + err.Error(), err
		}
	}
	return true, ReasonReady, "credentials valid; callbacks accepted at " + app.Status.WebhookPath, nil
}

// TokenError is WeCom refusing a corp secret (a configuration error).
type TokenError struct {
	ErrCode int
	Message string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("WeCom rejected the corp secret: errcode %d (%s)", e.ErrCode, e.Message)
}

// AsTokenError unwraps a *TokenError.
func AsTokenError(err error) (*TokenError, bool) {
	var te *TokenError
	ok := errors.As(err, &te)
	return te, ok
}

func (r *WeComAppReconciler) setReady(app *wecomv1alpha1.WeComApp, ready bool, reason, message string) {
	setCond(&app.Status.Conditions, wecomv1alpha1.ConditionReady, ready, reason, message, app.Generation)
	stalled := !ready && reason != ReasonProgressing
	setBool(&app.Status.Conditions, wecomv1alpha1.ConditionStalled, stalled, reason, message, app.Generation)
	setBool(&app.Status.Conditions, wecomv1alpha1.ConditionReconciling, !ready && !stalled, reason, message, app.Generation)
}

func (r *WeComAppReconciler) eventOnTransition(before, after *wecomv1alpha1.WeComApp) {
	if c := readyTransition(before.Status.Conditions, after.Status.Conditions, true); c != nil && r.Recorder != nil {
		r.Recorder.Eventf(after, nil, eventType(c), c.Reason, "Validate", "%s", c.Message)
	}
}

// countContacts counts the app's contacts in the informer's index.
func (r *WeComAppReconciler) countContacts(ctx context.Context, app *wecomv1alpha1.WeComApp) (int64, error) {
	n, err := r.Contacts.Count(ctx, app.Namespace, app.Name)
	return int64(n), err
}

// SetupIndexes registers the indexes the controllers use (WeComApps by
// Secret, contacts by app); call it once before setting them up.
func SetupIndexes(mgr ctrl.Manager) (*ContactIndex, error) {
	ctx := context.Background()
	if err := mgr.GetFieldIndexer().IndexField(ctx, &wecomv1alpha1.WeComApp{}, IndexSecretRef, func(o client.Object) []string {
		return []string{o.(*wecomv1alpha1.WeComApp).Spec.SecretRef.Name}
	}); err != nil {
		return nil, fmt.Errorf("index WeComApps by Secret: %w", err)
	}
	return NewContactIndex(mgr.GetCache()), nil
}

// SetupWithManager registers the controller and its watches.
func (r *WeComAppReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	// Contact creations and deletions refresh the app's count at most every
	// CountInterval: a burst of 10^4 new contacts must not become 10^4 app
	// reconciles, each listing every contact.
	countAfter := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object) {
		if ec, ok := o.(*wecomv1alpha1.ExternalContact); ok {
			q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: o.GetNamespace(), Name: ec.Spec.AppRef.Name}}, r.countInterval())
		}
	}
	contactToApp := handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			countAfter(q, e.Object)
		},
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			countAfter(q, e.Object)
		},
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&wecomv1alpha1.WeComApp{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.appsForSecret)).
		// Only creations and deletions change the count. The contact
		// informer is the one the contact controller uses: no second copy.
		Watches(&wecomv1alpha1.ExternalContact{}, contactToApp).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Named("wecomapp").
		Complete(r)
}

func (r *WeComAppReconciler) appsForSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var apps wecomv1alpha1.WeComAppList
	if err := r.List(ctx, &apps, client.InNamespace(o.GetNamespace()), client.MatchingFields{IndexSecretRef: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "list WeComApps for Secret")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(apps.Items))
	for _, a := range apps.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&a)})
	}
	return reqs
}

func (r *WeComAppReconciler) countInterval() time.Duration {
	if r.CountInterval > 0 {
		return r.CountInterval
	}
	return 5 * time.Second
}
