package testenv

import (
	"io"
	"os"
	"strconv"

	"github.com/go-logr/logr"
	uzap "go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// LogWriter, when set before Start, receives the info-level logs of the code
// under test as JSON lines (tests that check what is logged use it).
var LogWriter io.Writer

func setLogger() {
	if LogWriter != nil {
		ctrl.SetLogger(zap.New(zap.WriteTo(LogWriter), zap.Level(uzap.InfoLevel), zap.JSONEncoder()))
		return
	}
	level, _ := strconv.Atoi(os.Getenv("WECOM_TEST_LOG"))
	if level <= 0 {
		ctrl.SetLogger(logr.Discard())
		return
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(uzap.Level(1-level))))
}
