package kimitest

import (
	"encoding/base64"
	"encoding/json"
)

// Temporary stand-in for formula_envelope.go.
func webSearchEnvelope(query string, classes []string) string {
	b, _ := json.Marshal(map[string]any{"query": query, "classes": classes})
	return "----MOONSHOT ENCRYPTED BEGIN----" + base64.StdEncoding.EncodeToString(b) + "----MOONSHOT ENCRYPTED END----"
}
