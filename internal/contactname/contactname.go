// Package contactname derives the Kubernetes object name of an
// ExternalContact from its WeComApp and its WeCom external user ID.
//
// External user IDs are case sensitive (woAJ2GCAAAXtWy...), Kubernetes names
// are lower case, so plain lower-casing would map two different contacts to
// one object. The name is therefore
//
//	<app>-<lower-cased id>-<case mask>
//
// where the case mask records, in lower-case base32, which characters of the
// ID were upper case. Neither of the last two parts can contain '-', so the
// name splits back into (app, id) unambiguously: different inputs always give
// different names. IDs with characters outside [A-Za-z0-9], or names that
// would exceed the 253-character limit, use "<app>-x<sha256 of id>" instead.
package contactname

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
)

var maskEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// For returns the object name of the ExternalContact for externalUserID in app.
func For(app, externalUserID string) string {
	if isAlnum(externalUserID) {
		name := app + "-" + strings.ToLower(externalUserID) + "-" + caseMask(externalUserID)
		if len(name) <= validation.DNS1123SubdomainMaxLength {
			return name
		}
	}
	sum := sha256.Sum256([]byte(externalUserID))
	// The "x" keeps the hashed form apart from the readable one: a readable
	// name always has a mask after its last '-', and masks are never 65 long.
	return app + "-x" + hex.EncodeToString(sum[:])
}

// caseMask encodes one bit per character of id: 1 where it is upper case.
func caseMask(id string) string {
	mask := make([]byte, (len(id)+7)/8)
	for i := 0; i < len(id); i++ {
		if id[i] >= 'A' && id[i] <= 'Z' {
			mask[i/8] |= 1 << (7 - uint(i%8))
		}
	}
	return maskEncoding.EncodeToString(mask)
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Labels returns the labels that carry the originals: the app name always,
// the external user ID when it is a valid label value (WeCom's IDs are).
func Labels(app, externalUserID string) map[string]string {
	l := map[string]string{wecomv1alpha1.LabelApp: app}
	if len(validation.IsValidLabelValue(externalUserID)) == 0 {
		l[wecomv1alpha1.LabelExternalUserID] = externalUserID
	}
	return l
}
