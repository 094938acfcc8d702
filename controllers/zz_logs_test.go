package controllers_test

import (
	"strings"
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// TestLogsHaveNoSecrets runs last (file order): everything the manager
// logged at info level during this package's tests must be free of
// credentials, tokens and customers' personal data.
func TestLogsHaveNoSecrets(t *testing.T) {
	out := logs.String()
	if len(out) < 100 {
		t.Fatalf("expected the manager's info logs, got %q", out)
	}
	forbidden := []string{token, aesKey, "secret-ww", "rotated-secret", "wrong-again", "fake-token-", "13800000001", "新备注", "WELCOMECODE"}
	var names []string
	fake.Do(firstCorp(), func(c *wecomfake.Corp) {
		for _, ct := range c.Contacts {
			names = append(names, ct.Name)
		}
	})
	for _, s := range append(forbidden, names...) {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("info logs contain %q", s)
		}
	}
}

func firstCorp() string { return "ww0000000000000001" }
