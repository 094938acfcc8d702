package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	utilcache "k8s.io/apimachinery/pkg/util/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/credentials"
)

// Server is the callback HTTP server. It is a manager runnable that does not
// need leader election: every replica serves callbacks.
type Server struct {
	cfg    Config
	ln     net.Listener
	srv    *http.Server
	cache  cache.Cache
	apps   client.Reader
	writer client.Client
	keys   *keyStore
	seen   *utilcache.LRUExpireCache
	log    logr.Logger
	ready  atomic.Bool
	// inFlight counts callbacks being handled; Busy reports it.
	inFlight atomic.Int64

	touchMu sync.Mutex
	touched map[types.NamespacedName]time.Time
}

var _ manager.LeaderElectionRunnable = (*Server)(nil)

// NewServer binds addr (so a port conflict fails at start-up) and wires the
// server to the manager's cache and clients.
func NewServer(mgr ctrl.Manager, creds *credentials.Cache, addr string, cfg Config) (*Server, error) {
	cfg.defaults()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s := &Server{
		cfg:     cfg,
		ln:      ln,
		cache:   mgr.GetCache(),
		apps:    mgr.GetCache(),
		writer:  mgr.GetClient(),
		keys:    newKeyStore(creds, cfg.RotationGrace, cfg.Now),
		seen:    utilcache.NewLRUExpireCache(cfg.DedupeSize),
		log:     mgr.GetLogger().WithName("callback"),
		touched: map[types.NamespacedName]time.Time{},
	}
	s.srv = &http.Server{
		Handler: s,
		// Slow or huge clients cannot hold the server: headers within 5 s,
		// the whole body within 10 s, at most 16 KiB of headers.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// NeedLeaderElection is false: callbacks are served by every replica.
func (s *Server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then drains in-flight requests.
func (s *Server) Start(ctx context.Context) error {
	go s.markReadyWhenSynced(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.log.Info("serving WeCom callbacks", "address", s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("callback server: %w", err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down callback server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// markReadyWhenSynced starts (if needed) and waits for the informers the
// handler reads, so a fresh pod never answers a real callback with 404.
func (s *Server) markReadyWhenSynced(ctx context.Context) {
	for _, obj := range []client.Object{&wecomv1alpha1.WeComApp{}, credentials.SecretMetadata()} {
		inf, err := s.cache.GetInformer(ctx, obj)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error(err, "start informer for the callback server")
			}
			return
		}
		if !inf.HasSynced() && !s.cache.WaitForCacheSync(ctx) {
			return
		}
	}
	s.ready.Store(true)
	s.log.Info("callback server ready")
}

// Busy says whether callbacks are being handled right now. The contact
// reconciler slows down while it is true, so enrichment yields the CPU
// and the API server to acknowledgements during a burst.
func (s *Server) Busy() bool { return s.inFlight.Load() > 0 }

// ReadyCheck is the readyz check: false until the caches have synced.
func (s *Server) ReadyCheck(_ *http.Request) error {
	if !s.ready.Load() {
		return errors.New("callback server caches not synced")
	}
	return nil
}
