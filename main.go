// Command manager runs wecom-operator: the WeCom callback receiver (every
// replica) and the reconcilers (the leader only).
package main

import (
	"flag"
	"os"

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
	gcPercent := flag.Int("gc-percent", manager.DefaultGCPercent, "GOGC of the manager (the GOGC environment variable wins): lower keeps the heap closer to the informer cache for more GC work; Go's default is 100.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	manager.SetGCPercent(log, *gcPercent)
	manager.SetMemoryLimit(log)

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
