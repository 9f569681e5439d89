// Package ascii holds the byte-level text helpers that the client's
// message scans and the emulator's question reading share: they work on
// ASCII only, so that an offset found in their result is an offset in
// the original, whatever else the text holds.
package ascii

// Lower lower-cases the ASCII letters of s only (strings.ToLower may
// change the length of other characters).
func Lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// IsWordByte reports whether c continues an ASCII word: a letter, a digit
// or '_'.
func IsWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
