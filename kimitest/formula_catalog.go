package kimitest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"strings"
)

// The official formula catalogue, served by GET /v1/formulas/{uri}/tools
// (https://platform.moonshot.ai/docs/guide/use-official-tools).
// formula_catalog.json holds the platform's answers for the ten formulas
// it serves, keyed by URI, as captured from api.moonshot.cn in 2026 (a
// public snapshot: github.com/Medesol/dsh-kimi-formula,
// formula-tools.snapshot.json). The entries are kept in the platform's key
// order ("function" before "type"; name, description, parameters inside),
// so a client appending them to a chat request sends what it would send
// live. A platform change is an edit of that file alone.
//
//go:embed formula_catalog.json
var formulaCatalogJSON []byte

// formulaCatalog maps a formula name (the URI's name part) to its tool
// entries, compact JSON. The excel entry is a _plugin (formula_excel.go).
var formulaCatalog = func() map[string][]string {
	var byURI map[string]struct {
		Tools []json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(formulaCatalogJSON, &byURI); err != nil {
		panic("kimitest: formula_catalog.json: " + err.Error())
	}
	m := make(map[string][]string, len(byURI))
	for uri, body := range byURI {
		name := strings.TrimSuffix(strings.TrimPrefix(uri, "moonshot/"), ":latest")
		for _, t := range body.Tools {
			var b bytes.Buffer
			json.Compact(&b, t)
			m[name] = append(m[name], b.String())
		}
	}
	return m
}()
