// Package redistest starts redis-server processes for tests: each on a
// free loopback port, persisting nothing, stopped with its test.
package redistest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start starts a redis-server of the test's own on a free loopback
// port, persisting nothing, and stops it when the test ends; extra are
// more of its options. It returns the server's address. Without the
// binary the test is skipped, except in CI (CI set), where that fails.
func Start(tb testing.TB, extra ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redis-server not found (%v): CI must install it (apt-get install -y redis-server)", err)
		}
		tb.Skip("redis-server not found: install it with apt-get install -y redis-server")
	}
	// A free port can be taken by someone else before the server binds
	// it: try another.
	var last string
	for range 3 {
		addr, log, ok := tryRedis(tb, bin, extra)
		if ok {
			return addr
		}
		last = log
	}
	tb.Fatalf("redis-server did not start; its log:\n%s", last)
	return ""
}

// tryRedis starts one server; it reports false (and the server's log) if
// the server did not answer PING.
func tryRedis(tb testing.TB, bin string, extra []string) (addr, log string, ok bool) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	addr = net.JoinHostPort("127.0.0.1", port)

	dir := tb.TempDir()
	logFile := filepath.Join(dir, "redis.log")
	args := append([]string{
		"--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--logfile", logFile,
	}, extra...)
	cmd := exec.Command(bin, args...)
	// The server dies with the test binary even when no cleanup runs (a
	// test timeout), where the platform allows it (Linux's Pdeathsig).
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	cmd.SysProcAttr = attr

	started, done := make(chan error, 1), make(chan struct{})
	go func() {
		// Pdeathsig fires when the thread that started the child ends,
		// not the process: this goroutine keeps its thread, unshared,
		// for as long as the server runs.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}

	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-done:
			b, _ := os.ReadFile(logFile)
			return "", string(b), false
		default:
		}
		if redisPing(addr) {
			tb.Cleanup(stop)
			return addr, "", true
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	b, _ := os.ReadFile(logFile)
	return "", string(b) + "\n(no answer to PING in 10 s)", false
}

// redisPing reports whether a Redis at addr answers PING.
func redisPing(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}
