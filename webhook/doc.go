// Package webhook is the WeCom callback receiver (not a Kubernetes admission
// webhook). It runs in every replica, answers WeCom's URL verification,
// verifies and decrypts each event POST with the keys of the WeComApp whose
// path it arrived on, and stores each customer-contact event on its
// ExternalContact with one idempotent write (a create for a new contact, a
// server-side apply otherwise) before it answers 200.
// A failed write answers 503 so that WeCom delivers the event again.
package webhook
