// Package controllers holds the reconcilers of wecom-operator. They run on
// the elected leader only; the callback receiver (package webhook) runs on
// every replica.
package controllers
