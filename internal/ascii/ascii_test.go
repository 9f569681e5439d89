package ascii

import "testing"

func TestLower(t *testing.T) {
	for in, want := range map[string]string{"": "", "Try AGAIN 5": "try again 5", "İstanbul ÄB": "İstanbul Äb", "北京ABC": "北京abc"} {
		if got := Lower(in); got != want || len(got) != len(in) {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsWordByte(t *testing.T) {
	for c := range 256 {
		want := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if IsWordByte(byte(c)) != want {
			t.Errorf("IsWordByte(%q) = %t", rune(c), !want)
		}
	}
}
