// Command sigshare runs an OpenID Shared Signals Framework transmitter and receiver,
// manages streams, emits events and inspects Security Event Tokens.
//
// Run "sigshare demo" for a first look, and "sigshare --help" for the commands.
// docs/configuration.md describes every flag.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
