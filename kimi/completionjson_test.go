package kimi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var completionSamples = []string{
	`{"id":"chatcmpl-6970b5d02fa474c1767e8767","object":"chat.completion","created":1698999496,"model":"moonshot-v1-8k","choices":[{"index":0,"message":{"role":"assistant","content":"你好，李雷！1+1等于2。"},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":21,"total_tokens":40}}`,
	`{"id":"c","object":"chat.completion","created":1,"model":"kimi-k2.7-code","choices":[{"index":0,"message":{"role":"assistant","content":"","reasoning_content":"think \"hard\"\n","tool_calls":[{"index":0,"id":"functions.get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"北京\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":90,"completion_tokens":50,"total_tokens":140,"cached_tokens":90,"prompt_tokens_details":{"cached_tokens":90},"completion_tokens_details":{"reasoning_tokens":33}}}`,
	`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop","logprobs":{"content":[{"token":"a","logprob":-0.1}]}},{"index":1,"message":{"role":"assistant","content":"b"},"finish_reason":"length"}],"system_fingerprint":"fpv0_10a6da87","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1}}}`,
	// Unknown fields at each level: Extra keeps them (the choice has none).
	`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"x","refusal":null},"finish_reason":"stop"}]}`,
	`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"service_tier":"default"}`,
	`{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop","extra_choice_field":1}]}`,
	`{"id":"c","x":1,"choices":[{"index":0,"message":{"role":"assistant","content":"x","name":"n","partial":true,"tool_call_id":"t","vendor":{"a":[1,"}"]}}}],"x":[true] ,"y" : "s\u00e9"}`,
	`{"moonshot_meta":{"region":"cn-shanghai","queue_ms":12},"id":"c","choices":[{"message":{"content":"a","partial":false,"name":null}}],"usage":{"prompt_tokens":1,"x":2}}`,
	`{"id":"c","\u0073ervice_tier":"default","object":null,"choices":null}`,
	// Content parts take the slow path.
	`{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"parts"}]},"finish_reason":"stop"}]}`,
	// Keys that fold to known ones take the slow path: encoding/json decodes
	// them into the field and keeps them in Extra as well.
	`{"ID":"c","choices":[]}`,
	`{"id":"c","choices":[{"message":{"Content":"x"}}]}`,
}

// slowCompletion is the reference decoding.
func slowCompletion(t testing.TB, data []byte) (ChatCompletion, error) {
	var c ChatCompletion
	err := c.decodeSlow(data)
	return c, err
}

func TestCompletionFastPathAgreesWithEncodingJSON(t *testing.T) {
	for i, s := range completionSamples {
		slow, err := slowCompletion(t, []byte(s))
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		var fast ChatCompletion
		if err := decodeJSON([]byte(s), &fast); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if d := cmp.Diff(slow, fast); d != "" {
			t.Errorf("sample %d: fast path differs (-slow +fast):\n%s", i, d)
		}
		var viaJSON ChatCompletion
		if err := json.Unmarshal([]byte(s), &viaJSON); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if d := cmp.Diff(slow, viaJSON); d != "" {
			t.Errorf("sample %d: UnmarshalJSON differs (-slow +fast):\n%s", i, d)
		}
	}
	n := len(completionSamples)
	for i, s := range completionSamples {
		var c ChatCompletion
		if ok := c.decodeFast([]byte(s)); ok != (i < n-3) {
			t.Errorf("sample %d: fast path accepted: %v, want %v", i, ok, i < n-3)
		}
	}
}

// TestCompletionUnmarshalMerges checks that decoding into a ChatCompletion
// that already holds values merges as encoding/json does.
func TestCompletionUnmarshalMerges(t *testing.T) {
	c := ChatCompletion{ID: "old", Model: "m", Extra: map[string]json.RawMessage{"a": json.RawMessage("1")}}
	if err := json.Unmarshal([]byte(`{"id":"new","choices":[]}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "new" || c.Model != "m" || c.Extra != nil {
		t.Errorf("got %+v", c)
	}
}

// TestCompletionUnknownFieldAllocs checks that an unknown field costs what
// keeping it needs (the map, its key and the value), not a second decode.
func TestCompletionUnknownFieldAllocs(t *testing.T) {
	known := []byte(completionSamples[0])
	unknown := []byte(completionSamples[0][:len(completionSamples[0])-1] + `,"service_tier":"default"}`)
	count := func(data []byte) float64 {
		return testing.AllocsPerRun(100, func() {
			var c ChatCompletion
			if !c.decodeFast(data) {
				t.Fatal("fast path declined")
			}
		})
	}
	a, b := count(known), count(unknown)
	if b > a+4 {
		t.Errorf("%v allocs with an unknown field, %v without; want at most 4 more", b, a)
	}
}

func BenchmarkCompletionDecode(b *testing.B) {
	known := []byte(completionSamples[1])
	unknown := []byte(completionSamples[1][:len(completionSamples[1])-1] + `,"moonshot_meta":{"region":"cn-shanghai","queue_ms":12}}`)
	for _, bc := range []struct {
		name string
		data []byte
	}{{"known", known}, {"unknown", unknown}} {
		b.Run(bc.name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c ChatCompletion
				decodeJSON(bc.data, &c)
			}
		})
		b.Run(bc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c ChatCompletion
				c.decodeSlow(bc.data)
			}
		})
	}
}

func FuzzCompletionFastPath(f *testing.F) {
	for _, s := range completionSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast ChatCompletion
		if !fast.decodeFast(data) {
			if d := cmp.Diff(ChatCompletion{}, fast); d != "" {
				t.Fatalf("declined but left fields set:\n%s", d)
			}
			return
		}
		slow, err := slowCompletion(t, data)
		if err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects: %v", err)
		}
		if d := cmp.Diff(slow, fast); d != "" {
			t.Fatalf("fast path differs (-slow +fast):\n%s", d)
		}
	})
}
