package kimi

import "encoding/json"

// decodeJSON decodes a 2xx response body into v. Types with a fast path
// (ChatCompletion) try it first; encoding/json is the fallback and the
// reference, so correctness never depends on the fast path.
func decodeJSON(data []byte, v any) error {
	if f, ok := v.(interface {
		decodeFast([]byte) bool
		decodeSlow([]byte) error
	}); ok {
		if f.decodeFast(data) {
			return nil
		}
		return f.decodeSlow(data)
	}
	return json.Unmarshal(data, v)
}

// decodeFast decodes a non-stream response with the chunk parser, which
// it shares with the stream: the members that a completion has in common
// with a chunk are decoded by the same code. Unknown members of the
// response and of its messages are kept in Extra in the same pass. It
// reports false, leaving c's decoded fields zero, when the slow path must
// decide. c's decoded fields must be zero on entry.
func (c *ChatCompletion) decodeFast(data []byte) bool {
	// The parser is reached through the walkers' function values, so it
	// lives on the heap anyway; one allocation holds all its scratch.
	p := &jparser{jscan: jscan{b: data}}
	if parseObject(p, c, (*jparser).completionMember) != nil || !p.end() {
		*c = ChatCompletion{Header: c.Header}
		return false
	}
	h := &p.headScratch
	c.ID, c.Object, c.Created, c.Model, c.SystemFingerprint, c.Usage = h.ID, h.Object, h.Created, h.Model, h.SystemFingerprint, h.Usage
	return true
}

// decodeSlow is the reference decoding of a response: encoding/json for the
// typed fields, then the unknown members for Extra.
func (c *ChatCompletion) decodeSlow(data []byte) error {
	type plain ChatCompletion
	if err := json.Unmarshal(data, (*plain)(c)); err != nil {
		return err
	}
	extra, err := unknownFields(data, completionFields)
	c.Extra = extra
	return err
}

var completionKeys = mapKeys(completionFields)

func (p *jparser) completionMember(c *ChatCompletion, k []byte) (uint32, error) {
	if bit, err := p.headMember(&p.headScratch, k); bit != 0 {
		return bit, err
	}
	if string(k) == "choices" {
		list, err := parseArray(p, []Choice(nil), (*jparser).completionChoice)
		c.Choices = list
		return bitChoices, err
	}
	return 0, keepUnknown(&p.jscan, &c.Extra, k, completionKeys)
}

var completionChoiceKeys = fieldKeys(Choice{})

// completionChoice decodes the members shared with a chunk's choice into
// the parser's scratch choice, then copies them.
func (p *jparser) completionChoice(ch *Choice) error {
	p.choiceScratch = ChunkChoice{}
	if err := parseObject(p, ch, (*jparser).completionChoiceMember); err != nil {
		return err
	}
	s := &p.choiceScratch
	ch.Index, ch.FinishReason, ch.Usage, ch.Logprobs = s.Index, s.FinishReason, s.Usage, s.Logprobs
	return nil
}

func (p *jparser) completionChoiceMember(ch *Choice, k []byte) (uint32, error) {
	if bit, err := p.choiceMember(&p.choiceScratch, k); bit != 0 {
		return bit, err
	}
	if string(k) == "message" {
		return bitDelta, p.message(&ch.Message)
	}
	return 0, p.unknown(k, completionChoiceKeys) // Choice keeps no Extra
}

// message decodes a response message as Message.UnmarshalJSON would, for
// the common shape: a string or null content (parts take the slow path).
func (p *jparser) message(m *Message) error {
	p.deltaScratch = Delta{}
	if err := parseObject(p, m, (*jparser).messageMember); err != nil {
		return err
	}
	d := &p.deltaScratch
	m.Role, m.Content, m.ReasoningContent, m.ToolCalls = d.Role, d.Content, d.ReasoningContent, d.ToolCalls
	return nil
}

// messageKeys are the fields Message.UnmarshalJSON decodes.
var messageKeys = mapKeys(messageFields)

func (p *jparser) messageMember(m *Message, k []byte) (uint32, error) {
	if bit, err := p.deltaMember(&p.deltaScratch, k); bit != 0 {
		return bit, err
	}
	switch string(k) {
	case "name":
		return bitName, p.plainStr(&m.Name)
	case "partial":
		return bitPartial, p.bool(&m.Partial)
	case "tool_call_id":
		return bitToolCallID, p.plainStr(&m.ToolCallID)
	}
	return 0, keepUnknown(&p.jscan, &m.Extra, k, messageKeys)
}
