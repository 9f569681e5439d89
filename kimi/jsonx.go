package kimi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"time"
)

// mergeObject appends the keys of extra to the JSON object obj.
func mergeObject(obj []byte, extra map[string]any) ([]byte, error) {
	if len(extra) == 0 {
		return obj, nil
	}
	e, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	obj = bytes.TrimRight(obj, " \n")
	if len(obj) < 2 || obj[len(obj)-1] != '}' || len(e) <= 2 {
		return obj, nil
	}
	out := make([]byte, 0, len(obj)+len(e))
	out = append(out, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		out = append(out, ',')
	}
	out = append(out, e[1:]...)
	return out, nil
}

// decodeStringOrList decodes a JSON string or array of strings.
func decodeStringOrList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return nil, nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return []string{s}, err
	case raw[0] == '[':
		var l []string
		err := json.Unmarshal(raw, &l)
		return l, err
	}
	return nil, errors.New("want a string or an array of strings")
}

// jsonFieldNames lists the JSON keys of v's struct fields.
func jsonFieldNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

// fieldKeys lists the JSON keys of v's struct fields.
func fieldKeys(v any) []string { return mapKeys(jsonFieldNames(v)) }

// mapKeys lists the keys of a jsonFieldNames set.
func mapKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// unknownFields returns the keys of the JSON object data that are not in known.
func unknownFields(data []byte, known map[string]bool) (map[string]json.RawMessage, error) {
	if onlyKnownKeys(data, known) {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	for k, v := range raw {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = v
	}
	return extra, nil
}

// onlyKnownKeys reports whether the JSON object data has no top-level key
// outside known. It is the cheap first look that lets lenient decoding skip
// a second, map-building pass over the common response that has nothing
// unknown; any doubt answers false and the caller takes the full path.
func onlyKnownKeys(data []byte, known map[string]bool) bool {
	p := jscan{b: data}
	more, err := p.enter()
	for err == nil && more {
		var k []byte
		if k, err = p.key(); err != nil || !known[string(k)] {
			return false
		}
		if err = p.skip(0); err != nil {
			return false
		}
		more, err = p.next()
	}
	return err == nil
}

// unixTime reads a timestamp field of the API, whole seconds since the
// epoch, where 0 means unset: the zero time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
