package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/internal/redistest"
	"github.com/onesdk-go/onesdk/kimitest"
)

// A chat session held to the emulator's own limits gets no 429, where
// the same session without them is refused: the limiter waits instead.
func TestChatHeldToLimits(t *testing.T) {
	const in = "one\ntwo\nthree\nfour\n"
	// At 60x a millisecond of scheduling delay between the limiter's
	// admission and the emulator's is 60 ms of emulated time, well inside
	// the limiter's one-bucket margin; at 600x a loaded machine's delays
	// exceed it.
	e := setup(t, kimitest.WithLimits(catalog.Limits{RPM: 2}), kimitest.WithTimeScale(60))
	held := e.input(t, in, "--retries", "0", "chat", "-i", "--model", "moonshot-v1-8k", "--limits", "rpm=2", "--time-scale", "60").mustOK(t)
	if n := len(e.rec.requests()); n != 4 || strings.Contains(held.stderr, "rate limited") {
		t.Errorf("%d chat requests, want 4; stderr %q", n, held.stderr)
	}
	free := setup(t, kimitest.WithLimits(catalog.Limits{RPM: 2}), kimitest.WithTimeScale(600))
	// In a session a failed turn is reported and the session goes on.
	r := free.input(t, in, "--retries", "0", "chat", "-i", "--model", "moonshot-v1-8k")
	if !strings.Contains(r.stderr, "rate limited (429") {
		t.Errorf("without --limits: stderr %q; want a rate-limit failure", r.stderr)
	}
}

func TestQuotaFlags(t *testing.T) {
	for _, args := range [][]string{
		{"chat", "--tier", "nope", "hi"},
		{"chat", "--tier", "free", "--limits", "rpm=1", "hi"},
		{"chat", "--limits", "rpm=x", "hi"},
		{"chat", "--limits", "qps=3", "hi"},
		{"chat", "--limits", "rpm=1", "--time-scale", "0", "hi"},
		{"chat", "--limits", "rpm=1", "--headroom", "1.5", "hi"},
		{"chat", "--redis", "redis://127.0.0.1:1", "hi"},
	} {
		cli(t, "", append([]string{"--offline"}, args...)...).wantUsage(t)
	}
	if l, err := parseLimits("Concurrency=1, rpm=3,TPM=32000,tpd=1500000"); err != nil || l != (catalog.Limits{Concurrency: 1, RPM: 3, TPM: 32000, TPD: 1500000}) {
		t.Errorf("parseLimits = %+v, %v", l, err)
	}
}

// batch run: every request once across the output and error files, and a
// second run skips them all.
func TestBatchRun(t *testing.T) {
	e := setup(t, kimitest.WithLimits(catalog.Limits{Concurrency: 2, RPM: 10}), kimitest.WithTimeScale(60))
	var in strings.Builder
	for i := range 12 {
		fmt.Fprintf(&in, `{"custom_id":"r%d","method":"POST","url":"/v1/chat/completions","body":{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"q%d"}]}}`+"\n", i, i)
	}
	file := writeFile(t, "in.jsonl", in.String())
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := e.run(t, "--retries", "0", "--json", "batch", "run", file, "--out", out, "--limits", "concurrency=2,rpm=10", "--time-scale", "60").mustOK(t)
	s := decodeOne[map[string]any](t, []byte(r.stdout))
	if s["succeeded"] != 12.0 || s["failed"] != 0.0 {
		t.Errorf("summary %v", s)
	}
	data, _ := os.ReadFile(out)
	if n := strings.Count(string(data), "\n"); n != 12 {
		t.Errorf("%d result lines, want 12", n)
	}
	again := decodeOne[map[string]any](t, []byte(e.run(t, "--json", "batch", "run", file, "--out", out).mustOK(t).stdout))
	if again["skipped"] != 12.0 || again["succeeded"] != 0.0 {
		t.Errorf("rerun summary %v", again)
	}
	// A rejected key writes nothing and exits as an authorization
	// failure; the same command with the right key then does it all.
	fresh := filepath.Join(t.TempDir(), "fresh.jsonl")
	bad := cli(t, "", "--base-url", e.rec.URL, "--api-key", "sk-wrong", "batch", "run", file, "--out", fresh)
	bad.wantExit(t, exitAuth)
	if !strings.Contains(bad.stderr, "12 left") {
		t.Errorf("wrong key: stderr %q", bad.stderr)
	}
	if s := decodeOne[map[string]any](t, []byte(e.run(t, "--json", "batch", "run", file, "--out", fresh, "--limits", "concurrency=2,rpm=10", "--time-scale", "60").mustOK(t).stdout)); s["succeeded"] != 12.0 {
		t.Errorf("after the right key: %v", s)
	}
	e.run(t, "batch", "run", file, "--out", out, "--shard", "2/2").wantUsage(t)
	e.run(t, "batch", "run", file).wantUsage(t)
}

// A batch process killed (SIGKILL) at several points and started again
// ends with every request in the output exactly once: nothing lost,
// nothing duplicated, no partial line left.
func TestBatchKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	e := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Delay: 15 * time.Millisecond}))
	const n = 40
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"custom_id":"r%02d","method":"POST","url":"/v1/chat/completions","body":{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"q%d"}]}}`+"\n", i, i)
	}
	file := writeFile(t, "in.jsonl", in.String())
	out := filepath.Join(t.TempDir(), "out.jsonl")
	lines := func() int {
		data, _ := os.ReadFile(out)
		return strings.Count(string(data), "\n")
	}
	args := e.args("batch", "run", file, "--out", out, "--workers", "3")
	for _, killAt := range []int{3, 12, 25} {
		cmd, _, _, _ := startCLI(t, bin, args...)
		deadline := time.Now().Add(20 * time.Second)
		for lines() < killAt && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if got := lines(); got < killAt || got >= n {
			t.Fatalf("killed at %d lines, want between %d and %d", got, killAt, n)
		}
	}
	cmd, _, _, errOut := startCLI(t, bin, args...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last run: %v\n%s", err, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		var r struct {
			CustomID string `json:"custom_id"`
			Response struct {
				StatusCode int `json:"status_code"`
			} `json:"response"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Response.StatusCode != 200 {
			t.Fatalf("line %q: %v", line, err)
		}
		if seen[r.CustomID] {
			t.Errorf("%s twice", r.CustomID)
		}
		seen[r.CustomID] = true
	}
	if len(seen) != n || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("%d of %d requests in the output", len(seen), n)
	}
}

// Two processes sharing one Redis split a batch between them (--shard)
// at the emulator's own limits: every request is sent exactly once,
// which means no 429 (a refused request would be sent again).
func TestBatchTwoProcessesShareRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts redis-server")
	}
	bin := buildCLI(t)
	addr := redistest.Start(t)
	// Requests that take a while, so that more than two at once would
	// overlap, and an RPM that two unshared budgets would exceed. The
	// server allows one more of each than the shared limiter (2 at once,
	// 12 a minute): two unshared limiters (4 and 24) still overrun it,
	// while a loaded machine's scheduling delays, which at this time
	// scale exceed the limiter's one-bucket margin, do not.
	lim := catalog.Limits{Concurrency: 3, RPM: 13}
	e := setup(t, kimitest.WithLimits(lim), kimitest.WithTimeScale(60),
		kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Delay: 40 * time.Millisecond}))
	const n = 24
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"custom_id":"r%02d","method":"POST","url":"/v1/chat/completions","body":{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"q%d"}]}}`+"\n", i, i)
	}
	file := writeFile(t, "in.jsonl", in.String())
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var errs []*outputWatch
	for i := range 2 {
		cmd, _, _, errOut := startCLI(t, bin, e.args("--retries", "0", "batch", "run", file,
			"--out", filepath.Join(dir, fmt.Sprint("part", i, ".jsonl")), "--shard", fmt.Sprint(i, "/2"),
			"--limits", "concurrency=2,rpm=12", "--time-scale", "60", "--redis", "redis://"+addr)...)
		cmds, errs = append(cmds, cmd), append(errs, errOut)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, errs[i])
		}
	}
	if got := len(e.rec.requests()); got != n {
		t.Errorf("%d chat requests for %d lines: some were refused and sent again", got, n)
	}
	total := 0
	for i := range 2 {
		data, _ := os.ReadFile(filepath.Join(dir, fmt.Sprint("part", i, ".jsonl")))
		total += strings.Count(string(data), "\n")
	}
	if total != n {
		t.Errorf("%d results for %d lines", total, n)
	}
	// What the two charged is in Redis for anyone to see: under the name
	// they started with, before they learned the organization.
	st := decodeOne[map[string]any](t, []byte(cli(t, "", "--json", "quota", "status", "--redis", "redis://"+addr, "--org", "default", "--time-scale", "60").mustOK(t).stdout))
	if st["tpd"].(float64) <= 0 || st["concurrency"] != 0.0 {
		t.Errorf("quota status: %v", st)
	}
	cli(t, "", "quota", "status", "--org", "x").wantUsage(t)
}
