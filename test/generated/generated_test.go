// Package generated checks that the generated files in the repository (CRDs,
// RBAC, deepcopy, and the Helm chart's copies of CRDs and RBAC rules) are
// what `make manifests generate` produces from the code, so a marker change
// without regeneration fails the tests.
package generated

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

// copyTree copies the files the generators read into dst.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	for _, p := range []string{"go.mod", "go.sum", "Makefile", "hack/boilerplate.go.txt", "main.go"} {
		copyFile(t, filepath.Join(root, p), filepath.Join(dst, p))
	}
	for _, dir := range []string{"api", "controllers", "webhook", "internal", "hack/chartgen"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			copyFile(t, path, filepath.Join(dst, rel))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedFilesAreUpToDate(t *testing.T) {
	root := testenv.RepoRoot()
	tmp := t.TempDir()
	copyTree(t, root, tmp)
	// Regenerate from scratch: remove what the copy brought along.
	_ = os.Remove(filepath.Join(tmp, "api/v1alpha1/zz_generated.deepcopy.go"))
	cmd := exec.Command("make", "-s", "manifests", "generate")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make manifests generate: %v\n%s", err, out)
	}
	files := []string{"api/v1alpha1/zz_generated.deepcopy.go", "config/rbac/role.yaml", "charts/wecom-operator/templates/_rules.tpl"}
	crds, _ := filepath.Glob(filepath.Join(tmp, "config/crd/bases/*.yaml"))
	chartCRDs, _ := filepath.Glob(filepath.Join(tmp, "charts/wecom-operator/templates/crds/*.yaml"))
	if len(crds) != 2 || len(chartCRDs) != 2 {
		t.Fatalf("generator produced %d CRDs and %d chart CRDs, want 2 each", len(crds), len(chartCRDs))
	}
	for _, c := range append(crds, chartCRDs...) {
		rel, _ := filepath.Rel(tmp, c)
		files = append(files, rel)
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(tmp, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatalf("%s is missing: run `make manifests generate`", f)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make manifests generate` and commit the result", f)
		}
	}
}
