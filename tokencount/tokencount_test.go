package tokencount

import (
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestText(t *testing.T) {
	enc := encoder()
	for _, s := range []string{"hello", "The quick brown fox jumps over the lazy dog.", `{"a":[1,2,3]}`, "안녕하세요", "東京はきれいです"} {
		raw, _ := enc.Count(s)
		// Text without Han is o200k's count (otherFactor 1).
		if got := Text(s); got != raw {
			t.Errorf("Text(%q) = %d, want o200k's %d", s, got, raw)
		}
	}
	if got := Text(""); got != 0 {
		t.Errorf(`Text("") = %d, want 0`, got)
	}
	// Pure Han text: hanFactor × o200k, rounded up.
	zh := "在北京预订一家意大利餐厅是个不错的选择因为北京有很多优质的意大利餐厅"
	raw, _ := enc.Count(zh)
	if got, want := Text(zh), int(math.Ceil(hanFactor*float64(raw))); got != want || got >= raw {
		t.Errorf("Text(zh) = %d, want %d (o200k %d)", got, want, raw)
	}
	// A byte token of a rare Han character counts as Han.
	if h, o := split("擅"); h == 0 || o != 0 {
		t.Errorf("split(擅) = %d Han, %d other; want only Han", h, o)
	}
	// Invalid UTF-8 is counted, not dropped.
	if got := Text("ab\xff\xfecd"); got < 3 {
		t.Errorf("Text(invalid UTF-8) = %d, want >= 3", got)
	}
}

func TestMessagesOverheads(t *testing.T) {
	one := &Estimator{SafetyFactor: 1}
	if got := one.Messages(nil, nil); got != tokensPerRequest {
		t.Errorf("empty request = %d, want %d", got, tokensPerRequest)
	}
	user := []Message{{Role: "user", Content: "hello"}}
	if got, want := one.Messages(user, nil), tokensPerRequest+tokensPerMessage+1+1; got != want {
		t.Errorf("one user message = %d, want %d", got, want)
	}
	// Each field counts.
	base := one.Messages(user, nil)
	for _, m := range []Message{
		{Role: "user", Content: "hello", Name: "alice"},
		{Role: "user", Content: "hello", ReasoningContent: "think"},
		{Role: "user", Content: "hello", ToolCalls: []string{"f {}"}},
	} {
		if got := one.Messages([]Message{m}, nil); got <= base {
			t.Errorf("%+v = %d, want > %d", m, got, base)
		}
	}
	twoCalls := one.Messages([]Message{{Role: "assistant", ToolCalls: []string{"f {}", "f {}"}}}, nil)
	oneCall := one.Messages([]Message{{Role: "assistant", ToolCalls: []string{"f {}"}}}, nil)
	if got, want := twoCalls-oneCall, tokensPerToolCall+Text("f {}"); got != want {
		t.Errorf("second tool call adds %d, want %d", got, want)
	}
	// Tools: framed, compacted, empty lists free.
	compact := `[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`
	pretty := "[\n  {\n    \"type\": \"function\",\n    \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\"}}\n  }\n]"
	withTools := one.Messages(user, []byte(compact))
	if want := base + tokensPerToolsBlock + Text(compact); withTools != want {
		t.Errorf("with tools = %d, want %d", withTools, want)
	}
	if got := one.Messages(user, []byte(pretty)); got != withTools {
		t.Errorf("pretty tools = %d, want compact's %d", got, withTools)
	}
	for _, empty := range []string{"", " ", "null", "[]"} {
		if got := one.Messages(user, []byte(empty)); got != base {
			t.Errorf("tools %q = %d, want %d", empty, got, base)
		}
	}
}

func TestSafetyFactor(t *testing.T) {
	msgs := conversations[0].msgs
	calibrated := (&Estimator{SafetyFactor: 1}).Messages(msgs, nil)
	def := int(math.Ceil(float64(calibrated) * DefaultSafetyFactor))
	// Messages rounds once, after the factor, so allow the rounding of
	// the calibrated count.
	if got := Messages(msgs, nil); got < def-1 || got > def {
		t.Errorf("Messages = %d, want about %d × %.1f = %d", got, calibrated, DefaultSafetyFactor, def)
	}
	for _, f := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if got := (&Estimator{SafetyFactor: f}).Messages(msgs, nil); got != Messages(msgs, nil) {
			t.Errorf("SafetyFactor %v = %d, want the default's %d", f, got, Messages(msgs, nil))
		}
	}
	var nilEst *Estimator
	if got := nilEst.Messages(msgs, nil); got != Messages(msgs, nil) {
		t.Errorf("nil Estimator = %d, want %d", got, Messages(msgs, nil))
	}
	if two := (&Estimator{SafetyFactor: 2}).Messages(msgs, nil); two < 2*calibrated-1 || two > 2*calibrated {
		t.Errorf("SafetyFactor 2 = %d, want about %d", two, 2*calibrated)
	}
}

func TestWebSearchTokens(t *testing.T) {
	search := func(name string, total int) []Message {
		return []Message{{Role: "tool", Name: name,
			Content: `{"search_result":{"search_id":"abc"},"usage":{"total_tokens":` + strconv.Itoa(total) + `}}`}}
	}
	// 13046 and 10000 are both two o200k tokens ("130" "46", "100" "00"),
	// so the estimates differ by the reported totals alone.
	if got := Messages(search("$web_search", 13046), nil) - Messages(search("$web_search", 10000), nil); got != 3046 {
		t.Errorf("$web_search totals 13046 vs 10000 differ by %d tokens, want 3046", got)
	}
	if got := Messages(search("web_search", 13046), nil) - Messages(search("web_search", 10000), nil); got != 0 {
		t.Errorf("other tools: totals differ by %d tokens, want 0", got)
	}
	if got := Messages([]Message{{Role: "tool", Name: "$web_search", Content: "not json"}}, nil); got <= 0 || got > 50 {
		t.Errorf("bad $web_search content = %d", got)
	}
}

func TestFitsContextAndCharge(t *testing.T) {
	for _, c := range []struct {
		prompt, max, window int
		fits                bool
		charge              int
	}{
		{4096, 4096, 8192, true, 8192},
		{4096, 4097, 8192, false, 8193},
		{7168, 0, 8192, true, 8192}, // unset max_tokens reserves 1024
		{7169, 0, 8192, false, 8193},
		{7169, -1, 8192, false, 8193},
		{100, 1, 8192, true, 101},
	} {
		if got := FitsContext(c.prompt, c.max, c.window); got != c.fits {
			t.Errorf("FitsContext(%d, %d, %d) = %v", c.prompt, c.max, c.window, got)
		}
		if got := Charge(c.prompt, c.max); got != c.charge {
			t.Errorf("Charge(%d, %d) = %d, want %d", c.prompt, c.max, got, c.charge)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	want := make([]int, len(conversations))
	for i, c := range conversations {
		want[i] = Messages(c.msgs, toolsOf(c))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			e := &Estimator{}
			for i, c := range conversations {
				if got := e.Messages(c.msgs, toolsOf(c)); got != want[i] {
					t.Errorf("%s: concurrent estimate %d, want %d", c.name, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// TestOffline runs the estimator in a child process with no network (an
// unroutable proxy), no HOME and no cache directories: the vocabulary is
// compiled in.
func TestOffline(t *testing.T) {
	const sample = "你好，我叫李雷，1+1等于多少？ Hello, Kimi!"
	if os.Getenv("TOKENCOUNT_CHILD") == "offline" {
		os.Stdout.WriteString(strconv.Itoa(Text(sample)) + "\n")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOffline$")
	cmd.Env = []string{
		"TOKENCOUNT_CHILD=offline",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=",
		"TIKTOKEN_CACHE_DIR=/nonexistent", "XDG_CACHE_HOME=/nonexistent", "TMPDIR=/nonexistent",
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); first != strconv.Itoa(Text(sample)) {
		t.Errorf("offline child counted %q, want %d", first, Text(sample))
	}
}

// goList returns the dependencies of a package, or skips without a go
// command.
func goList(t *testing.T, pkg string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gobin, "list", "-e", "-deps", pkg).Output()
	if err != nil {
		t.Skipf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestNoNetworkDependency: apart from package kimi, whose types the
// adapters take (and whose client this package never calls), nothing this
// package links can reach the network or run a program, so the estimator
// (tiktoken-go and its vocabulary) cannot fetch anything by itself.
func TestNoNetworkDependency(t *testing.T) {
	viaKimi := map[string]bool{}
	for _, dep := range goList(t, "github.com/onesdk-go/onesdk/kimi") {
		viaKimi[dep] = true
	}
	for _, dep := range goList(t, "github.com/onesdk-go/onesdk/tokencount") {
		if viaKimi[dep] {
			continue
		}
		if dep == "net" || strings.HasPrefix(dep, "net/") || dep == "os/exec" {
			t.Errorf("tokencount depends on %s other than through package kimi", dep)
		}
	}
}

// TestKimiDoesNotEmbedVocabulary: package kimi must not import this
// package (or tiktoken), so that its users do not link the vocabulary.
func TestKimiDoesNotEmbedVocabulary(t *testing.T) {
	for _, dep := range goList(t, "github.com/onesdk-go/onesdk/kimi") {
		if strings.HasSuffix(dep, "/tokencount") || strings.Contains(dep, "tiktoken") {
			t.Errorf("package kimi depends on %s", dep)
		}
	}
}
