// Command manager runs wecom-operator: the WeCom callback receiver (every
// replica) and the reconcilers (the leader only).
package main

import (
	"flag"
	"math"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/go-logr/logr"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/manager"
)

func main() {
	opts := manager.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	setMemoryLimit(log)

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(wecomv1alpha1.AddToScheme(scheme))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "load kubeconfig")
		os.Exit(1)
	}
	mgr, err := manager.New(cfg, scheme, opts)
	if err != nil {
		log.Error(err, "set up manager")
		os.Exit(1)
	}
	log.Info("starting manager", "callbackAddress", opts.CallbackBindAddress, "wecomAPI", opts.WeComAPIBaseURL)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
}

// setMemoryLimit sets the Go memory limit to 90% of the container's memory
// limit (passed by the Helm chart as WECOM_CONTAINER_MEMORY_LIMIT), unless
// GOMEMLIMIT is set: the heap then stays well under the limit instead of
// growing to twice the live data between collections.
func setMemoryLimit(log logr.Logger) {
	v := os.Getenv("WECOM_CONTAINER_MEMORY_LIMIT")
	if v == "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 || limit >= math.MaxInt64/2 {
		return // no limit set: the field reports the node's allocatable memory or garbage
	}
	debug.SetMemoryLimit(limit / 10 * 9)
	log.Info("memory limit set", "bytes", limit/10*9)
}
