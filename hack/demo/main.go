// Command demo runs wecom-operator locally: control plane, operator and a
// simulated WeCom playing a stream of callbacks. `make demo`; with -once
// (make demo ONCE=1) it exits after checking the final state.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wecom-operator/wecom-operator/internal/demo"
)

func main() {
	once := flag.Bool("once", false, "exit after the stream, with status 0 only if the final state is right")
	contacts := flag.Int("contacts", 36, "contacts in the simulated corp")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, demo.Options{Once: *once, Contacts: *contacts}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
