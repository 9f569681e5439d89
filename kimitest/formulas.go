package kimitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// The Formula API (official tools): GET /v1/formulas/{ns}/{name}:{tag}/tools
// lists a formula's tools, POST …/fibers runs one of its functions
// (https://platform.moonshot.ai/docs/guide/use-official-tools).

// formula is one catalogue entry resolved for a request.
type formula struct {
	name  string            // URI name, "web-search"
	tools []json.RawMessage // entries served verbatim
	fns   map[string]*formulaFn
}

// formulaFn is a callable function and what its arguments are checked
// against.
type formulaFn struct {
	name     string // as the fiber names it; "excel.read_file" for plugins
	plugin   string // "excel" for a _plugin function, the local name is after the dot
	required []string
	props    map[string]paramSpec
}

type paramSpec struct {
	Type  string          `json:"type"`
	Enum  []string        `json:"enum"`
	Items json.RawMessage `json:"items"`
}

type fnParams struct {
	Properties map[string]paramSpec `json:"properties"`
	Required   []string             `json:"required"`
}

// formulas is the catalogue parsed once.
var formulas = sync.OnceValue(func() map[string]*formula {
	m := make(map[string]*formula, len(formulaCatalog))
	for name, entries := range formulaCatalog {
		f := &formula{name: name, fns: make(map[string]*formulaFn)}
		for _, raw := range entries {
			f.tools = append(f.tools, json.RawMessage(raw))
			var ent struct {
				Type     string `json:"type"`
				Function struct {
					Name       string   `json:"name"`
					Parameters fnParams `json:"parameters"`
				} `json:"function"`
				Plugin struct {
					Name      string `json:"name"`
					Functions []struct {
						Name       string   `json:"name"`
						Parameters fnParams `json:"parameters"`
					} `json:"functions"`
				} `json:"_plugin"`
			}
			if err := json.Unmarshal([]byte(raw), &ent); err != nil {
				panic("kimitest: bad formula catalogue entry for " + name + ": " + err.Error())
			}
			switch ent.Type {
			case "function":
				p := ent.Function.Parameters
				f.fns[ent.Function.Name] = &formulaFn{name: ent.Function.Name, required: p.Required, props: p.Properties}
			case "_plugin":
				for _, pf := range ent.Plugin.Functions {
					q := ent.Plugin.Name + "." + pf.Name
					f.fns[q] = &formulaFn{name: q, plugin: ent.Plugin.Name, required: pf.Parameters.Required, props: pf.Parameters.Properties}
				}
			}
		}
		m[name] = f
	}
	return m
})

// lookupFormula resolves the {ns} and {ref} path values; nil for anything
// outside the catalogue (quickjs and code_runner are documented but
// answer 404 live).
func lookupFormula(ns, ref string) *formula {
	if ns != "moonshot" {
		return nil
	}
	name, tag, _ := strings.Cut(ref, ":")
	if tag != "" && tag != "latest" {
		return nil
	}
	return formulas()[name]
}

func (e *Emulator) handleFormulaTools(w http.ResponseWriter, r *http.Request, a *account) {
	f := lookupFormula(r.PathValue("ns"), r.PathValue("ref"))
	if f == nil {
		writeError(w, errFormulaNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "tools": f.tools})
}

// fiber is the Fiber object, in the field order of the documented sample.
type fiber struct {
	ID             string       `json:"id"`
	Object         string       `json:"object"`
	CreatedAt      int64        `json:"created_at"`
	LambdaID       string       `json:"lambda_id"`
	Status         string       `json:"status"`
	Context        fiberContext `json:"context"`
	Formula        string       `json:"formula"`
	OrganizationID string       `json:"organization_id"`
	ProjectID      string       `json:"project_id"`
	Error          string       `json:"error,omitempty"`
}

type fiberContext struct {
	Input           string  `json:"input"`
	Output          *string `json:"output,omitempty"`
	EncryptedOutput string  `json:"encrypted_output,omitempty"`
	Error           string  `json:"error,omitempty"`
}

func (e *Emulator) handleFormulaFiber(w http.ResponseWriter, r *http.Request, a *account) {
	f := lookupFormula(r.PathValue("ns"), r.PathValue("ref"))
	if f == nil {
		writeError(w, errFormulaNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFiberBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, errFiberBodyTooLarge)
		} else {
			writeError(w, errFiberBody)
		}
		return
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		writeError(w, errFiberBody)
		return
	}
	var name, args string
	if err := fiberStringField(req, "name", &name); err != nil {
		writeError(w, err)
		return
	}
	if err := fiberStringField(req, "arguments", &args); err != nil {
		writeError(w, err)
		return
	}
	var input bytes.Buffer
	json.Compact(&input, body) // body is valid JSON: cannot fail
	fb := &fiber{ID: "fiber-" + randAlnum(20), Object: "fiber", CreatedAt: e.clock.Now().Unix(),
		LambdaID: "lambda-" + randAlnum(20), Formula: "moonshot/" + f.name + ":latest",
		OrganizationID: a.OrgID, ProjectID: a.ProjectID, Context: fiberContext{Input: input.String()}}
	fn := f.fns[name]
	if fn == nil {
		fb.Status, fb.Error = "failed", fiberNoLambda
		writeJSON(w, http.StatusOK, fb)
		return
	}
	parsed, msg := checkFiberArgs(fn, args)
	if msg != "" {
		fb.Status, fb.Context.Error = "failed", msg
		writeJSON(w, http.StatusOK, fb)
		return
	}
	if fn.name == "web_search" {
		// The paid formula is refused like chat once the balance is spent.
		if aerr := e.quotaError(a); aerr != nil {
			writeError(w, aerr)
			return
		}
	}
	fb.Status = "succeeded"
	out := e.runFormula(r, a, fn, args, parsed)
	if len(out) > maxFormulaOutput {
		out = truncUTF8(out, maxFormulaOutput)
	}
	if fn.name == "web_search" {
		// Billed as the builtin $web_search: the pricing page prices only
		// that, the formula is said to be "charged" without a figure.
		a.ledger.add(Charge{Kind: ChargeWebSearch, Time: e.clock.Now(), Amount: webSearchFee, Model: fb.Formula})
		fb.Context.EncryptedOutput = out
	} else {
		fb.Context.Output = &out
	}
	writeJSON(w, http.StatusOK, fb)
}

// fiberStringField reads a required string field of the fiber body.
func fiberStringField(req map[string]json.RawMessage, key string, dst *string) *apiError {
	raw, ok := req[key]
	if !ok || string(raw) == "null" {
		return errFiberField(key, "is required")
	}
	if json.Unmarshal(raw, dst) != nil {
		return errFiberField(key, "must be a string")
	}
	return nil
}

// checkFiberArgs decodes the arguments string and checks it against the
// function's schema: required parameters, JSON types and enums. The
// message names the offending parameter; "" means the call may run.
func checkFiberArgs(fn *formulaFn, args string) (map[string]json.RawMessage, string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &m); err != nil || m == nil {
		return nil, fiberArgsNotObject
	}
	for _, k := range fn.required {
		if v, ok := m[k]; !ok || string(v) == "null" {
			return nil, fiberArgMissing(k)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad parameter reported is stable
	for _, k := range keys {
		spec, ok := fn.props[k]
		v := m[k]
		if !ok || string(v) == "null" {
			continue // unknown and null optional parameters are ignored, as JSON-schema tools usually do
		}
		if !jsonHasType(v, spec.Type) {
			return nil, fiberArgType(k, spec.Type)
		}
		if len(spec.Enum) > 0 {
			var s string
			json.Unmarshal(v, &s)
			if !slices.Contains(spec.Enum, s) {
				return nil, fiberArgEnum(k, spec.Enum)
			}
		}
		if spec.Type == "array" && len(spec.Items) > 0 {
			var items paramSpec
			var elems []json.RawMessage
			json.Unmarshal(spec.Items, &items)
			json.Unmarshal(v, &elems)
			for _, el := range elems {
				if !jsonHasType(el, items.Type) || (len(items.Enum) > 0 && !slices.Contains(items.Enum, rawString(el))) {
					return nil, fiberArgItems(k, items.Type, items.Enum)
				}
			}
		}
	}
	return m, ""
}

// jsonHasType reports whether v is a JSON value of the schema type t (""
// accepts anything). An integer must have no fraction (2.0 counts, as in
// JSON Schema).
func jsonHasType(v json.RawMessage, t string) bool {
	s := bytes.TrimSpace(v)
	if len(s) == 0 {
		return false
	}
	switch t {
	case "":
		return true
	case "string":
		return s[0] == '"'
	case "boolean":
		return string(s) == "true" || string(s) == "false"
	case "object":
		return s[0] == '{'
	case "array":
		return s[0] == '['
	case "number", "integer":
		var f float64
		if s[0] == '"' || json.Unmarshal(s, &f) != nil {
			return false
		}
		return t == "number" || (f == float64(int64(f)) && f >= -1<<53 && f <= 1<<53)
	}
	return true
}

func rawString(v json.RawMessage) string {
	var s string
	json.Unmarshal(v, &s)
	return s
}

// runFormula runs a function whose arguments passed the schema. Domain
// errors come back as output starting "ERROR: ", as the live excel
// lambda reports its own failures.
func (e *Emulator) runFormula(r *http.Request, a *account, fn *formulaFn, raw string, args map[string]json.RawMessage) string {
	if fn.plugin == "excel" {
		return runExcel(r.Context(), a.files, strings.TrimPrefix(fn.name, "excel."), args)
	}
	switch fn.name {
	case "web_search":
		var q struct {
			Query   string   `json:"query"`
			Classes []string `json:"classes"`
		}
		b, _ := json.Marshal(args)
		json.Unmarshal(b, &q)
		return webSearchEnvelope(q.Query, q.Classes)
	case "convert":
		return toolConvert(args)
	case "rethink":
		return rethinkOutput
	case "random_choice":
		return toolRandomChoice(raw, args)
	case "mew_generator":
		return toolMew(raw, args)
	case "memory":
		return a.memory.run(e.clock.Now(), args)
	case "date":
		return toolDate(e.clock.Now(), args)
	case "base64_encode":
		return toolBase64(true, args)
	case "base64_decode":
		return toolBase64(false, args)
	case "fetch":
		return toolFetch(e.cfg.fetchPages, args)
	}
	return "ERROR: not implemented"
}

// truncUTF8 cuts s to at most n bytes without splitting a character.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
