package tokencount

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repeatTo repeats s until it is n bytes long, cutting at a rune boundary.
func repeatTo(s string, n int) string {
	out := strings.Repeat(s, n/len(s)+1)
	for n > 0 && n < len(out) && out[n]&0xC0 == 0x80 {
		n--
	}
	return out[:n]
}

var (
	bench1KEnglish = repeatTo(textSamples[8].text+" ", 1<<10) // en-prose
	bench1KChinese = repeatTo(textSamples[4].text, 1<<10)     // zh-long-prose
	bench100KMixed = repeatTo(func() string {                 // every sample
		var b strings.Builder
		for _, s := range textSamples {
			b.WriteString(s.text)
			b.WriteString("\n")
		}
		return b.String()
	}(), 100<<10)
)

var sink int

func benchText(b *testing.B, s string) {
	fast() // exclude the one-time loads (encoder: for useEncode)
	encoder()
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		sink = Text(s)
	}
}

func BenchmarkText1KEnglish(b *testing.B) { benchText(b, bench1KEnglish) }
func BenchmarkText1KChinese(b *testing.B) { benchText(b, bench1KChinese) }
func BenchmarkText100KMixed(b *testing.B) { benchText(b, bench100KMixed) }

func BenchmarkMessages(b *testing.B) {
	fast()
	encoder()
	c := conversations[4] // tool call round trip, with tools
	b.ReportAllocs()
	for b.Loop() {
		sink = Messages(c.msgs, toolsOf(c))
	}
}

// BenchmarkInit measures the one-time load of the o200k vocabulary and
// the build of the split's tables (the first call of Text or Messages in
// a process). Each
// iteration runs a fresh child process, which times its first Text call;
// the metric is that time (init-ns/op), not the process start-up.
func BenchmarkInit(b *testing.B) {
	var total time.Duration
	for b.Loop() {
		out, err := exec.Command(os.Args[0], "-test.run=^TestInitChild$").Output()
		if err != nil {
			b.Fatal(err)
		}
		line, _, _ := strings.Cut(string(out), "\n")
		ns, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			b.Fatalf("child output %q", out)
		}
		total += time.Duration(ns)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "init-ns/op")
}

// TestInitChild is BenchmarkInit's child: it times the first Text call.
// Run as a plain test it checks that call's result.
func TestInitChild(t *testing.T) {
	start := time.Now()
	n := Text("hello")
	d := time.Since(start)
	if n != 1 {
		t.Fatalf(`Text("hello") = %d, want 1`, n)
	}
	if testing.Verbose() {
		return
	}
	os.Stdout.WriteString(strconv.FormatInt(d.Nanoseconds(), 10) + "\n")
}
