package onesdk_test

import (
	"os/exec"
	"strings"
	"testing"
)

// What a program links decides its size: the facade must not pull in the
// offline estimator's vocabulary (package tokencount) or package testing
// (through the emulator), and the client must not pull in regexp.
func TestLinkedPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for pkg, banned := range map[string][]string{
		"github.com/onesdk-go/onesdk":            {"github.com/tiktoken-go/tokenizer", "github.com/onesdk-go/onesdk/tokencount", "testing", "regexp"},
		"github.com/onesdk-go/onesdk/kimitest":   {"testing", "github.com/onesdk-go/onesdk/kimi"},
		"github.com/onesdk-go/onesdk/cmd/onesdk": {"testing"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range banned {
			for _, d := range deps {
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s links %s", pkg, d)
				}
			}
		}
	}
}
