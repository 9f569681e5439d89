package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

const replHelp = `commands:
  /history  show the conversation so far
  /reset    forget the conversation (the system prompt stays)
  /exit     leave (so does end of input, Ctrl-D)
  /help     this list
Ctrl-C stops the answer being written; the session goes on.`

// repl runs the interactive session: one line is one user turn. It reads
// from cmd.InOrStdin and writes to cmd.OutOrStdout so tests can drive it.
//
// With --json standard output holds JSON Lines only: the assembled
// completion of each turn, and the history as one array for /history. No
// banner and no prompt are printed; what the other commands say goes to
// standard error.
func (a *app) repl(cmd *cobra.Command, sdk *onesdk.SDK, o *chatOptions, base onesdk.Request, first string) error {
	ctx := cmd.Context()
	out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	info := out // answers to session commands
	if a.jsonOut {
		info = stderr
	}
	history := o.head()  // the --cache message and the --system prompt
	keep := len(history) // messages /reset keeps

	// Stops the reader when the session ends before the input does.
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	lines, readErr := readLines(cmd.InOrStdin(), stop.Done())
	// Ctrl-C belongs to the session, as in a shell: it stops the answer
	// being written or, at the prompt, says how to leave. SIGTERM still
	// ends the session.
	intr := make(chan struct{}, 1)
	defer a.interrupts.push(func(sig os.Signal) bool {
		if sig != os.Interrupt {
			return false
		}
		select {
		case intr <- struct{}{}:
		default: // one pending Ctrl-C is enough
		}
		return true
	})()
	if !a.jsonOut {
		fmt.Fprintf(out, "onesdk chat with %s; /help lists commands, /exit or Ctrl-D leaves\n", base.Model)
	}
	pending := first
	for {
		line := pending
		pending = ""
		if line == "" {
			if !a.jsonOut {
				fmt.Fprint(out, "> ")
			}
			var ok bool
			select {
			case line, ok = <-lines:
			case <-intr:
				if !a.jsonOut {
					fmt.Fprintln(out) // off the "^C" the terminal echoed
				}
				fmt.Fprintln(stderr, leaveHint)
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
			if !ok {
				if !a.jsonOut {
					fmt.Fprintln(out)
				}
				return readErr()
			}
			line = strings.TrimSpace(line)
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "/") {
			switch strings.Fields(line)[0] {
			case "/exit", "/quit":
				return nil
			case "/reset":
				history = history[:keep]
				fmt.Fprintln(info, "history cleared")
			case "/history":
				if a.jsonOut {
					// An empty history is [], not null.
					if err := writeJSONLine(out, append([]onesdk.Message{}, history...)); err != nil {
						return err
					}
				} else {
					printHistory(out, history)
				}
			case "/help":
				fmt.Fprintln(info, replHelp)
			default:
				fmt.Fprintf(info, "unknown command %s\n%s\n", line, replHelp)
			}
			continue
		}

		history = trimTurns(append(history, onesdk.UserMessage(line)), o.maxTurns)
		req := base
		req.Messages = slices.Clone(history)
		p := o.printer(cmd)
		if a.jsonOut {
			p = &replyPrinter{out: io.Discard} // the reply goes into the JSON line only
		}
		msg, resp, err := a.answer(ctx, intr, sdk, req, o.noStream, p)
		if err != nil {
			// The turn did not happen: drop the question so that the
			// history stays a valid conversation. An interrupted answer
			// goes too, as a shell drops the line Ctrl-C cut: half an
			// answer would mislead the next turns.
			history = history[:len(history)-1]
			if ctx.Err() != nil || fatalInSession(err) {
				return err
			}
			if errors.Is(err, errAnswerInterrupted) {
				fmt.Fprintln(stderr, "[answer interrupted]")
				continue
			}
			fmt.Fprintln(stderr, a.redact(a.describe(err)))
			continue
		}
		history = append(history, msg)
		if a.jsonOut {
			if err := writeJSONLine(out, resp); err != nil {
				return err
			}
		} else {
			noteCut(stderr, resp)
			o.noteCache(stderr, resp)
		}
	}
}

// leaveHint is the session's answer to Ctrl-C at the prompt.
const leaveHint = "(use /exit or Ctrl-D to leave)"

// errAnswerInterrupted is the error of an answer Ctrl-C stopped.
var errAnswerInterrupted = errors.New("answer interrupted")

// answer is reply in a session: a Ctrl-C (a value on intr) stops this
// answer only, which then fails with errAnswerInterrupted.
func (a *app) answer(ctx context.Context, intr <-chan struct{}, sdk *onesdk.SDK, req onesdk.Request, noStream bool, p *replyPrinter) (onesdk.Message, *onesdk.Response, error) {
	turn, stop := context.WithCancelCause(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-intr:
			stop(errAnswerInterrupted)
		case <-turn.Done():
		}
	}()
	msg, resp, err := a.reply(turn, sdk, req, noStream, p)
	stop(nil)
	<-watched
	if err != nil && ctx.Err() == nil && context.Cause(turn) == errAnswerInterrupted {
		err = errAnswerInterrupted
	}
	return msg, resp, err
}

// fatalInSession reports errors that the next turn would hit again: a
// missing or rejected key, a bad flag value (also one the client refuses
// before sending, such as --temperature 3).
func fatalInSession(err error) bool {
	code := exitCode(err)
	return code == exitUsage || code == exitAuth
}

// readLines delivers the lines of r on a channel, so that the session can
// also wait for Ctrl-C; a blocked terminal read cannot be interrupted.
// The returned function gives the read error once the channel is closed.
func readLines(r io.Reader, done <-chan struct{}) (<-chan string, func() error) {
	ch := make(chan string)
	var err error
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			case <-done:
				return
			}
		}
		err = sc.Err()
	}()
	// Only called after ch is closed, which orders the write of err before.
	return ch, func() error { return err }
}

// trimTurns keeps the cache and system messages at the head and the last
// n turns (a user message and the replies after it). n 0 keeps everything.
func trimTurns(history []onesdk.Message, n int) []onesdk.Message {
	if n <= 0 {
		return history
	}
	head := 0
	for head < len(history) && (history[head].Role == kimi.RoleSystem || history[head].Role == kimi.RoleCache) {
		head++
	}
	var starts []int
	for i := head; i < len(history); i++ {
		if history[i].Role == kimi.RoleUser {
			starts = append(starts, i)
		}
	}
	if len(starts) <= n {
		return history
	}
	cut := starts[len(starts)-n]
	return append(history[:head:head], history[cut:]...)
}

func printHistory(w io.Writer, history []onesdk.Message) {
	fmt.Fprintf(w, "%d messages\n", len(history))
	for i, m := range history {
		line := fmt.Sprintf("%3d %s: %s", i+1, m.Role, preview(m.Text(), 100))
		if m.ReasoningContent != "" {
			line += fmt.Sprintf(" [reasoning: %d chars]", len([]rune(m.ReasoningContent)))
		}
		if n := len(m.ToolCalls); n > 0 {
			line += fmt.Sprintf(" [%d tool calls]", n)
		}
		fmt.Fprintln(w, line)
	}
}

// preview shortens s to one line of at most n runes.
func preview(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
