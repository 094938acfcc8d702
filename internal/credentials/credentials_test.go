package credentials

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

const goodKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

func TestParse(t *testing.T) {
	base := func() map[string][]byte {
		return map[string][]byte{"corpSecret": []byte("s3cr3t"), "token": []byte("QDG6eK"), "encodingAESKey": []byte(goodKey)}
	}
	tests := []struct {
		name   string
		mutate func(map[string][]byte)
		ref    wecomv1alpha1.SecretReference
		reason string
	}{
		{"valid", func(map[string][]byte) {}, wecomv1alpha1.SecretReference{}, ""},
		{"missing token", func(d map[string][]byte) { delete(d, "token") }, wecomv1alpha1.SecretReference{}, ReasonSecretKeyMissing},
		{"empty token", func(d map[string][]byte) { d["token"] = nil }, wecomv1alpha1.SecretReference{}, ReasonSecretKeyMissing},
		{"missing corp secret", func(d map[string][]byte) { delete(d, "corpSecret") }, wecomv1alpha1.SecretReference{}, ReasonSecretKeyMissing},
		{"missing key", func(d map[string][]byte) { delete(d, "encodingAESKey") }, wecomv1alpha1.SecretReference{}, ReasonSecretKeyMissing},
		{"key 42 characters", func(d map[string][]byte) { d["encodingAESKey"] = []byte(goodKey[:42]) }, wecomv1alpha1.SecretReference{}, ReasonInvalidEncodingAESKey},
		{"key not base64", func(d map[string][]byte) { d["encodingAESKey"] = []byte(strings.Repeat("*", 43)) }, wecomv1alpha1.SecretReference{}, ReasonInvalidEncodingAESKey},
		{"bad previous key", func(d map[string][]byte) { d["previousEncodingAESKey"] = []byte("short") }, wecomv1alpha1.SecretReference{}, ReasonInvalidEncodingAESKey},
		{"renamed keys", func(d map[string][]byte) { d["tok"] = d["token"]; delete(d, "token") }, wecomv1alpha1.SecretReference{TokenKey: "tok"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.mutate(d)
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"}, Data: d}
			c, err := Parse(s, tt.ref)
			if got := ReasonOf(err); got != tt.reason {
				t.Fatalf("reason = %q (err %v), want %q", got, err, tt.reason)
			}
			if err == nil && (c.Token == "" || len(c.Key) != 32) {
				t.Fatalf("credentials incomplete: %+v", c)
			}
			if err != nil && (strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), goodKey[:20])) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}
