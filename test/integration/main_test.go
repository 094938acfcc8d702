// Package integration tests the product as a whole against the real control
// plane: the CRDs and their validation, the samples, kubectl's view, and the
// manager binary's life cycle.
package integration

import (
	"fmt"
	"os"
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests need the control plane:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop control plane:", err)
	}
	os.Exit(code)
}
