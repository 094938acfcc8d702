package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Results of a callback, the "result" label.
const (
	resultStored     = "stored"     // written to the API server
	resultDuplicate  = "duplicate"  // seen and stored before; acknowledged
	resultSuperseded = "superseded" // older than the stored event; acknowledged
	resultIgnored    = "ignored"    // not a contact event; acknowledged
	resultVerified   = "verified"   // URL verification answered
	resultRejected   = "rejected"   // bad input, see rejections
	resultFailed     = "failed"     // could not store; 5xx so WeCom retries
)

var (
	callbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_callback_requests_total",
		Help: "WeCom callback requests by app (namespace/name), event kind and result.",
	}, []string{"app", "event", "result"})
	rejectionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_callback_rejections_total",
		Help: "Rejected WeCom callback requests by reason.",
	}, []string{"reason"})
	handleSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wecom_callback_duration_seconds",
		Help:    "Time to answer a WeCom callback, the durable write included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "result"})
)

func init() {
	metrics.Registry.MustRegister(callbacksTotal, rejectionsTotal, handleSeconds)
}
