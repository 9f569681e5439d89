package kimi

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Conversation keeps a multi-turn chat history. Each assistant reply is
// appended as returned, with reasoning_content and tool calls, because
// thinking models reject a tool-call turn sent back without its reasoning.
//
// Tokens sent grow with every turn (the whole history is resent), so the
// history can be trimmed to MaxTurns turns or a MaxTokens prompt budget;
// trimming drops the oldest whole turns (a user message and all that
// follows it up to the next user message, tool results included) and
// never drops the leading system messages (or a leading context-cache
// reference, see CacheMessage).
//
// Turns are sequential: Send and SendMessage hold the conversation for
// the whole call, so concurrent sends queue rather than interleave. A
// streamed turn (Stream, then Commit) must not overlap another turn.
type Conversation struct {
	Chat *ChatService
	// Request is the template for every call: Model and parameters. Its
	// Messages are ignored.
	Request ChatRequest
	// Options are passed to every call (for example WithHeader).
	Options []RequestOption
	// MaxTurns keeps at most this many recent turns; 0 keeps all.
	MaxTurns int
	// MaxTokens keeps the prompt (history plus the new message) within
	// this many tokens as counted by CountTokens; 0 disables the budget.
	// The turn being sent is always kept, even if it alone is over the
	// budget, and Request.Tools are not counted: leave room for them.
	MaxTokens int
	// CountTokens counts the prompt tokens of messages. MaxTokens needs
	// it: without one, Send, SendMessage and Stream fail before sending
	// rather than send an untrimmed history. tokencount.ChatMessages is an
	// offline estimator; package kimi has none of its own, so that
	// programs do not link a tokenizer's vocabulary unless they ask for it.
	CountTokens func([]Message) int

	send     sync.Mutex // held for a whole Send: turns never interleave
	mu       sync.Mutex // guards messages
	messages []Message
}

// NewConversation starts a conversation on model with optional system
// prompts.
func NewConversation(chat *ChatService, model string, system ...string) *Conversation {
	c := &Conversation{Chat: chat, Request: ChatRequest{Model: model}}
	for _, s := range system {
		c.messages = append(c.messages, SystemMessage(s))
	}
	return c
}

// Messages returns a copy of the history.
func (c *Conversation) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

// Append adds messages to the history (for example tool results, or the
// assembled message of a stream: conv.Append(stream.Message())).
func (c *Conversation) Append(m ...Message) {
	c.mu.Lock()
	c.messages = append(c.messages, m...)
	c.mu.Unlock()
}

// Reset clears the history but keeps the leading system messages.
func (c *Conversation) Reset() {
	c.mu.Lock()
	c.messages = c.messages[:leadingSystem(c.messages)]
	c.mu.Unlock()
}

// Send appends a user message, asks the model and appends its reply. If the
// call fails the user message is taken back, so the history stays valid
// and the caller can retry.
func (c *Conversation) Send(ctx context.Context, text string) (*ChatCompletion, error) {
	return c.SendMessage(ctx, UserMessage(text))
}

// SendMessage is Send for any message (parts, tool results).
func (c *Conversation) SendMessage(ctx context.Context, m Message) (*ChatCompletion, error) {
	c.send.Lock()
	defer c.send.Unlock()
	resp, n, err := turn(ctx, c, m, (*ChatService).Create)
	if err != nil {
		return nil, err
	}
	if len(resp.Choices) == 0 {
		c.rollback(n)
		return nil, fmt.Errorf("%w: conversation: response has no choices", ErrBadResponse)
	}
	c.Append(historyMessage(resp.Choices[0].Message))
	return resp, nil
}

// Stream appends a user message and starts a streamed reply. Once the
// stream has been read to its end, call Commit to append the reply (or
// Rollback to take the user message back after a failure).
func (c *Conversation) Stream(ctx context.Context, text string) (*Stream, error) {
	st, _, err := turn(ctx, c, UserMessage(text), (*ChatService).Stream)
	return st, err
}

// turn appends m, sends the trimmed history with method and takes m back
// when the call fails. It returns the history length before m.
func turn[T any](ctx context.Context, c *Conversation, m Message,
	method func(*ChatService, context.Context, *ChatRequest, ...RequestOption) (T, error)) (T, int, error) {
	var zero T
	req, n, err := c.prepare(m)
	if err != nil {
		return zero, 0, err
	}
	out, err := method(c.Chat, ctx, req, c.Options...)
	if err != nil {
		c.rollback(n)
		return zero, 0, err
	}
	return out, n, nil
}

// Commit appends the assembled reply of a finished stream. A stream that
// failed or was closed before [DONE] is not appended: the user message is
// taken back and an error returned, so a half answer never enters the
// history.
func (c *Conversation) Commit(st *Stream) error {
	err := st.Err()
	if err == nil && !st.done {
		err = fmt.Errorf("%w: conversation: stream was closed before [DONE]; reply not appended", ErrStreamIncomplete)
	}
	if err != nil {
		c.mu.Lock()
		if n := len(c.messages); n > 0 && c.messages[n-1].Role == RoleUser {
			c.messages = c.messages[:n-1]
		}
		c.mu.Unlock()
		return err
	}
	c.Append(historyMessage(st.Message()))
	return nil
}

// historyMessage is a reply as it goes back into the history: everything
// Kimi needs (content, reasoning_content, tool calls) and none of the
// response-only fields a provider may add (Ace Data Cloud's "refusal" and
// duplicate "reasoning"), which would cost tokens or be rejected.
func historyMessage(m Message) Message {
	m.Extra = nil
	return m
}

// errNoCounter is returned, before anything is sent, by a conversation
// with a token budget but no way to count tokens.
var errNoCounter = WithKind(errors.New("kimi: Conversation.MaxTokens needs CountTokens, e.g. tokencount.ChatMessages"), ErrConfig)

// prepare appends m, trims, and returns the request and the history length
// before m was appended.
func (c *Conversation) prepare(m Message) (*ChatRequest, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.MaxTokens > 0 && c.CountTokens == nil {
		return nil, 0, errNoCounter
	}
	c.messages = append(c.messages, m)
	c.trim()
	req := c.Request
	req.Messages = append([]Message(nil), c.messages...)
	return &req, len(c.messages) - 1, nil
}

func (c *Conversation) rollback(n int) {
	c.mu.Lock()
	if n >= 0 && n < len(c.messages) {
		c.messages = c.messages[:n]
	}
	c.mu.Unlock()
}

// trim drops the oldest turns past MaxTurns or the token budget. The last
// turn (the one being sent) is always kept.
func (c *Conversation) trim() {
	sys := leadingSystem(c.messages)
	starts := turnStarts(c.messages, sys)
	drop := 0 // number of whole turns to drop
	if c.MaxTurns > 0 && len(starts) > c.MaxTurns {
		drop = len(starts) - c.MaxTurns
	}
	if c.MaxTokens > 0 {
		for drop < len(starts)-1 {
			kept := append(append([]Message(nil), c.messages[:sys]...), c.messages[starts[drop]:]...)
			if c.CountTokens(kept) <= c.MaxTokens {
				break
			}
			drop++
		}
	}
	if drop == 0 {
		return
	}
	c.messages = append(c.messages[:sys], c.messages[starts[drop]:]...)
}

// leadingSystem counts the fixed head of the history: the system prompt
// and a context-cache reference, which trimming and Reset never drop.
func leadingSystem(ms []Message) int {
	n := 0
	for n < len(ms) && (ms[n].Role == RoleSystem || ms[n].Role == RoleCache) {
		n++
	}
	return n
}

// turnStarts returns the indexes of user messages after the system prefix;
// messages before the first user message belong to the first turn.
func turnStarts(ms []Message, from int) []int {
	var s []int
	for i := from; i < len(ms); i++ {
		if ms[i].Role == RoleUser || (len(s) == 0 && i == from) {
			s = append(s, i)
		}
	}
	return s
}
