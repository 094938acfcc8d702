// Package manager assembles wecom-operator: the controller-runtime manager,
// its cache settings, the callback server and the reconcilers. main.go, the
// integration tests and the local demo all start the product through it, so
// they run the same wiring.
package manager

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/controllers"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
	"github.com/wecom-operator/wecom-operator/webhook"
)

// Options are the manager's settings; each has a flag.
type Options struct {
	MetricsBindAddress      string
	HealthProbeBindAddress  string
	PprofBindAddress        string
	LeaderElect             bool
	LeaderElectionNamespace string
	CallbackBindAddress     string
	WeComAPIBaseURL         string
	MaxConcurrentReconciles int
	MaxConcurrentResyncs    int
	WatchNamespaces         string
	WeComRatePerSecond      float64
	EventCoalesceWindow     time.Duration
	EnrichmentRateUnderLoad float64
	Callback                webhook.Config
	// WeCom, if set, adjusts the API client's options (tests).
	WeCom func(*wecom.Options)
	// MultipleInProcess allows several managers in one process (tests
	// start one after another; controller names would otherwise clash).
	MultipleInProcess bool
}

// DefaultOptions returns the defaults of every flag.
func DefaultOptions() Options {
	return Options{
		MetricsBindAddress:      ":8080",
		HealthProbeBindAddress:  ":8081",
		CallbackBindAddress:     ":9292",
		WeComAPIBaseURL:         "https://qyapi.weixin.qq.com",
		MaxConcurrentReconciles: 4,
		MaxConcurrentResyncs:    2,
		WeComRatePerSecond:      100,
		EventCoalesceWindow:     time.Second,
		EnrichmentRateUnderLoad: 20,
		Callback:                webhook.DefaultConfig(),
	}
}

// BindFlags registers the options as command-line flags.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of the Prometheus metrics endpoint; 0 disables it.")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address of /healthz and /readyz.")
	fs.StringVar(&o.PprofBindAddress, "pprof-bind-address", o.PprofBindAddress, "Address of the Go profiling endpoints (/debug/pprof/); empty disables them. Keep it off public interfaces.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader to run the reconcilers; every replica serves callbacks.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.StringVar(&o.CallbackBindAddress, "callback-bind-address", o.CallbackBindAddress, "Address of the WeCom callback server.")
	fs.StringVar(&o.WeComAPIBaseURL, "wecom-api-base-url", o.WeComAPIBaseURL, "Base URL of the WeCom REST API.")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "Workers per reconciler.")
	fs.IntVar(&o.MaxConcurrentResyncs, "max-concurrent-resyncs", o.MaxConcurrentResyncs, "Apps resynced at the same time.")
	fs.Float64Var(&o.WeComRatePerSecond, "wecom-rate-limit", o.WeComRatePerSecond, "WeCom API calls per second per corp (WeCom allows 10,000 a minute per API).")
	fs.DurationVar(&o.EventCoalesceWindow, "event-coalesce-window", o.EventCoalesceWindow, "Wait this long after a contact's event before syncing it, so a burst costs one WeCom call.")
	fs.Float64Var(&o.EnrichmentRateUnderLoad, "enrichment-rate-under-load", o.EnrichmentRateUnderLoad, "Contact syncs per second while callbacks are being acknowledged (acks first); 0 never slows down.")
	fs.StringVar(&o.WatchNamespaces, "watch-namespaces", o.WatchNamespaces, "Comma-separated namespaces to watch; empty watches all.")
	fs.DurationVar(&o.Callback.ReplayWindow, "callback-replay-window", o.Callback.ReplayWindow, "Callbacks whose timestamp is further than this from now are rejected; 0 disables the check.")
	fs.Int64Var(&o.Callback.MaxBodyBytes, "callback-max-body-bytes", o.Callback.MaxBodyBytes, "Largest callback body accepted.")
	fs.DurationVar(&o.Callback.RotationGrace, "key-rotation-grace", o.Callback.RotationGrace, "How long the callback server keeps accepting a token or EncodingAESKey after the Secret replaced it.")
}

// Manager is the assembled product.
type Manager struct {
	ctrl.Manager
	Callback *webhook.Server
}

// New builds the manager, the callback server and the reconcilers.
func New(cfg *rest.Config, scheme *runtime.Scheme, o Options) (*Manager, error) {
	cacheOpts := cache.Options{
		// At 10^5 contacts managedFields would be most of the cache.
		DefaultTransform: cache.TransformStripManagedFields(),
		// Contacts are most of the cache: keep only what the reconcilers read.
		ByObject: map[client.Object]cache.ByObject{
			&wecomv1alpha1.ExternalContact{}: {Transform: controllers.CompactContact},
		},
	}
	if ns := splitNamespaces(o.WatchNamespaces); len(ns) > 0 {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, n := range ns {
			cacheOpts.DefaultNamespaces[n] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:        o.HealthProbeBindAddress,
		PprofBindAddress:              o.PprofBindAddress,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "wecom-operator.wecom.dev",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Client: client.Options{Cache: &client.CacheOptions{
			// Never read Secrets through the cache: reads are live.
			DisableFor: []client.Object{&corev1.Secret{}},
		}},
		GracefulShutdownTimeout: ptr.To(30 * time.Second),
		Controller:              config.Controller{SkipNameValidation: ptr.To(o.MultipleInProcess)},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	creds := credentials.NewCache(mgr.GetCache(), mgr.GetAPIReader())
	srv, err := webhook.NewServer(mgr, creds, o.CallbackBindAddress, o.Callback)
	if err != nil {
		return nil, fmt.Errorf("callback server: %w", err)
	}
	if err := mgr.Add(srv); err != nil {
		return nil, fmt.Errorf("add callback server: %w", err)
	}
	wo := wecom.DefaultOptions(o.WeComAPIBaseURL)
	wo.Observe = controllers.ObserveWeComCall
	if o.WeComRatePerSecond > 0 {
		wo.RatePerSecond = o.WeComRatePerSecond
	}
	if o.WeCom != nil {
		o.WeCom(&wo)
	}
	api := wecom.New(wo)
	recorder := mgr.GetEventRecorder("wecom-operator")
	contacts, err := controllers.SetupIndexes(mgr)
	if err != nil {
		return nil, err
	}
	if err := (&controllers.WeComAppReconciler{
		Client:   mgr.GetClient(),
		Creds:    creds,
		Contacts: contacts,
		Recorder: recorder,
		Tokens:   &controllers.WeComTokens{Client: api},
	}).SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("set up WeComApp controller: %w", err)
	}
	if err := (&controllers.ExternalContactReconciler{
		Client:         mgr.GetClient(),
		Creds:          creds,
		Contacts:       contacts,
		WeCom:          api,
		Recorder:       recorder,
		CoalesceWindow: o.EventCoalesceWindow,
		Yield:          yieldTo(srv, o.EnrichmentRateUnderLoad),
	}).SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return nil, fmt.Errorf("set up ExternalContact controller: %w", err)
	}
	if err := (&controllers.ResyncReconciler{
		Client:   mgr.GetClient(),
		Creds:    creds,
		Contacts: contacts,
		WeCom:    api,
		Recorder: recorder,
	}).SetupWithManager(mgr, o.MaxConcurrentResyncs); err != nil {
		return nil, fmt.Errorf("set up resync controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add healthz: %w", err)
	}
	if err := mgr.AddReadyzCheck("callback", srv.ReadyCheck); err != nil {
		return nil, fmt.Errorf("add readyz: %w", err)
	}
	return &Manager{Manager: mgr, Callback: srv}, nil
}

func splitNamespaces(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// yieldTo slows enrichment to perSecond while the callback server is busy,
// so a burst of callbacks is acknowledged at the API server's full speed
// and the backlog of syncs follows afterwards.
func yieldTo(srv *webhook.Server, perSecond float64) func(context.Context) error {
	if perSecond <= 0 {
		return nil
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	return func(ctx context.Context) error {
		if !srv.Busy() {
			return nil
		}
		return lim.Wait(ctx)
	}
}
