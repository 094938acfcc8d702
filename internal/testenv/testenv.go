// Package testenv starts the real control plane (kube-apiserver and etcd
// built by `make envtest-bins` into bin/k8s) with the repository's CRDs, for
// integration tests. A missing binary is a test failure with the command to
// fix it, never a skip.
package testenv

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

// Env is a running control plane.
type Env struct {
	Environment *envtest.Environment
	Config      *rest.Config
	Client      client.Client
	Scheme      *k8sruntime.Scheme
	// Kubeconfig is the path of a kubeconfig file for kubectl and binaries.
	Kubeconfig string
	dir        string
}

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Scheme returns a scheme with the built-in kinds and ours.
func Scheme() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := wecomv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Start starts kube-apiserver and etcd and installs the CRDs. Logs of the
// code under test go to stderr when WECOM_TEST_LOG is set (1 = info, 2 =
// debug) and are discarded otherwise.
func Start() (*Env, error) { return StartWith(Options{InstallCRDs: true}) }

// Options choose what Start sets up.
type Options struct {
	// InstallCRDs installs config/crd/bases (tests that install the Helm
	// chart leave it to the chart).
	InstallCRDs bool
}

// StartWith starts kube-apiserver and etcd as o says.
func StartWith(o Options) (*Env, error) {
	setLogger()
	root := RepoRoot()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run `make envtest-bins` (make test does it for you): %w", b, assets, err)
		}
	}
	scheme := Scheme()
	dir, err := os.MkdirTemp("", "wecom-envtest-")
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		Scheme:                   scheme,
		ControlPlaneStartTimeout: 2 * time.Minute,
		// A graceful stop with watches open can take a minute; past 10 s
		// the process is killed (outage tests want it gone, not draining).
		ControlPlaneStopTimeout: 10 * time.Second,
	}
	if o.InstallCRDs {
		te.CRDDirectoryPaths = []string{filepath.Join(root, "config", "crd", "bases")}
		te.ErrorIfCRDPathMissing = true
	}
	// A fixed certificate directory keeps the serving certificate across an
	// API server restart (fault tests), so clients reconnect.
	certDir := filepath.Join(dir, "apiserver")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return nil, err
	}
	te.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir}
	cfg, err := te.Start()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	env := &Env{Environment: te, Config: cfg, Scheme: scheme, dir: dir}
	if err := env.finish(); err != nil {
		_ = te.Stop()
		return nil, err
	}
	return env, nil
}

func (e *Env) finish() error {
	c, err := client.New(e.Config, client.Options{Scheme: e.Scheme})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	e.Client = c
	user, err := e.Environment.AddUser(envtest.User{Name: "envtest-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	return os.WriteFile(e.Kubeconfig, kc, 0o600)
}

// StopAPIServer stops kube-apiserver only (etcd keeps the data); if it does
// not stop within 10 s it is killed.
func (e *Env) StopAPIServer() error {
	err := e.Environment.ControlPlane.APIServer.Stop()
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") {
		return nil // killed after the timeout: stopped all the same
	}
	return err
}

// StartAPIServer starts kube-apiserver again on the same address and
// certificates.
func (e *Env) StartAPIServer() error { return e.Environment.ControlPlane.APIServer.Start() }

// Stop stops the control plane and removes temporary files.
func (e *Env) Stop() error {
	err := e.Environment.Stop()
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// RunTests is a TestMain body: it starts the control plane, calls setup (if
// any), runs the tests, cleans up and exits with the tests' code. A control
// plane that cannot start fails the package; it is never skipped.
func RunTests(m interface{ Run() int }, env **Env, setup func(*Env) (cleanup func(), err error)) {
	RunTestsWith(Options{InstallCRDs: true}, m, env, setup)
}

// RunTestsWith is RunTests with options.
func RunTestsWith(o Options, m interface{ Run() int }, env **Env, setup func(*Env) (cleanup func(), err error)) {
	if fuzzing() {
		// go test -fuzz runs only the fuzz target, in worker processes:
		// no control plane is needed (nor wanted once per worker).
		os.Exit(m.Run())
	}
	e, err := StartWith(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests need the control plane:", err)
		os.Exit(1)
	}
	*env = e
	cleanup := func() {}
	if setup != nil {
		if cleanup, err = setup(e); err != nil {
			fmt.Fprintln(os.Stderr, "test setup:", err)
			_ = e.Stop()
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop control plane:", err)
	}
	os.Exit(code)
}

// fuzzing says whether this test binary runs a fuzz target (-test.fuzz or
// a fuzz worker).
func fuzzing() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}
