package webhook

import (
	"strings"
	"time"
)

// Config tunes the callback server.
type Config struct {
	// ReplayWindow: requests whose timestamp is further than this from now
	// are rejected. 0 disables the check.
	ReplayWindow time.Duration
	// MaxBodyBytes: larger bodies get 413.
	MaxBodyBytes int64
	// RotationGrace: how long a token or key replaced in the Secret is still
	// accepted by this replica.
	RotationGrace time.Duration
	// DedupeTTL and DedupeSize bound the memory of recently stored events.
	DedupeTTL  time.Duration
	DedupeSize int
	// WriteTimeout bounds the API-server write; WeCom waits 5 s.
	WriteTimeout time.Duration
	// LastEventInterval throttles the WeComApp status.lastEventTime update.
	LastEventInterval time.Duration
	// Now is the clock (tests replace it).
	Now func() time.Time
}

// DefaultConfig returns production defaults.
func DefaultConfig() Config {
	return Config{
		ReplayWindow:      5 * time.Minute,
		MaxBodyBytes:      1 << 20,
		RotationGrace:     15 * time.Minute,
		DedupeTTL:         10 * time.Minute,
		DedupeSize:        65536,
		WriteTimeout:      4 * time.Second,
		LastEventInterval: 30 * time.Second,
		Now:               time.Now,
	}
}

func (c *Config) defaults() {
	d := DefaultConfig()
	c.MaxBodyBytes = positive(c.MaxBodyBytes, d.MaxBodyBytes)
	c.DedupeTTL = positive(c.DedupeTTL, d.DedupeTTL)
	c.DedupeSize = positive(c.DedupeSize, d.DedupeSize)
	c.WriteTimeout = positive(c.WriteTimeout, d.WriteTimeout)
	c.LastEventInterval = positive(c.LastEventInterval, d.LastEventInterval)
	if c.Now == nil {
		c.Now = time.Now
	}
}

// PathPrefix starts every callback path.
const PathPrefix = "/wecom/"

// PathFor returns the callback path of the WeComApp namespace/name. It
// depends on nothing but the object's identity, so it never changes when keys
// rotate and every replica can route without waiting for a reconciler.
func PathFor(namespace, name string) string {
	return PathPrefix + namespace + "/" + name
}

// parsePath splits a callback path into namespace and name.
func parsePath(p string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(p, PathPrefix)
	if !found {
		return "", "", false
	}
	rest = strings.TrimSuffix(rest, "/")
	namespace, name, found = strings.Cut(rest, "/")
	if !found || namespace == "" || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return namespace, name, true
}

// positive returns v, or d when v is not positive (unset or invalid).
func positive[T ~int | ~int64 | ~float64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}
