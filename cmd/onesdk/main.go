package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it hands SIGINT and SIGTERM to the
// invocation (see interrupts) and lets a second one, when the first did
// not stop the command, end the process at once.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	exit := func() {
		fmt.Fprintln(stderr, "onesdk: interrupted again: exiting now")
		os.Exit(exitInterrupted)
	}
	return executeSignals(context.Background(), sigs, exit, args, stdin, stdout, stderr)
}
