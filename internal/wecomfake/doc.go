// Package wecomfake is a fake WeCom for tests, the local demo and
// benchmarks: a REST server with WeCom's JSON shapes, error codes and
// injectable faults, and a callback sender that encrypts and signs events
// exactly as WeCom does and posts them to a URL.
package wecomfake
