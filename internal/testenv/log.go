package testenv

import (
	"os"
	"strconv"

	"github.com/go-logr/logr"
	uzap "go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func setLogger() {
	level, _ := strconv.Atoi(os.Getenv("WECOM_TEST_LOG"))
	if level <= 0 {
		ctrl.SetLogger(logr.Discard())
		return
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(uzap.Level(1-level))))
}
