package controllers

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	wecomCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wecom_api_calls_total",
		Help: "Calls to the WeCom API by endpoint and errcode (-2: transport error or HTTP failure).",
	}, []string{"endpoint", "errcode"})
	wecomSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "wecom_api_call_duration_seconds",
		Help:    "Duration of WeCom API calls by endpoint.",
		Buckets: prometheus.DefBuckets,
	}, []string{"endpoint"})
)

func init() {
	metrics.Registry.MustRegister(wecomCalls, wecomSeconds)
}

// ObserveWeComCall records one WeCom API call; pass it as wecom.Options.Observe.
func ObserveWeComCall(endpoint string, errcode int, d time.Duration) {
	wecomCalls.WithLabelValues(endpoint, strconv.Itoa(errcode)).Inc()
	wecomSeconds.WithLabelValues(endpoint).Observe(d.Seconds())
}
