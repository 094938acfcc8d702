package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoOnce runs `make demo ONCE=1` in-process: the whole product on the
// real control plane against the simulated WeCom, checked at the end.
func TestDemoOnce(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := Run(ctx, Options{Once: true, Out: &out}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"final state matches", "transfer_fail", "NAME", "FOLLOW USERS", "周杰", "Marie Curie"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
