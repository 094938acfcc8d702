// Package integration tests the product as a whole against the real control
// plane: the CRDs and their validation, the samples, kubectl's view, and the
// manager binary's life cycle.
package integration

import (
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.RunTests(m, &env, nil) }
