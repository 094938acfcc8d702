// Package demo runs the whole product on one machine: the real control
// plane (kube-apiserver and etcd), the operator, and a simulated WeCom that
// holds a seeded corp and sends a realistic stream of encrypted callbacks
// through the real callback URL. `make demo` runs it; its once mode, which
// checks the final state, is also a test.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
	"github.com/wecom-operator/wecom-operator/webhook"
)

// The demo corp's identity: WeCom's published sample token and key;
// nothing here is a real credential.
const (
	Namespace = "demo"
	AppName   = "acme"
	CorpID    = "ww1436e0e65a779aee"
	Secret    = "demo-corp-secret"
	Token     = wecomfake.SampleToken
	AESKey    = wecomfake.SampleAESKey
)

// Options tune a run.
type Options struct {
	// Once exits after the stream, with an error when the final state is
	// not what the stream implies.
	Once bool
	// Out receives the narration (default os.Stdout).
	Out io.Writer
	// Contacts seeded in the fake corp.
	Contacts int
}

// Run runs the demo until ctx ends (or, with Once, until it is checked).
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Contacts <= 0 {
		o.Contacts = 36
	}
	n := &narrator{out: o.Out, start: time.Now()}
	logFile, err := os.CreateTemp("", "wecom-demo-*.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	testenv.LogWriter = logFile

	n.step("starting the local control plane (kube-apiserver v1.37.2 + etcd v3.6.16, CRDs installed)")
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() {
		n.step("stopping the control plane")
		_ = env.Stop()
		n.done()
	}()
	n.done()

	n.step("starting the simulated WeCom (corp %s, %d contacts, 4 members, tags)", CorpID, o.Contacts)
	corp := wecomfake.NewCorp(CorpID, Secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 4, Contacts: o.Contacts, MaxFollowsPerContact: 2, Seed: 2026})
	fake := wecomfake.NewServer(corp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fakeSrv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = fakeSrv.Serve(ln) }()
	defer fakeSrv.Close()
	fakeURL := "http://" + ln.Addr().String()
	n.done()

	n.step("starting wecom-operator (callback server, reconcilers, resync; logs in %s)", logFile.Name())
	opts := testenv.TestOptions()
	opts.WeComAPIBaseURL = fakeURL
	mgr, err := env.StartManager(opts)
	if err != nil {
		return err
	}
	defer func() {
		n.step("stopping wecom-operator")
		_ = mgr.Stop()
		n.done()
	}()
	n.done()

	d := &run{n: n, env: env, fake: fake, mgr: mgr}
	if err := d.setup(ctx); err != nil {
		return err
	}
	if err := d.stream(ctx); err != nil {
		return err
	}
	problems := d.converge(ctx)
	d.show()
	if o.Once {
		if len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintln(o.Out, "  ✗", p)
			}
			return fmt.Errorf("final state differs from what the stream implies (%d problems)", len(problems))
		}
		fmt.Fprintln(o.Out, "✓ final state matches what the stream implies")
		return nil
	}
	if len(problems) > 0 {
		fmt.Fprintf(o.Out, "! %d differences from the expected state (see above)\n", len(problems))
	}
	kc := d.kubeconfigCopy()
	fmt.Fprintf(o.Out, "\nExplore (the demo keeps running; Ctrl-C stops everything):\n\n  KUBECONFIG=%s kubectl get externalcontacts -n %s -o wide\n  KUBECONFIG=%s kubectl describe wecomapp %s -n %s\n\n", kc, Namespace, kc, AppName, Namespace)
	<-ctx.Done()
	fmt.Fprintln(o.Out)
	return nil
}

// run is the state of one demo.
type run struct {
	n      *narrator
	env    *testenv.Env
	fake   *wecomfake.Server
	mgr    *testenv.Running
	sender *wecomfake.Sender
	expect expectations
}

func (d *run) setup(ctx context.Context) error {
	d.n.step("creating namespace %q, the credentials Secret and WeComApp %q", Namespace, AppName)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: "acme-wecom"},
			StringData: map[string]string{"corpSecret": Secret, "token": Token, "encodingAESKey": AESKey}},
		&wecomv1alpha1.WeComApp{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: AppName},
			Spec: wecomv1alpha1.WeComAppSpec{CorpID: CorpID, SecretRef: wecomv1alpha1.SecretReference{Name: "acme-wecom"}}},
	}
	for _, o := range objs {
		if err := d.env.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s: %w", o.GetName(), err)
		}
	}
	d.n.done()
	d.n.step("waiting for the app to be Ready and the first resync to import the corp's contacts")
	err := poll(ctx, time.Minute, func() (bool, error) {
		app := &wecomv1alpha1.WeComApp{}
		if err := d.env.Client.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: AppName}, app); err != nil {
			return false, err
		}
		return apimeta.IsStatusConditionTrue(app.Status.Conditions, wecomv1alpha1.ConditionReady) &&
			app.Status.LastResync != nil && app.Status.LastResync.Complete, nil
	})
	if err != nil {
		return fmt.Errorf("app not ready: %w", err)
	}
	d.n.done()
	d.sender = &wecomfake.Sender{URL: d.mgr.CallbackURL + webhook.PathFor(Namespace, AppName), CorpID: CorpID, Token: Token, AESKey: AESKey}
	d.n.step("WeCom verifies the callback URL %s", d.sender.URL)
	r, err := d.sender.VerifyRequest("1616140317555161061")
	if err != nil {
		return err
	}
	resp, err := d.sender.Do(ctx, r)
	if err != nil || resp.Status != 200 || resp.Body != "1616140317555161061" {
		return fmt.Errorf("URL verification failed: %v %+v", err, resp)
	}
	d.n.done()
	return nil
}

func (d *run) kubeconfigCopy() string {
	p := filepath.Join(os.TempDir(), "wecom-demo.kubeconfig")
	if data, err := os.ReadFile(d.env.Kubeconfig); err == nil {
		_ = os.WriteFile(p, data, 0o600)
	}
	return p
}

// show prints kubectl's view of the result.
func (d *run) show() {
	for _, args := range [][]string{{"get", "wecomapps", "-n", Namespace}, {"get", "externalcontacts", "-n", Namespace}} {
		fmt.Fprintf(d.n.out, "\n$ kubectl %s\n", join(args))
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", d.env.Kubeconfig}, args...)...)
		cmd.Stdout, cmd.Stderr = d.n.out, d.n.out
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(d.n.out, "(kubectl: %v)\n", err)
		}
	}
}

func join(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func poll(ctx context.Context, d time.Duration, fn func() (bool, error)) error {
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ok, err := fn()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if last != nil {
		return last
	}
	return fmt.Errorf("not done within %v", d)
}

// narrator prints the demo's progress.
type narrator struct {
	out   io.Writer
	start time.Time
	t0    time.Time
}

func (n *narrator) step(format string, args ...any) {
	n.t0 = time.Now()
	fmt.Fprintf(n.out, "▶ "+format+" … ", args...)
}

func (n *narrator) done() {
	fmt.Fprintf(n.out, "done (%.1fs)\n", time.Since(n.t0).Seconds())
}

func (n *narrator) say(format string, args ...any) {
	fmt.Fprintf(n.out, "  "+format+"\n", args...)
}
