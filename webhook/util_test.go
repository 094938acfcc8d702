package webhook_test

import (
	"fmt"

	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

func errStatus(r *wecomfake.Response) error { return fmt.Errorf("status %d: %s", r.Status, r.Body) }
