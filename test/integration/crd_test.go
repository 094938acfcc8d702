package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "it-"}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// decodeFile reads every object of a multi-document YAML file.
func decodeFile(t *testing.T, path string) []client.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := serializer.NewCodecFactory(env.Scheme).UniversalDeserializer()
	var out []client.Object
	r := utilyaml.NewYAMLReader(bufioReader(data))
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, obj.(client.Object))
	}
	return out
}

func applySamples(t *testing.T, ns string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "wecom_*.yaml"))
	if len(files) < 2 {
		t.Fatalf("expected samples for both kinds, found %v", files)
	}
	for _, f := range files {
		for _, obj := range decodeFile(t, f) {
			obj.SetNamespace(ns)
			if err := env.Client.Create(context.Background(), obj); err != nil {
				t.Fatalf("create %s from %s: %v", obj.GetName(), filepath.Base(f), err)
			}
		}
	}
}

func TestSamplesAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	applySamples(t, ns)
	ctx := context.Background()
	var app wecomv1alpha1.WeComApp
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "acme"}, &app); err != nil {
		t.Fatal(err)
	}
	if app.Spec.SecretRef.TokenKey != "token" || app.Spec.DeletionPolicy != wecomv1alpha1.DeletionPolicyDelete {
		t.Fatalf("defaults not applied: %+v", app.Spec)
	}
	var ecs wecomv1alpha1.ExternalContactList
	if err := env.Client.List(ctx, &ecs, client.InNamespace(ns),
		client.MatchingLabels{wecomv1alpha1.LabelExternalUserID: "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"}); err != nil {
		t.Fatal(err)
	}
	if len(ecs.Items) != 1 {
		t.Fatalf("label selector found %d contacts", len(ecs.Items))
	}
	// The sample's name is the derived one: samples cannot drift from the code.
	ec := ecs.Items[0]
	if want := contactname.For("acme", ec.Spec.ExternalUserID); ec.Name != want {
		t.Fatalf("sample contact is named %s, the operator would name it %s", ec.Name, want)
	}
}

func validApp(ns, name string) *wecomv1alpha1.WeComApp {
	return &wecomv1alpha1.WeComApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: wecomv1alpha1.WeComAppSpec{
			CorpID:    "ww1436e0e65a779aee",
			SecretRef: wecomv1alpha1.SecretReference{Name: "creds"},
		},
	}
}

func TestWeComAppValidation(t *testing.T) {
	ns := newNamespace(t)
	tests := []struct {
		name    string
		mutate  func(*wecomv1alpha1.WeComApp)
		message string // part of the API server's message; "" means accepted
	}{
		{"valid", func(*wecomv1alpha1.WeComApp) {}, ""},
		{"wx corp ID", func(a *wecomv1alpha1.WeComApp) { a.Spec.CorpID = "wx5823bf96d3bd56c7" }, ""},
		{"corp ID not ww/wx", func(a *wecomv1alpha1.WeComApp) { a.Spec.CorpID = "ab1436e0e65a779aee" }, "spec.corpID"},
		{"empty corp ID", func(a *wecomv1alpha1.WeComApp) { a.Spec.CorpID = "" }, "spec.corpID"},
		{"missing secretRef name", func(a *wecomv1alpha1.WeComApp) { a.Spec.SecretRef = wecomv1alpha1.SecretReference{} }, "spec.secretRef.name"},
		{"secretRef with a namespace-like name", func(a *wecomv1alpha1.WeComApp) { a.Spec.SecretRef.Name = "other/creds" }, "spec.secretRef.name"},
		{"bad deletionPolicy", func(a *wecomv1alpha1.WeComApp) { a.Spec.DeletionPolicy = "Orphan" }, "spec.deletionPolicy"},
		{"bad resyncInterval", func(a *wecomv1alpha1.WeComApp) { a.Spec.ResyncInterval = &metav1.Duration{Duration: -time.Hour} }, "spec.resyncInterval"},
		{"resyncInterval 0 disables", func(a *wecomv1alpha1.WeComApp) { a.Spec.ResyncInterval = &metav1.Duration{} }, ""},
		{"name too long", func(a *wecomv1alpha1.WeComApp) { a.Name = strings.Repeat("a", 64) }, "at most 63 characters"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := validApp(ns, "app"+string(rune('a'+i)))
			tt.mutate(app)
			err := env.Client.Create(context.Background(), app)
			checkAdmission(t, err, tt.message)
		})
	}
}

func checkAdmission(t *testing.T, err error, message string) {
	t.Helper()
	if message == "" {
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted, want a rejection mentioning %q", message)
	}
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), message) {
		t.Fatalf("err = %v, want Invalid mentioning %q", err, message)
	}
}

func TestExternalContactValidation(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	id := "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"
	ec := &wecomv1alpha1.ExternalContact{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: contactname.For("acme", id)},
		Spec: wecomv1alpha1.ExternalContactSpec{
			AppRef: wecomv1alpha1.LocalObjectReference{Name: "acme"}, ExternalUserID: id,
			LastEvent: &wecomv1alpha1.ContactEvent{ChangeType: "add_external_contact", Time: metav1.Unix(1700000000, 0)},
		},
	}
	if err := env.Client.Create(ctx, ec); err != nil {
		t.Fatal(err)
	}
	update := func(mutate func(*wecomv1alpha1.ExternalContact)) error {
		cur := &wecomv1alpha1.ExternalContact{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ec), cur); err != nil {
			t.Fatal(err)
		}
		mutate(cur)
		return env.Client.Update(ctx, cur)
	}
	checkAdmission(t, update(func(c *wecomv1alpha1.ExternalContact) { c.Spec.ExternalUserID = "woOther" }), "immutable")
	checkAdmission(t, update(func(c *wecomv1alpha1.ExternalContact) { c.Spec.AppRef.Name = "other" }), "immutable")
	checkAdmission(t, update(func(c *wecomv1alpha1.ExternalContact) {
		c.Spec.LastEvent = &wecomv1alpha1.ContactEvent{ChangeType: "edit_external_contact", Time: metav1.Unix(1600000000, 0)}
	}), "older event")
	checkAdmission(t, update(func(c *wecomv1alpha1.ExternalContact) {
		c.Spec.LastEvent = &wecomv1alpha1.ContactEvent{ChangeType: "edit_external_contact", Time: metav1.Unix(1700000001, 0)}
	}), "")
	missing := ec.DeepCopy()
	missing.ResourceVersion = ""
	missing.Name = "no-id"
	missing.Spec.ExternalUserID = ""
	checkAdmission(t, env.Client.Create(ctx, missing), "spec.externalUserID")
}

// kubectl is the machine's kubectl against the test control plane.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is needed for this test: %v", err)
	}
	cmd := exec.Command(path, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestKubectlColumns(t *testing.T) {
	ns := newNamespace(t)
	applySamples(t, ns)
	ctx := context.Background()
	// Give the contact a profile as the reconciler would, so columns have values.
	var ec wecomv1alpha1.ExternalContact
	name := contactname.For("acme", "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA")
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ec); err != nil {
		t.Fatal(err)
	}
	ec.Status.Profile = &wecomv1alpha1.ContactProfile{Name: "李四", Type: 2, CorpName: "腾讯"}
	ec.Status.FollowUsers = []wecomv1alpha1.FollowUser{{UserID: "zhangsan"}, {UserID: "lisi"}}
	ec.Status.FollowUserCount = 2
	ec.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Synced", LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, &ec); err != nil {
		t.Fatal(err)
	}
	for _, resource := range []string{"externalcontacts", "ec"} {
		out := kubectl(t, "get", resource, "-n", ns)
		for _, want := range []string{"NAME", "TYPE", "CORP", "FOLLOW USERS", "READY", "AGE", "李四", "腾讯", name} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl get %s lacks %q:\n%s", resource, want, out)
			}
		}
		row := lineWith(out, name)
		if f := strings.Fields(row); len(f) < 6 || f[2] != "2" || f[4] != "2" || f[5] != "True" {
			t.Errorf("row %q: want type 2, 2 follow users, Ready True", row)
		}
	}
	out := kubectl(t, "get", "wecom", "-n", ns)
	for _, want := range []string{"wecomapp.wecom.dev/acme", "externalcontact.wecom.dev/" + name, "CORP", "CONTACTS", "WEBHOOK PATH", "wx5823bf96d3bd56c7"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get wecom lacks %q:\n%s", want, out)
		}
	}
	out = kubectl(t, "get", "wecomapp", "-n", ns)
	if !strings.Contains(out, "acme") || !strings.Contains(out, "WEBHOOK PATH") {
		t.Errorf("kubectl get wecomapp:\n%s", out)
	}
	out = kubectl(t, "get", "ec", "-n", ns, "-l", "wecom.dev/external-userid=woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", "-o", "name")
	if strings.TrimSpace(out) != "externalcontact.wecom.dev/"+name {
		t.Errorf("label selector: %q", out)
	}
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
