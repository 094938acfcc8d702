// Package credentials reads a WeComApp's credentials from the Secret its
// spec.secretRef names, always in the app's own namespace, and validates
// them. The callback server and the WeComApp reconciler both use it, so they
// agree on what a valid Secret is.
package credentials

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

// Reasons, used as condition reasons and metric labels.
const (
	ReasonSecretNotFound        = "SecretNotFound"
	ReasonSecretKeyMissing      = "SecretKeyMissing"
	ReasonInvalidEncodingAESKey = "InvalidEncodingAESKey"
)

// Error is a credentials problem a user has to fix. Its message names the
// Secret and key but never a value.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

// ReasonOf returns the Reason of a credentials *Error, or "" for other errors.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Credentials are one app's secrets, parsed.
type Credentials struct {
	CorpSecret string
	Token      string
	Key        wxcrypt.Key
	// Previous token and key, accepted during a rotation (may be empty).
	PreviousToken string
	PreviousKey   wxcrypt.Key
	// ResourceVersion of the Secret they were read from.
	ResourceVersion string
	names           Names
}

// Load reads and validates the credentials of app. reader should be a live
// (uncached) reader: Secrets are not kept in the informer cache.
func Load(ctx context.Context, reader client.Reader, app *wecomv1alpha1.WeComApp) (*Credentials, error) {
	ref := app.Spec.SecretRef
	var s corev1.Secret
	if err := reader.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &Error{ReasonSecretNotFound, fmt.Sprintf("Secret %s/%s not found", app.Namespace, ref.Name)}
		}
		return nil, fmt.Errorf("get Secret %s/%s: %w", app.Namespace, ref.Name, err)
	}
	return Parse(&s, ref)
}

// Parse validates the data of a Secret against ref.
func Parse(s *corev1.Secret, ref wecomv1alpha1.SecretReference) (*Credentials, error) {
	keys := KeyNames(ref)
	get := func(key string, required bool) (string, error) {
		v, ok := s.Data[key]
		if (!ok || len(v) == 0) && required {
			return "", &Error{ReasonSecretKeyMissing, fmt.Sprintf("Secret %s/%s has no key %q (or it is empty)", s.Namespace, s.Name, key)}
		}
		return string(v), nil
	}
	c := &Credentials{ResourceVersion: s.ResourceVersion, names: keys}
	var err error
	if c.CorpSecret, err = get(keys.CorpSecret, true); err != nil {
		return nil, err
	}
	if c.Token, err = get(keys.Token, true); err != nil {
		return nil, err
	}
	aesKey, err := get(keys.EncodingAESKey, true)
	if err != nil {
		return nil, err
	}
	if c.Key, err = parseKey(s, keys.EncodingAESKey, aesKey); err != nil {
		return nil, err
	}
	c.PreviousToken, _ = get(keys.PreviousToken, false)
	if prev, _ := get(keys.PreviousEncodingAESKey, false); prev != "" {
		if c.PreviousKey, err = parseKey(s, keys.PreviousEncodingAESKey, prev); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func parseKey(s *corev1.Secret, name, v string) (wxcrypt.Key, error) {
	k, err := wxcrypt.ParseEncodingAESKey(v)
	if err != nil {
		return nil, &Error{ReasonInvalidEncodingAESKey, fmt.Sprintf(
			"key %q of Secret %s/%s is not a valid EncodingAESKey (43 base64 characters decoding to 32 bytes): length %d",
			name, s.Namespace, s.Name, len(v))}
	}
	return k, nil
}

// Names are the Secret keys of each credential, defaults applied.
type Names struct {
	CorpSecret, Token, EncodingAESKey, PreviousToken, PreviousEncodingAESKey string
}

// KeyNames applies the defaults to ref's key names.
func KeyNames(ref wecomv1alpha1.SecretReference) Names {
	or := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	return Names{
		CorpSecret:             or(ref.CorpSecretKey, wecomv1alpha1.DefaultCorpSecretKey),
		Token:                  or(ref.TokenKey, wecomv1alpha1.DefaultTokenKey),
		EncodingAESKey:         or(ref.EncodingAESKeyKey, wecomv1alpha1.DefaultEncodingAESKeyKey),
		PreviousToken:          or(ref.PreviousTokenKey, wecomv1alpha1.DefaultPreviousTokenKey),
		PreviousEncodingAESKey: or(ref.PreviousEncodingAESKeyKey, wecomv1alpha1.DefaultPreviousEncodingAESKeyKey),
	}
}
