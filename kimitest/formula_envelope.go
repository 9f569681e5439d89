package kimitest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
)

// The web-search formula answers in context.encrypted_output, an envelope
// "----MOONSHOT ENCRYPTED BEGIN----…----MOONSHOT ENCRYPTED END----" that
// only Kimi's models can read. The emulator's envelope holds
// deterministic fake results for the query, sealed with AES-GCM under a
// key made once per process, so a client cannot read or forge them and
// only this package's chat model answers from them. Their tokens count
// as prompt tokens of the request that carries them back, as the
// search-result tokens of $web_search do.

const (
	envelopeBegin = "----MOONSHOT ENCRYPTED BEGIN----"
	envelopeEnd   = "----MOONSHOT ENCRYPTED END----"
)

var envelopeAEAD = func() cipher.AEAD {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}()

// searchResult is one fake web result.
type searchResult struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Snippet string `json:"snippet"`
}

type searchPayload struct {
	Query   string         `json:"query"`
	Results []searchResult `json:"results"`
}

// fakeResults are three results for the query, in its language, the
// same every time.
func fakeResults(query string, classes []string) []searchResult {
	h := fnv.New32a()
	h.Write([]byte(query))
	n := h.Sum32()
	zh := isChinese(query)
	slug := fmt.Sprintf("%08x", n)
	class := "all"
	if len(classes) > 0 {
		class = classes[0]
	}
	var out []searchResult
	for i, site := range []string{"example.com", "example.org", "example.net"} {
		r := searchResult{URL: fmt.Sprintf("https://%s/%s/%s-%d", site, class, slug, i+1)}
		if zh {
			r.Title = fmt.Sprintf("关于「%s」的资料 %d", oneLine(query, 40), i+1)
			r.Snippet = fmt.Sprintf("这是模拟器为「%s」生成的第 %d 条搜索结果摘要。", oneLine(query, 60), i+1)
		} else {
			r.Title = fmt.Sprintf("%s: result %d", oneLine(query, 60), i+1)
			r.Snippet = fmt.Sprintf("Result %d the emulator made up for %q.", i+1, oneLine(query, 80))
		}
		out = append(out, r)
	}
	return out
}

// webSearchEnvelope is the encrypted output of a web_search fiber.
func webSearchEnvelope(query string, classes []string) string {
	plain, _ := json.Marshal(searchPayload{Query: query, Results: fakeResults(query, classes)})
	nonce := make([]byte, envelopeAEAD.NonceSize())
	rand.Read(nonce)
	sealed := envelopeAEAD.Seal(nonce, nonce, plain, nil)
	return envelopeBegin + base64.StdEncoding.EncodeToString(sealed) + envelopeEnd
}

// openWebSearchEnvelope reads an envelope this process sealed.
func openWebSearchEnvelope(s string) (searchPayload, bool) {
	var p searchPayload
	body, ok := strings.CutPrefix(strings.TrimSpace(s), envelopeBegin)
	if !ok {
		return p, false
	}
	body, ok = strings.CutSuffix(body, envelopeEnd)
	if !ok || len(body) > maxEnvelopeBytes {
		return p, false
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	ns := envelopeAEAD.NonceSize()
	if err != nil || len(raw) < ns {
		return p, false
	}
	plain, err := envelopeAEAD.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil || json.Unmarshal(plain, &p) != nil {
		return p, false
	}
	return p, true
}

// maxEnvelopeBytes bounds an envelope read back (ours are under 2 KB).
const maxEnvelopeBytes = 64 << 10

// text is the results as the model reads them, and as they are counted.
func (p searchPayload) text() string {
	var b strings.Builder
	for _, r := range p.Results {
		fmt.Fprintf(&b, "%s\n%s\n%s\n", r.Title, r.URL, r.Snippet)
	}
	return b.String()
}
