package tokencount

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fastTokens returns the tokens the hand-written split produces for valid
// UTF-8 s, for comparison with tiktoken-go's Encode.
func fastTokens(f *fastSplitter, s string) []string {
	var toks []string
	var sc mergeScratch
	for i, end := range f.pieces(s) {
		piece := s[i:end]
		if _, ok := f.ranks[piece]; ok {
			toks = append(toks, piece)
			continue
		}
		b := f.merge(piece, &sc)
		for k := 0; k+1 < len(b); k++ {
			toks = append(toks, piece[b[k]:b[k+1]])
		}
	}
	return toks
}

// checkSame fails t unless the hand-written split of s gives tiktoken-go's
// tokens, count and Han/other split.
func checkSame(t *testing.T, s string) {
	t.Helper()
	f := fast()
	if f == nil {
		t.Fatal("fast splitter unavailable")
	}
	v := strings.ToValidUTF8(s, "\uFFFD")
	_, want, err := encoder().Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	if got := fastTokens(f, v); !slices.Equal(got, want) {
		t.Fatalf("tokens of %q:\n got %q\nwant %q", s, got, want)
	}
	n, _ := encoder().Count(v)
	h, o := f.split(v)
	wh, wo := splitEncode(v)
	if h != wh || o != wo || h+o != n {
		t.Fatalf("split(%q) = %d Han + %d other, want %d + %d (Count %d)", s, h, o, wh, wo, n)
	}
}

var diffInputs = []string{
	"",
	"hello",
	"Hello, World! HELLO world. camelCaseWord XMLHttpRequest iPhone McDonald's",
	"I'M HERE, YOU'RE THERE, WE'VE DONE, HE'LL GO, SHE'D SAY, IT'S, DON'T; i'm you're we've he'll she'd it's don't",
	"x'ſ X'ſ x'K 'S 'st ''s ' 's",
	"在北京预订一家意大利餐厅是个不错的选择，因为北京有很多优质的意大利餐厅。",
	"我们在2024年3月15日发布了v1.2.3版本，下载量超过1000000次！",
	"Kimi 是由 Moonshot AI 开发的大模型，支持 128k 上下文。It supports English too.",
	"东京はきれいです。안녕하세요 세계. Привет, мир! Γειά σου Κόσμε. مرحبا بالعالم. שלום עולם. नमस्ते दुनिया",
	"func main() {\n\tfmt.Println(\"hi\")\r\n\treturn x/y // comment\n}\n\n\n",
	"a\r\n\r\nb \r\n c\n\n  \n\t\nd   \t  e\u00a0\u00a0f\u3000g\u2028h\u0085i\v\fj",
	"    leading and trailing spaces    ",
	"trailing newline spaces \n   ",
	"1 12 123 1234 12345 123456789 ١٢٣٤٥ ½ ⅓ Ⅻ ①②③ 3.14159 -42 +7e10",
	"emoji 😀😃😄 👨‍👩‍👧‍👦 🇨🇳🇺🇸 👍🏽 ❤️ text",
	"combining: e\u0301 a\u0308 n\u0303 \u0301\u0301\u0301 x\u20dd Z\u0351\u0327 ḁ̵̧ \u0300start",
	"ǅungla ǈ ǋ ᾈ ᾉ ʰʲ ˢ ª º ー々〆",
	"!!!??? ... --- /// \\\\ ((())) {{}} [[]] <<>> @@@ ### $$$ %%% ^^^ &&& *** ~~~ ``` ||| +++ === ,,, ;;; :::",
	"path/to/file.go\nhttp://example.com/a/b?c=d&e=f#g\r\n/\r\n//\n",
	"ab\xff\xfecd \xe4\xb8 \xed\xa0\x80 \xf0\x9f\x98 \xc0\xaf end",
	strings.Repeat("a", 5000),
	strings.Repeat("中", 3000),
	strings.Repeat(" ", 1000) + "x",
	strings.Repeat("\n", 500),
	strings.Repeat("!", 2000),
	strings.Repeat("1", 1000),
	strings.Repeat("ab", 500) + strings.Repeat("😀", 300),
	strings.Repeat("擅龘𠀀𪚥", 50),
	`{"type":"object","properties":{"city":{"type":"string","description":"城市名称"}},"required":["city"]}`,
	"THE QUICK BROWN FOX'S JUMP. ÉCOLE ÜBER STRAßE İstanbul ǅ",
	"DEL \x7f: a\x7fb !\x7f! 1\x7f2 a  \x7f \x7fA \t\x7f\n\x7f\x7f",
	"whitespace runs: a\n\n  \n\t\nb  \n\u00a0\n c\u2028\n \r\n d \r\r\n\n \t",
	"\u200b\u200c\u200d\ufeff\u00ad soft\u00adhyphen zero\u200bwidth",
	"\U0001D400\U0001D41A mathematical 𝐀𝐚 𝔄 \U000E0041 tags",
}

func TestFastMatchesRegexp(t *testing.T) {
	for _, s := range diffInputs {
		checkSame(t, s)
	}
	for _, s := range textSamples {
		checkSame(t, s.text)
	}
	checkSame(t, benchMixed(64<<10))
}

// TestClassTable checks the BMP class table built from the unicode range
// tables against classify.
func TestClassTable(t *testing.T) {
	f := fast()
	for r := rune(0); r < 1<<16; r++ {
		if got, want := f.bmp[r], classify(r); got != want {
			t.Fatalf("class of %U = %06b, want %06b", r, got, want)
		}
	}
}

func FuzzFastSplit(f *testing.F) {
	for _, s := range diffInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSame(t, s)
	})
}

// benchMixed is n bytes of varied Chinese and English sentences.
func benchMixed(n int) string {
	sentences := []string{
		"在北京预订一家意大利餐厅是个不错的选择，因为北京有很多优质的意大利餐厅。",
		"The quick brown fox jumps over the lazy dog, and then it's gone.",
		"Kimi 是由 Moonshot AI 开发的大语言模型，支持长达 128k 的上下文窗口。",
		"Please summarise the following document in three bullet points:\n",
		"我们在 2024 年 3 月 15 日发布了 v1.2.3 版本，下载量超过一百万次！",
		"func (c *Client) Chat(ctx context.Context) error { return nil }\n",
		"请用中文回答：什么是 BPE（Byte Pair Encoding）分词算法？它有什么优缺点？",
		"Tokenizers split text into pieces; each piece is merged into tokens.\n\n",
		"人工智能正在改变我们的生活方式，从智能手机到自动驾驶汽车，无处不在。",
		"He said, \"I'll be there at 10:30 AM,\" but he didn't show up until noon.",
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(sentences[i%len(sentences)])
		if i%3 == 0 {
			b.WriteString(" ")
		}
	}
	return repeatTo(b.String(), n)
}

var benchCount1MMixed = benchMixed(1 << 20)

// BenchmarkCount measures counting 1 MB of mixed Chinese and English:
// split (the hand-written path Text uses), splitEncode (the previous path,
// through tiktoken-go's Encode) and tiktoken-go's own Count.
func BenchmarkCount(b *testing.B) {
	s := benchCount1MMixed
	for _, bm := range []struct {
		name  string
		count func(string) int
	}{
		{"fast", func(s string) int { h, o := split(s); return h + o }},
		{"encode", func(s string) int { h, o := splitEncode(s); return h + o }},
		{"tiktoken", func(s string) int { n, _ := encoder().Count(s); return n }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			fast()
			encoder()
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				sink = bm.count(s)
			}
		})
	}
}

// BenchmarkFastBuild measures the one-time build of the hand-written
// split's tables (the rank map read back from tiktoken-go).
func BenchmarkFastBuild(b *testing.B) {
	encoder() // exclude tiktoken-go's own vocabulary load
	b.ReportAllocs()
	for b.Loop() {
		if newFast() == nil {
			b.Fatal("newFast failed")
		}
	}
}

// TestFastAllRunes runs every assigned code point (all of planes 0–3
// and 14; planes 4–13 are unassigned and 15–16 private use) through both
// splits, in order and interleaved with letters, spaces, digits and
// apostrophes, so that each one is seen both alone and inside runs of its
// neighbours.
func TestFastAllRunes(t *testing.T) {
	if testing.Short() {
		t.Skip("about 1.5 s, 15 s with -race")
	}
	seps := []string{"", " ", "a", "1", "'", "\n", "A"}
	for k, sep := range seps {
		var b strings.Builder
		for r := rune(k); r <= utf8.MaxRune; r += rune(len(seps)) {
			plane := r >> 16
			if utf8.ValidRune(r) && (plane <= 3 || plane == 14 || r&0xfff < 16) {
				b.WriteRune(r)
				b.WriteString(sep)
			}
		}
		s := b.String()
		// Compare in chunks, so that a failure prints a short input.
		for i := 0; i < len(s); {
			j := min(i+4096, len(s))
			for j < len(s) && !utf8.RuneStart(s[j]) {
				j++
			}
			checkSame(t, s[i:j])
			i = j
		}
	}
}
