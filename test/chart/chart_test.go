// Package chart tests the Helm chart: lint, rendering with default and
// non-default values, the values schema, and a real install, upgrade and
// uninstall against the local control plane (pods do not run there: there
// is no kubelet; the API server accepting every object is what is tested).
package chart

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	testenv.RunTestsWith(testenv.Options{InstallCRDs: false}, m, &env, nil)
}

var chartDir = filepath.Join(testenv.RepoRoot(), "charts", "wecom-operator")

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := filepath.Join(testenv.RepoRoot(), "bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/helm is missing: run `make helm` (make test does it)")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// render runs helm template and returns the objects by "Kind/namespace/name".
func render(t *testing.T, args ...string) map[string]*unstructured.Unstructured {
	t.Helper()
	out := mustHelm(t, append([]string{"template", "wecom", chartDir, "--namespace", "wecom-system"}, args...)...)
	objs := map[string]*unstructured.Unstructured{}
	r := utilyaml.NewYAMLReader(bufioReader(out))
	for {
		doc, err := r.Read()
		if err != nil {
			break
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		objs[u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = u
	}
	return objs
}

func TestLint(t *testing.T) {
	mustHelm(t, "lint", "--strict", chartDir)
	files, _ := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if len(files) < 3 {
		t.Fatalf("ci values files: %v", files)
	}
	for _, f := range files {
		mustHelm(t, "lint", "--strict", chartDir, "-f", f)
		if objs := render(t, "-f", f); len(objs) < 5 {
			t.Fatalf("%s renders %d objects", filepath.Base(f), len(objs))
		}
	}
}

func TestSchemaRejectsTyposAndWrongTypes(t *testing.T) {
	for _, set := range []string{"replicaCount=abc", "foo=bar", "image.tagg=x", "ingress.enabled=maybe", "wecom.apiBaseURL=ftp://x", "manager.keyRotationGrace=soon", "manager.gcPercent=5"} {
		if out, err := helm(t, "template", "wecom", chartDir, "--set", set); err == nil {
			t.Errorf("--set %s was accepted:\n%.300s", set, out)
		}
	}
}

func deployment(t *testing.T, objs map[string]*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	u := objs["Deployment/wecom-system/wecom-wecom-operator"]
	if u == nil {
		t.Fatalf("no Deployment among %v", keys(objs))
	}
	var d appsv1.Deployment
	if err := fromUnstructured(u, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestDefaults(t *testing.T) {
	objs := render(t)
	d := deployment(t, objs)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
		pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("pod security context %+v", pod.SecurityContext)
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v", sc)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %+v %+v", c.ReadinessProbe, c.LivenessProbe)
	}
	args := strings.Join(c.Args, " ")
	for _, want := range []string{"--leader-elect=true", "--callback-bind-address=:9292", "--metrics-bind-address=:8080",
		"--wecom-api-base-url=https://qyapi.weixin.qq.com", "--leader-election-namespace=wecom-system", "--gc-percent=30"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %s: %s", want, args)
		}
	}
	if c.Image != "ghcr.io/wecom-operator/wecom-operator:0.1.0" {
		t.Errorf("image %s", c.Image)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	for _, k := range []string{"Service/wecom-system/wecom-wecom-operator-callback", "Service/wecom-system/wecom-wecom-operator-metrics",
		"PodDisruptionBudget/wecom-system/wecom-wecom-operator", "ServiceAccount/wecom-system/wecom-wecom-operator",
		"ClusterRole//wecom-wecom-operator", "ClusterRoleBinding//wecom-wecom-operator", "Role/wecom-system/wecom-wecom-operator-leader-election",
		"CustomResourceDefinition//wecomapps.wecom.dev", "CustomResourceDefinition//externalcontacts.wecom.dev"} {
		if objs[k] == nil {
			t.Errorf("missing %s", k)
		}
	}
	for _, k := range []string{"Ingress/wecom-system/wecom-wecom-operator", "ServiceMonitor/wecom-system/wecom-wecom-operator"} {
		if objs[k] != nil {
			t.Errorf("%s rendered although disabled", k)
		}
	}
	checkRules(t, objs["ClusterRole//wecom-wecom-operator"])
	checkCRDs(t, objs)
}

// checkRules: the chart's rules are the kubebuilder markers' rules, and
// Secrets are read-only.
func checkRules(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	var got rbacv1.ClusterRole
	if err := fromUnstructured(u, &got); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, got.Rules, want.Rules) {
		t.Errorf("chart rules differ from config/rbac/role.yaml")
	}
	for _, r := range got.Rules {
		for _, res := range r.Resources {
			if res == "secrets" && strings.Join(r.Verbs, ",") != "get,list,watch" {
				t.Errorf("secrets verbs %v: must be read-only", r.Verbs)
			}
			if res == "leases" {
				t.Errorf("leases must not be granted cluster-wide")
			}
		}
	}
}

// checkCRDs: the chart's CRDs are config/crd/bases plus the keep policy.
func checkCRDs(t *testing.T, objs map[string]*unstructured.Unstructured) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		u := objs["CustomResourceDefinition//"+want.Name]
		if u == nil {
			t.Fatalf("chart lacks CRD %s", want.Name)
		}
		var got apiextensionsv1.CustomResourceDefinition
		if err := fromUnstructured(u, &got); err != nil {
			t.Fatal(err)
		}
		if got.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s lacks helm.sh/resource-policy: keep", want.Name)
		}
		if !equalJSON(t, got.Spec, want.Spec) {
			t.Errorf("CRD %s in the chart drifted from config/crd/bases", want.Name)
		}
	}
}

func TestNamespacedMode(t *testing.T) {
	objs := render(t, "-f", filepath.Join(chartDir, "ci", "namespaced-values.yaml"))
	if objs["ClusterRole//wecom-wecom-operator"] != nil || objs["ClusterRoleBinding//wecom-wecom-operator"] != nil {
		t.Fatal("namespaced mode must not create a ClusterRole")
	}
	for _, ns := range []string{"team-a", "team-b"} {
		if objs["Role/"+ns+"/wecom-wecom-operator"] == nil || objs["RoleBinding/"+ns+"/wecom-wecom-operator"] == nil {
			t.Fatalf("no Role/RoleBinding in %s: %v", ns, keys(objs))
		}
	}
	d := deployment(t, objs)
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, "--watch-namespaces=team-a,team-b") || !strings.Contains(args, "--metrics-bind-address=0") {
		t.Errorf("args %s", args)
	}
	if objs["PodDisruptionBudget/wecom-system/wecom-wecom-operator"] != nil || objs["Service/wecom-system/wecom-wecom-operator-metrics"] != nil {
		t.Error("disabled PDB or metrics Service rendered")
	}
}

func TestIngressAndServiceMonitor(t *testing.T) {
	objs := render(t, "-f", filepath.Join(chartDir, "ci", "ingress-values.yaml"))
	ing := objs["Ingress/wecom-system/wecom-wecom-operator"]
	if ing == nil {
		t.Fatal("no Ingress")
	}
	host, _, _ := unstructured.NestedString(ing.Object, "spec", "rules", "0", "host")
	_ = host
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
	if len(rules) != 1 || len(tls) != 1 || !strings.Contains(toJSON(t, ing.Object), `"path":"/wecom/"`) ||
		!strings.Contains(toJSON(t, tls), "wecom-callback-tls") || !strings.Contains(toJSON(t, rules), "wecom.example.com") {
		t.Fatalf("ingress %s", toJSON(t, ing.Object["spec"]))
	}
	if objs["ServiceMonitor/wecom-system/wecom-wecom-operator"] == nil {
		t.Error("no ServiceMonitor")
	}
	for k := range objs {
		if strings.HasPrefix(k, "CustomResourceDefinition/") {
			t.Errorf("crds.enabled=false still renders %s", k)
		}
	}
	if out, err := helm(t, "template", "wecom", chartDir, "--set", "ingress.enabled=true"); err == nil || !strings.Contains(out, "ingress.host") {
		t.Errorf("an Ingress without host must fail with a clear message: %v %s", err, out)
	}
}

// TestInstallUpgradeUninstall installs the chart into the real API server,
// applies the samples and the chart's examples, upgrades and uninstalls.
func TestInstallUpgradeUninstall(t *testing.T) {
	ctx := context.Background()
	kc := []string{"--kubeconfig", env.Kubeconfig, "--namespace", "wecom-system"}
	out := mustHelm(t, append([]string{"install", "wecom", chartDir, "--create-namespace"}, kc...)...)
	if !strings.Contains(out, "/wecom/<namespace>/<name>") {
		t.Errorf("NOTES do not tell which URL to paste:\n%s", out)
	}
	var d appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "wecom-system", Name: "wecom-wecom-operator"}, &d); err != nil {
		t.Fatal(err)
	}
	waitCRDs(t)
	applyDir(t, filepath.Join(testenv.RepoRoot(), "config", "samples"), "samples")
	applyDir(t, filepath.Join(chartDir, "examples"), "")
	out = mustHelm(t, append([]string{"upgrade", "wecom", chartDir, "--set", "replicaCount=3", "--set", "wecom.rateLimit=20"}, kc...)...)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&d), &d); err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 || !strings.Contains(strings.Join(d.Spec.Template.Spec.Containers[0].Args, " "), "--wecom-rate-limit=20") {
		t.Fatalf("upgrade not applied: replicas %d args %v", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
	}
	// NOTES list the WeComApps that exist now.
	if !strings.Contains(out, "/wecom/samples/acme") {
		t.Errorf("NOTES after upgrade do not list the sample app:\n%s", out)
	}
	mustHelm(t, append([]string{"uninstall", "wecom"}, kc...)...)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(&d), &d); !apierrors.IsNotFound(err) {
		t.Fatalf("Deployment survived uninstall: %v", err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "externalcontacts.wecom.dev"}, &crd); err != nil {
		t.Fatalf("the CRD must survive uninstall (resource-policy keep): %v", err)
	}
}

func waitCRDs(t *testing.T) {
	t.Helper()
	for _, name := range []string{"wecomapps.wecom.dev", "externalcontacts.wecom.dev"} {
		var established bool
		for i := 0; i < 300 && !established; i++ {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &crd); err == nil {
				for _, c := range crd.Status.Conditions {
					established = established || (c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue)
				}
			}
			if !established {
				sleep100ms()
			}
		}
		if !established {
			t.Fatalf("CRD %s not established", name)
		}
	}
}

// applyDir applies every YAML file of dir with kubectl (into ns when set,
// else into the namespaces the files name, created as needed).
func applyDir(t *testing.T, dir, ns string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, _ := os.ReadFile(f)
		if bytes.Contains(data, []byte("external-secrets.io")) {
			continue // needs the External Secrets CRDs; its shape is checked in TestExamplesParse
		}
		args := []string{"--kubeconfig", env.Kubeconfig, "apply", "-f", f}
		target := ns
		if target == "" {
			target = namespaceOf(t, data)
		}
		_ = exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "create", "namespace", target).Run()
		args = append(args, "-n", target)
		if out, err := exec.Command("kubectl", args...).CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
}

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(chartDir, "examples", "*.yaml"))
	if len(files) < 2 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil || m["apiVersion"] == nil || m["kind"] == nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}
