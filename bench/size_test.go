package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// helloLimit is the size the facade's hello world must stay under: 10 MB,
// a little above a bare net/http GET (about 8.5 MB); BENCHMARKS.md records
// the figure and what used to make it larger.
const helloLimit = 10_000_000

// TestHelloWorldSize builds bench/hello (onesdk.New and one Generate) as a
// user would and fails when it outgrows helloLimit, so that whatever starts
// linking something heavy into the facade is caught in the change that does
// it. TestLinkedPackages in the root module names the usual culprits.
func TestHelloWorldSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", out, "./hello")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hello: %v\n%s", err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hello world: %d bytes", fi.Size())
	if fi.Size() >= helloLimit {
		t.Errorf("the facade's hello world is %d bytes, want under %d", fi.Size(), helloLimit)
	}
}
