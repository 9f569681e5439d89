package main

import (
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimitest"
)

// chat --tool runs the loop: each call and a short result on standard
// error, the answer from the tools' outputs on standard output.
func TestChatWithTools(t *testing.T) {
	e := setup(t, kimitest.WithRule(kimitest.Rule{Match: "boiling", ToolCalls: []kimitest.RuleToolCall{
		{Name: "web_search", Arguments: `{"query":"boiling point of water"}`},
		{Name: "convert", Arguments: `{"value":212,"from_unit":"°F","to_unit":"°C"}`},
	}}))
	for _, stream := range []bool{true, false} {
		args := []string{"chat", "--model", "kimi-k3", "--tool", "web-search", "--tool", "convert", "Search the boiling point of water and convert 212 °F to °C"}
		if !stream {
			args = append([]string{"chat", "--no-stream"}, args[1:]...)
		}
		r := e.run(t, args...).mustOK(t)
		for _, want := range []string{`[tool web_search {"query":"boiling point of water"}]`, "[tool web_search → (encrypted result,",
			`[tool convert {"value":212,"from_unit":"°F","to_unit":"°C"}]`, "[tool convert → 212.0 °F = 100.0 °C]"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stream=%v: stderr lacks %q:\n%s", stream, want, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "212.0 °F = 100.0 °C") {
			t.Errorf("stream=%v: answer %q", stream, r.stdout)
		}
	}
	e.run(t, "chat", "--tool", "convert", "--file", "x.txt", "hi").wantUsage(t)
}

func TestFormulasCommands(t *testing.T) {
	e := setup(t)
	r := e.run(t, "formulas", "tools", "excel").mustOK(t)
	if !strings.Contains(r.stdout, "excel_read_file") || !strings.Contains(r.stdout, "excel.read_file") {
		t.Errorf("excel tools:\n%s", r.stdout)
	}
	r = e.run(t, "formulas", "run", "convert", "convert", `{"value":1,"from_unit":"km","to_unit":"m"}`).mustOK(t)
	if strings.TrimSpace(r.stdout) != "1.0 km = 1000.0 m" {
		t.Errorf("convert: %q", r.stdout)
	}
	r = e.run(t, "formulas", "run", "quickjs", "run")
	if r.code != 6 || !strings.Contains(r.stderr, "formula not found") || !strings.Contains(r.stderr, "official formulas are") {
		t.Errorf("quickjs: exit %d, %q", r.code, r.stderr)
	}
	r = e.run(t, "formulas", "run", "convert", "nope")
	if r.code == 0 || !strings.Contains(r.stderr, "no matching lambda found") {
		t.Errorf("failed fiber: exit %d, %q", r.code, r.stderr)
	}
}
