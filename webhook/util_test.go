package webhook_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

var corev1Secret corev1.Secret

func errStatus(r *wecomfake.Response) error { return fmt.Errorf("status %d: %s", r.Status, r.Body) }
