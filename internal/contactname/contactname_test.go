package contactname

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestFor(t *testing.T) {
	tests := []struct {
		app, id string
		want    string
	}{
		{"demo", "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA", ""},
		{"demo", "wmabc", "demo-wmabc-aa"},
		{"demo", "wmABC", "demo-wmabc-ha"},
	}
	for _, tt := range tests {
		got := For(tt.app, tt.id)
		if tt.want != "" && got != tt.want {
			t.Errorf("For(%q, %q) = %q, want %q", tt.app, tt.id, got, tt.want)
		}
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
			t.Errorf("For(%q, %q) = %q is not a valid name: %v", tt.app, tt.id, got, errs)
		}
		if For(tt.app, tt.id) != got {
			t.Errorf("For is not deterministic for %q", tt.id)
		}
	}
}

func TestForDistinguishesCase(t *testing.T) {
	ids := []string{"woAbc", "woABC", "woabc", "WOabc", "woAbC", "wo-abc", "wo_abc", "wo.abc", "woa", "wo",
		strings.Repeat("A", 300), strings.Repeat("a", 300)}
	seen := map[string]string{}
	for _, app := range []string{"a", "a-b", "a-b-c"} {
		for _, id := range ids {
			name := For(app, id)
			if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
				t.Fatalf("For(%q, %q) = %q: %v", app, id, name, errs)
			}
			key := app + "/" + id
			if other, ok := seen[name]; ok {
				t.Fatalf("collision: %s and %s both map to %s", other, key, name)
			}
			seen[name] = key
		}
	}
}

// Exhaustive over every case variant of a short ID: all 2^n spellings must
// map to distinct names.
func TestForAllCaseVariants(t *testing.T) {
	base := "woabcdefgh"
	seen := map[string]bool{}
	n := len(base) - 2
	for m := 0; m < 1<<n; m++ {
		b := []byte(base)
		for i := 0; i < n; i++ {
			if m&(1<<i) != 0 {
				b[2+i] -= 'a' - 'A'
			}
		}
		name := For("app", string(b))
		if seen[name] {
			t.Fatalf("collision at %s -> %s", b, name)
		}
		seen[name] = true
	}
	if len(seen) != 1<<n {
		t.Fatalf("got %d names, want %d", len(seen), 1<<n)
	}
}

func TestLabels(t *testing.T) {
	l := Labels("demo", "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA")
	if l["wecom.dev/external-userid"] != "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA" || l["wecom.dev/app"] != "demo" {
		t.Fatalf("labels = %v", l)
	}
	long := Labels("demo", strings.Repeat("x", 64))
	if _, ok := long["wecom.dev/external-userid"]; ok {
		t.Fatalf("a 64-character ID is not a valid label value, got %v", long)
	}
}

func FuzzFor(f *testing.F) {
	f.Add("demo", "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA")
	f.Fuzz(func(t *testing.T, app, id string) {
		if len(validation.IsDNS1123Label(app)) > 0 {
			return
		}
		name := For(app, id)
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Fatal(fmt.Sprintf("For(%q, %q) = %q: %v", app, id, name, errs))
		}
	})
}
