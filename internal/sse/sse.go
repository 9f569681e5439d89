// Package sse decodes a server-sent event stream (text/event-stream).
//
// The decoder follows the WHATWG event-stream grammar with two deliberate
// deviations that streaming LLM APIs need: an event still pending when the
// stream ends is dispatched (servers that abort often omit the final blank
// line), and the size of a line or an event is capped so that a hostile
// peer cannot make the client buffer without bound.
package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxSize is the default cap on one line and on one event's data.
const DefaultMaxSize = 64 << 20

// initialBufSize is the first size of the line buffer, which grows (up to
// the maximum size) for longer lines. A chat stream's events are a few
// hundred bytes.
const initialBufSize = 4 << 10

// ErrTooLarge is reported (wrapped) when a line or an event's data exceeds
// the decoder's maximum size.
var ErrTooLarge = errors.New("sse: event exceeds maximum size")

// Event is one dispatched event.
type Event struct {
	// Type is the event field, "message" when the event had none.
	Type string
	// Data is the event's data lines joined with "\n". It aliases the
	// decoder's buffer and is valid only until the next call to Next.
	Data []byte
	// ID is the last event ID seen on the stream (it persists across
	// events, as the standard says).
	ID string
}

// Decoder reads events from an io.Reader. It is not safe for concurrent use.
type Decoder struct {
	r   io.Reader
	max int

	buf        []byte
	start, end int  // unconsumed bytes are buf[start:end]
	scanned    int  // buf[start:scanned] is known to hold no line end
	skipLF     bool // the last line ended in CR: an LF right after it belongs to it
	eof        bool
	readErr    error // error from r other than io.EOF, reported after the buffered lines

	lineStart int // where the line readLine returned last starts in buf

	// The data of the event being built is buf[dataStart:dataEnd] while it
	// is one line still in buf (inBuf; fill copies it out before it moves
	// anything in buf), else own[:ownLen]. Offsets rather than slices, and
	// Event built on demand: every pointer stored in the decoder, a heap
	// object, costs a write barrier while a garbage collection runs, and
	// this runs once per event.
	hasData            bool
	inBuf              bool
	dataStart, dataEnd int
	own                []byte
	ownLen             int

	typ    []byte // event field of the event being built
	hasTyp bool

	evTyp  bool   // the last event dispatched had a type: typStr
	typStr string // last type string handed out, reused when the bytes repeat
	id     string

	err error
}

// NewDecoder returns a decoder reading from r with DefaultMaxSize.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, max: DefaultMaxSize}
}

// SetMaxSize caps the length of one line and of one event's data. Values
// below 1 restore DefaultMaxSize. Call it before the first Next.
func (d *Decoder) SetMaxSize(n int) {
	if n < 1 {
		n = DefaultMaxSize
	}
	d.max = n
}

// Event returns the event read by the last successful Next.
func (d *Decoder) Event() Event {
	typ := "message"
	if d.evTyp {
		typ = d.typStr
	}
	return Event{Type: typ, Data: d.eventData(), ID: d.id}
}

// eventData returns the data of the event being built (or last built).
func (d *Decoder) eventData() []byte {
	if d.inBuf {
		return d.buf[d.dataStart:d.dataEnd]
	}
	return d.own[:d.ownLen]
}

// Err returns the error that stopped Next, or nil at a clean end of stream.
func (d *Decoder) Err() error { return d.err }

// Next reads the next event. It returns false at the end of the stream or
// on error; Err tells which.
func (d *Decoder) Next() bool {
	if d.err != nil {
		return false
	}
	d.hasData, d.inBuf, d.ownLen = false, false, 0
	d.hasTyp = false
	for {
		line, ok := d.readLine()
		if !ok {
			if d.err == nil && d.hasData {
				// Stream ended without the blank line: dispatch what we have.
				d.dispatch()
				return true
			}
			return false
		}
		if len(line) == 0 {
			if d.hasData {
				d.dispatch()
				return true
			}
			// A blank line with no data resets the event, per the standard.
			d.hasTyp = false
			continue
		}
		if line[0] == ':' {
			continue // comment / keep-alive
		}
		if !d.field(line) {
			return false
		}
	}
}

// dispatch completes the event; Event returns it. An empty event field
// leaves the type "message", as the standard says.
func (d *Decoder) dispatch() {
	d.evTyp = d.hasTyp && len(d.typ) > 0
	if d.evTyp && d.typStr != string(d.typ) {
		d.typStr = string(d.typ)
	}
}

// field applies one "name: value" line to the event being built.
func (d *Decoder) field(line []byte) bool {
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		n := len(d.eventData()) + len(value)
		if d.hasData {
			n++
		}
		if n > d.max {
			d.err = fmt.Errorf("%w: event data longer than %d bytes", ErrTooLarge, d.max)
			return false
		}
		if !d.hasData {
			// One data line, as most events have: leave it where it is.
			d.inBuf = true
			d.dataEnd = d.lineStart + len(line)
			d.dataStart = d.dataEnd - len(value)
		} else {
			d.detach()
			d.own = append(append(d.own[:d.ownLen], '\n'), value...)
			d.ownLen = len(d.own)
		}
		d.hasData = true
	case "event":
		d.typ = append(d.typ[:0], value...)
		d.hasTyp = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 && d.id != string(value) {
			d.id = string(value)
		}
	}
	// "retry" and unknown fields are ignored.
	return true
}

// readLine returns the next line without its terminator. The line aliases
// the buffer and is valid until the next call. ok is false at the end of
// the stream or on error (d.err set for errors).
func (d *Decoder) readLine() (line []byte, ok bool) {
	for {
		if d.skipLF && d.start < d.end {
			if d.buf[d.start] == '\n' {
				d.start++
				if d.scanned < d.start {
					d.scanned = d.start
				}
			}
			d.skipLF = false
		}
		if d.scanned < d.start {
			d.scanned = d.start
		}
		if i := indexEOL(d.buf[d.scanned:d.end]); i >= 0 {
			j := d.scanned + i
			line = d.buf[d.start:j]
			d.lineStart = d.start
			if len(line) > d.max {
				d.err = fmt.Errorf("%w: line longer than %d bytes", ErrTooLarge, d.max)
				return nil, false
			}
			if d.buf[j] == '\r' {
				d.skipLF = true
			}
			d.start = j + 1
			d.scanned = d.start
			return line, true
		}
		d.scanned = d.end
		if d.end-d.start > d.max {
			d.err = fmt.Errorf("%w: line longer than %d bytes", ErrTooLarge, d.max)
			return nil, false
		}
		if d.eof {
			if d.start < d.end {
				// Final line without a terminator.
				line = d.buf[d.start:d.end]
				d.lineStart = d.start
				d.start = d.end
				return line, true
			}
			if d.readErr != nil {
				d.err = d.readErr
			}
			return nil, false
		}
		if !d.fill() {
			return nil, false
		}
	}
}

// indexEOL returns the index of the first CR or LF in b, or -1.
func indexEOL(b []byte) int {
	if len(b) > 0 && (b[0] == '\n' || b[0] == '\r') {
		return 0 // the blank line that ends every event
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	// A CR before the LF ends the line earlier (CRLF or a bare CR).
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// detach copies the event's data out of buf when it is still there.
func (d *Decoder) detach() {
	if d.inBuf {
		d.own = append(d.own[:0], d.buf[d.dataStart:d.dataEnd]...)
		d.ownLen, d.inBuf = len(d.own), false
	}
}

// fill reads more input, compacting or growing the buffer first.
func (d *Decoder) fill() bool {
	d.detach()
	if d.buf == nil {
		d.buf = make([]byte, min(initialBufSize, d.max+1))
	}
	if d.start > 0 {
		// Move the partial line to the front; it is short in the usual case.
		n := copy(d.buf, d.buf[d.start:d.end])
		d.scanned -= d.start
		d.start, d.end = 0, n
	}
	if d.end == len(d.buf) {
		// The pending line fills the buffer: grow, bounded by max (+1 so
		// that a line of exactly max bytes plus its terminator fits).
		n := 2 * len(d.buf)
		if limit := d.max + 1; n > limit {
			n = limit
		}
		if n <= len(d.buf) {
			d.err = fmt.Errorf("%w: line longer than %d bytes", ErrTooLarge, d.max)
			return false
		}
		nb := make([]byte, n)
		copy(nb, d.buf[:d.end])
		d.buf = nb
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err != nil {
			d.eof = true
			if err != io.EOF {
				d.readErr = err
			}
			return true
		}
		if n > 0 {
			return true
		}
	}
	d.err = io.ErrNoProgress
	return false
}
