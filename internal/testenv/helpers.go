package testenv

import (
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Eventually retries fn every 100 ms until it succeeds, and fails the test
// with fn's last error when timeout passes.
func Eventually(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = fn(); err == nil {
			return
		}
	}
	t.Fatalf("not true within %v: %v", timeout, err)
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// BuildManager builds main.go into a temporary directory and returns the
// binary's path.
func BuildManager(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
