package testenv

import (
	"context"
	"fmt"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/manager"
)

// Running is a manager started in-process.
type Running struct {
	*manager.Manager
	// CallbackURL is the base URL of the callback server.
	CallbackURL string
	cancel      context.CancelFunc
	done        chan error
}

// TestOptions are manager options for tests: every port on loopback, chosen
// by the kernel; metrics and probes off.
func TestOptions() manager.Options {
	o := manager.DefaultOptions()
	o.MetricsBindAddress = "0"
	o.HealthProbeBindAddress = "0"
	o.CallbackBindAddress = "127.0.0.1:0"
	o.WeComAPIBaseURL = "http://127.0.0.1:1" // nothing there unless a test sets a fake
	o.MultipleInProcess = true
	return o
}

// StartManager starts the product against the control plane and waits until
// the callback server is ready.
func (e *Env) StartManager(o manager.Options) (*Running, error) {
	m, err := manager.New(e.Config, e.Scheme, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Manager: m, CallbackURL: "http://" + m.Callback.Addr(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Start(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for m.Callback.ReadyCheck(nil) != nil {
		select {
		case err := <-r.done:
			cancel()
			return nil, fmt.Errorf("manager exited before it was ready: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, fmt.Errorf("manager not ready within 60s")
		}
	}
	return r, nil
}

// Stop stops the manager and waits for it to return.
func (r *Running) Stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		return err
	case <-time.After(60 * time.Second):
		return fmt.Errorf("manager did not stop within 60s")
	}
}
