// Package faults injects failures into a running product: the API server
// goes away mid-stream, the manager restarts. Each test has a bounded number
// of requests and stops by itself.
package faults

import (
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.RunTests(m, &env, nil) }
