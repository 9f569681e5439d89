package main

import (
	"context"
	"os"
	"sync"
)

// interrupts hands the signals that ask an invocation to stop (SIGINT,
// SIGTERM) to whoever owns them at the moment. By default the first one
// cancels the invocation's context and a second one ends the process at
// once, for a command that does not stop in time. Parts of a command that
// mean something else by Ctrl-C (the chat session, the deletion of chat
// --file's uploads) take the signals over while they run.
//
// It is the one place that decides what a signal does; main only feeds
// it, and tests feed it directly.
type interrupts struct {
	mu       sync.Mutex
	handlers []*interruptHandler // innermost last
	cancel   context.CancelFunc  // the invocation's context
	stopped  bool                // cancel was called for a signal
	// exit ends the process at once (main); nil in tests, where a second
	// signal only cancels again.
	exit func()
}

// interruptHandler is one owner of the signals. handle reports whether it
// dealt with sig; if not, sig goes on to the owner below.
type interruptHandler struct {
	handle func(sig os.Signal) bool
}

// push makes h the owner of the signals until the returned function is
// called.
func (in *interrupts) push(handle func(sig os.Signal) bool) (pop func()) {
	h := &interruptHandler{handle: handle}
	in.mu.Lock()
	in.handlers = append(in.handlers, h)
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		for i, x := range in.handlers {
			if x == h {
				in.handlers = append(in.handlers[:i], in.handlers[i+1:]...)
				break
			}
		}
	}
}

// deliver passes sig to the owners, innermost first, and to the default
// when none of them takes it.
func (in *interrupts) deliver(sig os.Signal) {
	in.mu.Lock()
	hs := append([]*interruptHandler(nil), in.handlers...)
	in.mu.Unlock()
	// Called without the lock: a handler may push or pop.
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].handle(sig) {
			return
		}
	}
	in.mu.Lock()
	again := in.stopped
	in.mu.Unlock()
	if again && in.exit != nil {
		in.exit()
		return
	}
	in.stop()
}

// stop cancels the invocation as the first signal does; a handler that
// takes a signal meant to end the invocation calls it, so that the next
// one ends the process.
func (in *interrupts) stop() {
	in.mu.Lock()
	in.stopped = true
	in.mu.Unlock()
	in.cancel()
}

// listen delivers the signals of sigs until done is closed.
func (in *interrupts) listen(sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case sig := <-sigs:
			in.deliver(sig)
		case <-done:
			return
		}
	}
}
