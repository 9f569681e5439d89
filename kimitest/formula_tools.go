package kimitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones independent of the host
	"unicode/utf8"
)

// The formulas' functions, run by the emulator itself, deterministically.
// Their "ERROR: " texts are the emulator's own (assumed): the live tools'
// messages are not public beyond excel's "File <id> is empty or not
// found".

func argString(args map[string]json.RawMessage, k, def string) string {
	v, ok := args[k]
	if !ok || string(v) == "null" {
		return def
	}
	var s string
	json.Unmarshal(v, &s)
	return s
}

func argFloat(args map[string]json.RawMessage, k string, def float64) float64 {
	v, ok := args[k]
	if !ok || string(v) == "null" {
		return def
	}
	var f float64
	if json.Unmarshal(v, &f) != nil {
		return def
	}
	return f
}

// argInt reads an integer argument (the schema check has made sure it is
// one), clamped to ±2^53.
func argInt(args map[string]json.RawMessage, k string, def int64) int64 {
	f := argFloat(args, k, float64(def))
	return int64(max(min(f, 1<<53), -(1 << 53)))
}

func argBool(args map[string]json.RawMessage, k string) bool {
	return string(args[k]) == "true"
}

// pyFloat prints f as Python's repr does: the shortest round-tripping
// digits, ".0" on integral values, exponent form outside [1e-4, 1e16).
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e16 || a < 1e-4 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyRound2 is Python's round(f, 2) for the values printed here.
func pyRound2(f float64) float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return f
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 2, 64), 64)
	return r
}

// unit is one unit of the convert tool: value in the kind's base unit =
// value × factor (temperature is affine and handled apart).
type unit struct {
	kind   string
	symbol string
	factor float64
}

var convertUnits = sync.OnceValue(func() map[string]unit {
	m := make(map[string]unit)
	add := func(kind, symbol string, factor float64, names ...string) {
		u := unit{kind, symbol, factor}
		m[strings.ToLower(symbol)] = u
		for _, n := range names {
			m[strings.ToLower(n)] = u
		}
	}
	// length, base metre
	add("length", "m", 1, "meter", "meters", "metre", "metres")
	add("length", "km", 1000, "kilometer", "kilometers", "kilometre", "kilometres")
	add("length", "cm", 0.01, "centimeter", "centimeters", "centimetre", "centimetres")
	add("length", "mm", 0.001, "millimeter", "millimeters", "millimetre", "millimetres")
	add("length", "µm", 1e-6, "um", "micrometer", "micrometers", "micron", "microns")
	add("length", "nm", 1e-9, "nanometer", "nanometers")
	add("length", "in", 0.0254, "inch", "inches", "\"")
	add("length", "ft", 0.3048, "foot", "feet", "'")
	add("length", "yd", 0.9144, "yard", "yards")
	add("length", "mi", 1609.344, "mile", "miles")
	add("length", "nmi", 1852, "nautical mile", "nautical miles")
	// mass, base kilogram
	add("mass", "kg", 1, "kilogram", "kilograms", "kilo", "kilos")
	add("mass", "g", 0.001, "gram", "grams", "gramme")
	add("mass", "mg", 1e-6, "milligram", "milligrams")
	add("mass", "t", 1000, "tonne", "tonnes", "metric ton", "metric tons")
	add("mass", "lb", 0.45359237, "lbs", "pound", "pounds")
	add("mass", "oz", 0.028349523125, "ounce", "ounces")
	add("mass", "st", 6.35029318, "stone", "stones")
	// volume, base litre
	add("volume", "L", 1, "l", "liter", "liters", "litre", "litres")
	add("volume", "mL", 0.001, "milliliter", "milliliters", "millilitre", "millilitres")
	add("volume", "m^3", 1000, "m3", "m³", "cubic meter", "cubic meters")
	add("volume", "cm^3", 0.001, "cm3", "cm³", "cc")
	add("volume", "gal", 3.785411784, "gallon", "gallons")
	add("volume", "qt", 0.946352946, "quart", "quarts")
	add("volume", "pt", 0.473176473, "pint", "pints")
	add("volume", "cup", 0.2365882365, "cups")
	add("volume", "floz", 0.0295735295625, "fl oz", "fl_oz", "fluid ounce", "fluid ounces")
	add("volume", "tbsp", 0.01478676478125, "tablespoon", "tablespoons")
	add("volume", "tsp", 0.00492892159375, "teaspoon", "teaspoons")
	// temperature (affine; factor unused)
	add("temperature", "°C", 0, "c", "degc", "celsius", "℃")
	add("temperature", "°F", 0, "f", "degf", "fahrenheit", "℉")
	add("temperature", "K", 0, "kelvin", "kelvins", "degk")
	// area, base square metre
	add("area", "m^2", 1, "m2", "m²", "square meter", "square meters", "sqm")
	add("area", "km^2", 1e6, "km2", "km²", "square kilometer", "square kilometers")
	add("area", "cm^2", 1e-4, "cm2", "cm²")
	add("area", "ft^2", 0.09290304, "ft2", "ft²", "sqft", "square foot", "square feet")
	add("area", "in^2", 0.00064516, "in2", "in²", "square inch", "square inches")
	add("area", "mi^2", 2589988.110336, "mi2", "mi²", "square mile", "square miles")
	add("area", "acre", 4046.8564224, "acres", "ac")
	add("area", "hectare", 1e4, "hectares", "ha")
	// time, base second
	add("time", "s", 1, "sec", "secs", "second", "seconds")
	add("time", "ms", 0.001, "millisecond", "milliseconds")
	add("time", "min", 60, "minute", "minutes", "mins")
	add("time", "h", 3600, "hr", "hrs", "hour", "hours")
	add("time", "day", 86400, "d", "days")
	add("time", "week", 604800, "weeks", "wk")
	add("time", "year", 31536000, "years", "yr", "yrs") // 365 days
	// energy, base joule
	add("energy", "J", 1, "joule", "joules")
	add("energy", "kJ", 1000, "kilojoule", "kilojoules")
	add("energy", "cal", 4.184, "calorie", "calories")
	add("energy", "kcal", 4184, "kilocalorie", "kilocalories")
	add("energy", "Wh", 3600, "watt hour", "watt hours")
	add("energy", "kWh", 3.6e6, "kilowatt hour", "kilowatt hours")
	add("energy", "eV", 1.602176634e-19, "electronvolt", "electronvolts")
	add("energy", "BTU", 1055.05585262, "btus")
	// pressure, base pascal
	add("pressure", "Pa", 1, "pascal", "pascals")
	add("pressure", "kPa", 1000, "kilopascal", "kilopascals")
	add("pressure", "MPa", 1e6, "megapascal", "megapascals")
	add("pressure", "bar", 1e5, "bars")
	add("pressure", "atm", 101325, "atmosphere", "atmospheres")
	add("pressure", "psi", 6894.757293168361)
	add("pressure", "mmHg", 133.322387415)
	add("pressure", "torr", 101325.0/760)
	// speed, base metre per second
	add("speed", "m/s", 1, "mps", "meters per second")
	add("speed", "km/h", 1/3.6, "kph", "kmh", "kilometers per hour")
	add("speed", "mph", 0.44704, "mi/h", "miles per hour")
	add("speed", "knot", 1852.0/3600, "knots", "kn", "kt")
	add("speed", "ft/s", 0.3048, "fps", "feet per second")
	return m
})

// currencies are listed by the live tool, which quotes live rates.
var currencies = []string{"usd", "eur", "cny", "rmb", "jpy", "gbp", "hkd", "krw", "aud", "cad", "chf", "sgd", "inr", "rub"}

func lookupUnit(s string) (unit, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	u, ok := convertUnits()[k]
	if !ok {
		u, ok = convertUnits()[strings.TrimPrefix(k, "°")]
	}
	return u, ok
}

func toolConvert(args map[string]json.RawMessage) string {
	v := argFloat(args, "value", 0)
	from, to := argString(args, "from_unit", ""), argString(args, "to_unit", "")
	if len(from) > maxFormulaString || len(to) > maxFormulaString {
		return "ERROR: unit name too long"
	}
	for _, s := range []string{from, to} {
		if slices.Contains(currencies, strings.ToLower(strings.TrimSpace(s))) {
			// Exchange rates change daily and the emulator is offline.
			return "ERROR: currency conversion is not available: no exchange rates offline"
		}
	}
	fu, ok := lookupUnit(from)
	if !ok {
		return fmt.Sprintf("ERROR: unknown unit: %s", from)
	}
	tu, ok := lookupUnit(to)
	if !ok {
		return fmt.Sprintf("ERROR: unknown unit: %s", to)
	}
	if fu.kind != tu.kind {
		return fmt.Sprintf("ERROR: cannot convert %s (%s) to %s (%s)", from, fu.kind, to, tu.kind)
	}
	var r float64
	if fu.kind == "temperature" {
		k := v
		switch fu.symbol {
		case "°C":
			k = v + 273.15
		case "°F":
			k = (v-32)*5/9 + 273.15
		}
		switch tu.symbol {
		case "°C":
			r = k - 273.15
		case "°F":
			r = (k-273.15)*9/5 + 32
		default:
			r = k
		}
	} else {
		r = v * fu.factor / tu.factor
	}
	return fmt.Sprintf("%s %s = %s %s", pyFloat(v), fu.symbol, pyFloat(pyRound2(r)), tu.symbol)
}

// toolBase64 encodes data's text in encoding to base64, or decodes.
func toolBase64(encode bool, args map[string]json.RawMessage) string {
	data := argString(args, "data", "")
	enc := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(argString(args, "encoding", "utf-8"))), "_", "-")
	switch enc {
	case "utf-8", "utf8", "ascii", "us-ascii", "latin-1", "latin1", "iso-8859-1":
	default:
		return "ERROR: unknown encoding: " + truncUTF8(argString(args, "encoding", ""), 64)
	}
	if encode {
		var b []byte
		for _, r := range data {
			switch {
			case enc == "utf-8" || enc == "utf8":
				b = utf8.AppendRune(b, r)
			case r < 0x80 || (r < 0x100 && strings.Contains(enc, "latin") || r < 0x100 && enc == "iso-8859-1"):
				b = append(b, byte(r))
			default:
				return fmt.Sprintf("ERROR: '%s' codec can't encode character %U", enc, r)
			}
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return "ERROR: invalid base64 data: " + err.Error()
	}
	switch enc {
	case "utf-8", "utf8":
		if !utf8.Valid(b) {
			return "ERROR: decoded bytes are not valid utf-8"
		}
		return string(b)
	case "ascii", "us-ascii":
		for _, c := range b {
			if c >= 0x80 {
				return "ERROR: decoded bytes are not valid ascii"
			}
		}
		return string(b)
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// toolRandomChoice draws with the given seed, else a seed derived from
// the arguments, so that the same call gives the same answer.
func toolRandomChoice(raw string, args map[string]json.RawMessage) string {
	var cands []string
	var weights []float64
	json.Unmarshal(args["candidates"], &cands)
	if w, ok := args["weights"]; ok && string(w) != "null" {
		json.Unmarshal(w, &weights)
		if weights == nil {
			weights = []float64{}
		}
	}
	count := argInt(args, "count", 1)
	replace := argBool(args, "replace")
	format := argString(args, "format", "simple")
	switch {
	case len(cands) == 0:
		return "ERROR: candidates must not be empty"
	case len(cands) > maxRandomCandidates:
		return fmt.Sprintf("ERROR: at most %d candidates", maxRandomCandidates)
	case count < 1:
		return "ERROR: count must be at least 1"
	case count > maxRandomCandidates:
		return fmt.Sprintf("ERROR: count must be at most %d", maxRandomCandidates)
	case !replace && count > int64(len(cands)):
		return fmt.Sprintf("ERROR: count (%d) exceeds the number of candidates (%d) without replacement", count, len(cands))
	case weights != nil && len(weights) != len(cands):
		return fmt.Sprintf("ERROR: weights has %d entries, candidates has %d", len(weights), len(cands))
	}
	var total float64
	for _, w := range weights {
		if w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return "ERROR: weights must be non-negative numbers"
		}
		total += w
	}
	switch {
	case weights != nil && math.IsInf(total, 0):
		return "ERROR: Total of weights must be finite" // Python's words
	case weights != nil && total <= 0:
		return "ERROR: Total of weights must be greater than zero"
	}
	var seed uint64
	if s, ok := args["seed"]; ok && string(s) != "null" {
		v := argInt(args, "seed", 0)
		if v < 0 {
			v = -v // random.seed uses abs(n)
		}
		seed = uint64(v)
	} else {
		h := fnv.New64a()
		h.Write([]byte(raw))
		seed = h.Sum64()
	}
	// As Python's random: sample without replacement, choices with it;
	// weighted picks without replacement are assumed to be choices over
	// the candidates not yet picked.
	rng := newPyRandom(seed)
	var picked []string
	switch {
	case weights == nil && !replace:
		for _, i := range rng.sample(len(cands), int(count)) {
			picked = append(picked, cands[i])
		}
	case weights == nil:
		for range count {
			picked = append(picked, cands[rng.choice(len(cands), nil)])
		}
	default:
		idx := make([]int, len(cands))
		for i := range idx {
			idx[i] = i
		}
		for range count {
			cum := make([]float64, len(idx))
			sum := 0.0
			for k, p := range idx {
				sum += weights[p]
				cum[k] = sum
			}
			if sum <= 0 {
				return "ERROR: not enough candidates with a positive weight"
			}
			k := rng.choice(len(idx), cum)
			picked = append(picked, cands[idx[k]])
			if !replace {
				idx = slices.Delete(idx, k, k+1)
			}
		}
	}
	switch format {
	case "json":
		return pyJSON(struct {
			Selected        []string `json:"selected"`
			Count           int      `json:"count"`
			TotalCandidates int      `json:"total_candidates"`
			Replace         bool     `json:"replace"`
			Seed            uint64   `json:"seed"`
		}{picked, len(picked), len(cands), replace, seed})
	case "detailed":
		var sb strings.Builder
		fmt.Fprintf(&sb, "Selected %d of %d candidates (replace=%t, seed=%d):", len(picked), len(cands), replace, seed)
		for i, p := range picked {
			fmt.Fprintf(&sb, "\n%d. %s", i+1, p)
		}
		return sb.String()
	}
	return strings.Join(picked, ", ")
}

// rethinkOutput is what the live rethink answers, whatever the thought
// (it "does not return any information").
const rethinkOutput = `{"thought": "I have thought about it and I think it is a good idea to do something."}`

// mewLines are the sound and the blessing per mood: happy's are the live
// tool's (its answer to {"mood": "happy"}), the others the emulator's.
var mewMoods = []string{"happy", "sleepy", "hungry", "playful", "grumpy"}

var mewLines = map[string][2]string{
	"happy":   {"喵喵喵~", "愿你的生活像猫咪一样悠闲自在！"}, // as the live tool answers
	"sleepy":  {"喵……呼噜……", "愿你今晚好梦，醒来精神满满。"},
	"hungry":  {"喵呜！喵呜！", "愿你的饭碗永远满满，生活有滋有味。"},
	"playful": {"喵！喵喵！", "愿你保持好奇心，每天都有新的乐趣。"},
	"grumpy":  {"哼……喵。", "愿烦恼像猫毛一样，一梳就掉。"},
}

func toolMew(raw string, args map[string]json.RawMessage) string {
	mood := argString(args, "mood", "")
	if mood == "" {
		h := fnv.New32a()
		h.Write([]byte(raw))
		mood = mewMoods[h.Sum32()%uint32(len(mewMoods))]
	}
	l := mewLines[mood]
	return pyJSON(struct {
		Sound    string `json:"sound"`
		Blessing string `json:"blessing"`
		Mood     string `json:"mood"`
	}{l[0], l[1], mood})
}

// memoryStore is the memory formula's per-organization key-value store;
// entries expire on the emulator's clock.
type memoryStore struct {
	mu      sync.Mutex
	entries map[string]memoryEntry
	bytes   int
}

type memoryEntry struct {
	data    json.RawMessage
	expires time.Time
}

func (m *memoryStore) purge(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			m.bytes -= len(k) + len(e.data)
			delete(m.entries, k)
		}
	}
}

// memoryJSON is an answer of the memory tool, in Python's JSON spacing.
// A retrieve answers the stored data itself, as the live tool does
// ({"note": "hello from dsh"}); the other actions' answers are assumed.
func memoryJSON(v any) string { return pyJSON(v) }

func (m *memoryStore) run(now time.Time, args map[string]json.RawMessage) string {
	action := argString(args, "action", "")
	key := argString(args, "key", "")
	if len(key) > maxFormulaString || len(argString(args, "prefix", "")) > maxFormulaString {
		return "ERROR: key too long"
	}
	if action != "list" && key == "" {
		return "ERROR: key is required for " + action
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = make(map[string]memoryEntry)
	}
	m.purge(now)
	switch action {
	case "store":
		data, ok := args["data"]
		if !ok || string(data) == "null" {
			return "ERROR: data is required for store"
		}
		ttl := argInt(args, "ttl", 86400)
		if ttl <= 0 {
			return "ERROR: ttl must be a positive number of seconds"
		}
		ttl = min(ttl, 100*365*86400)
		old, had := m.entries[key]
		size := m.bytes + len(key) + len(data)
		if had {
			size -= len(key) + len(old.data)
		}
		if size > maxMemoryBytes || (!had && len(m.entries) >= maxMemoryEntries) {
			return fmt.Sprintf("ERROR: memory full: at most %d entries and %d bytes", maxMemoryEntries, maxMemoryBytes)
		}
		m.entries[key] = memoryEntry{data: data, expires: now.Add(time.Duration(ttl) * time.Second)}
		m.bytes = size
		return memoryJSON(map[string]any{"success": true, "action": "store", "key": key, "ttl": ttl})
	case "retrieve":
		e, ok := m.entries[key]
		if !ok {
			return "ERROR: memory not found: " + key
		}
		return memoryJSON(e.data)
	case "delete":
		e, ok := m.entries[key]
		if !ok {
			return "ERROR: memory not found: " + key
		}
		m.bytes -= len(key) + len(e.data)
		delete(m.entries, key)
		return memoryJSON(map[string]any{"success": true, "action": "delete", "key": key})
	}
	prefix := argString(args, "prefix", "")
	keys := []string{}
	for k := range m.entries {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return memoryJSON(map[string]any{"success": true, "action": "list", "keys": keys, "count": len(keys)})
}

// strftimeLayouts are the Go layouts of the strftime directives the date
// tool writes; strptime reads the same directives by hand, since Go's
// layouts want fixed widths where Python takes one digit.
var strftimeLayouts = map[byte]string{'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04",
	'S': "05", 'j': "002", 'A': "Monday", 'a': "Mon", 'B': "January", 'b': "Jan", 'p': "PM", 'Z': "MST", 'z': "-0700"}

type strftimePart struct {
	text   string
	layout bool
}

// strftimeParts splits a strftime format into literal text and the Go
// layouts of its directives (layout true); a directive with no layout is
// kept as literal text, as glibc does ("%%" is a literal "%").
func strftimeParts(format string) []strftimePart {
	var parts []strftimePart
	add := func(text string, layout bool) { parts = append(parts, strftimePart{text, layout}) }
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c != '%' || i+1 == len(format):
			add(string(c), false)
		case format[i+1] == '%':
			add("%", false)
			i++
		default:
			i++
			if l, ok := strftimeLayouts[format[i]]; ok {
				add(l, true)
			} else {
				add(format[i-1:i+1], false)
			}
		}
	}
	return parts
}

// strftime formats t as Python's time.strftime does for the common
// directives; others are kept literally, as glibc does.
func strftime(t time.Time, format string) string {
	var sb strings.Builder
	for _, p := range strftimeParts(format) {
		if p.layout {
			sb.WriteString(t.Format(p.text))
		} else {
			sb.WriteString(p.text)
		}
	}
	return sb.String()
}

// The English day and month names strptime reads (%A %a %B %b).
var (
	weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	monthNames   = []string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
)

// strptime parses s as Python's time.strptime does for the directives of
// strftimeLayouts: numbers of one digit up to the field's width, names in
// any case, AM/PM, a numeric zone; whitespace in the format matches any
// run of whitespace, other text itself. The wall clock is read in loc
// unless s gives its own offset.
func strptime(s, format string, loc *time.Location) (time.Time, bool) {
	year, month, day, hour, minute, sec, yday := 1900, 1, 1, 0, 0, 0, 0
	pm, offset := -1, -1<<31
	names := func(long []string, short bool) int {
		for k, n := range long {
			if short {
				n = n[:3]
			}
			if len(s) >= len(n) && strings.EqualFold(s[:len(n)], n) {
				s = s[len(n):]
				return k
			}
		}
		return -1
	}
	digits := func(width int) (int, bool) {
		n := 0
		for n < width && n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 {
			return 0, false
		}
		v, _ := strconv.Atoi(s[:n])
		s = s[n:]
		return v, true
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == ' ' || c == '\t' || c == '\n' {
			s = strings.TrimLeft(s, " \t\n\r")
			continue
		}
		if c != '%' || i+1 == len(format) || format[i+1] == '%' {
			if i+1 < len(format) && c == '%' {
				i++
			}
			if s == "" || !strings.EqualFold(s[:1], string(c)) {
				return time.Time{}, false
			}
			s = s[1:]
			continue
		}
		i++
		ok := true
		switch format[i] {
		case 'Y':
			year, ok = digits(4)
		case 'y':
			var y int
			if y, ok = digits(2); y < 69 {
				year = 2000 + y
			} else {
				year = 1900 + y
			}
		case 'm':
			month, ok = digits(2)
		case 'd':
			day, ok = digits(2)
		case 'H', 'I':
			hour, ok = digits(2)
		case 'M':
			minute, ok = digits(2)
		case 'S':
			sec, ok = digits(2)
		case 'j':
			yday, ok = digits(3)
		case 'A', 'a':
			ok = names(weekdayNames, format[i] == 'a') >= 0
		case 'B', 'b':
			var m int
			if m = names(monthNames, format[i] == 'b'); m >= 0 {
				month = m + 1
			}
			ok = m >= 0
		case 'p':
			pm = names([]string{"AM", "PM"}, false)
			ok = pm >= 0
		case 'Z':
			n := 0
			for n < len(s) && (s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z') {
				n++
			}
			s, ok = s[n:], n > 0
		case 'z':
			if strings.HasPrefix(s, "Z") {
				s, offset = s[1:], 0
				break
			}
			if len(s) < 5 || s[0] != '+' && s[0] != '-' {
				return time.Time{}, false
			}
			sign := 1
			if s[0] == '-' {
				sign = -1
			}
			hm := strings.Replace(s[1:min(len(s), 6)], ":", "", 1)
			if len(hm) < 4 {
				return time.Time{}, false
			}
			h, err1 := strconv.Atoi(hm[:2])
			m, err2 := strconv.Atoi(hm[2:4])
			if err1 != nil || err2 != nil {
				return time.Time{}, false
			}
			offset = sign * (h*3600 + m*60)
			s = s[1+4+strings.Count(s[1:min(len(s), 6)], ":"):]
		default:
			return time.Time{}, false // a directive this parser does not read
		}
		if !ok {
			return time.Time{}, false
		}
	}
	if s != "" || month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 61 {
		return time.Time{}, false
	}
	if pm >= 0 {
		if hour < 1 || hour > 12 {
			return time.Time{}, false
		}
		hour = hour%12 + 12*pm
	}
	if offset != -1<<31 {
		loc = time.FixedZone("", offset)
	}
	if yday > 0 {
		t := time.Date(year, 1, yday, hour, minute, min(sec, 59), 0, loc)
		return t, t.Year() == year
	}
	t := time.Date(year, time.Month(month), day, hour, minute, min(sec, 59), 0, loc)
	return t, t.Day() == day // refuses 31 April, as Python does
}

// parseDate reads s in loc: in format first, then the ISO forms.
func parseDate(s, format string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, f := range []string{format, "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S"} {
		if t, ok := strptime(s, f, loc); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// wallDays is the whole days from a to b, floored (negative when b is
// earlier), on their wall clocks, as Python's (b - a).days on naive
// datetimes.
func wallDays(a, b time.Time) int64 {
	wall := func(t time.Time) int64 {
		y, m, d := t.Date()
		h, mi, s := t.Clock()
		return time.Date(y, m, d, h, mi, s, 0, time.UTC).Unix()
	}
	diff := wall(b) - wall(a)
	days := diff / 86400
	if diff%86400 != 0 && diff < 0 {
		days--
	}
	return days
}

func loadZone(name string) (*time.Location, string) {
	if name == "" {
		return time.UTC, ""
	}
	if len(name) > 128 {
		return nil, "ERROR: unknown time zone"
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		return nil, "ERROR: unknown time zone: " + name
	}
	return loc, ""
}

// toolDate works on the emulator's clock; zones default to UTC.
func toolDate(now time.Time, args map[string]json.RawMessage) string {
	format := argString(args, "format", "%Y-%m-%d %H:%M:%S")
	if format == "" {
		format = "%Y-%m-%d %H:%M:%S"
	}
	if len(format) > 256 {
		return "ERROR: format too long"
	}
	for _, k := range []string{"date", "date1", "date2"} {
		if len(argString(args, k, "")) > 256 {
			return "ERROR: " + k + " too long"
		}
	}
	switch op := argString(args, "operation", ""); op {
	case "time":
		loc, msg := loadZone(argString(args, "zone", ""))
		if msg != "" {
			return msg
		}
		return strftime(now.In(loc), format)
	case "convert":
		from, msg := loadZone(argString(args, "from_zone", ""))
		if msg != "" {
			return msg
		}
		to, msg := loadZone(argString(args, "to_zone", ""))
		if msg != "" {
			return msg
		}
		d := argString(args, "date", "")
		t := now.In(from)
		if d != "" {
			var ok bool
			if t, ok = parseDate(d, format, from); !ok {
				return "ERROR: invalid date: " + d
			}
		}
		return strftime(t.In(to), format)
	case "between":
		loc, msg := loadZone(argString(args, "zone", ""))
		if msg != "" {
			return msg
		}
		d1, d2 := argString(args, "date1", ""), argString(args, "date2", "")
		if d1 == "" || d2 == "" {
			return "ERROR: date1 and date2 are required for between"
		}
		t1, ok1 := parseDate(d1, format, loc)
		t2, ok2 := parseDate(d2, format, loc)
		if !ok1 {
			return "ERROR: invalid date: " + d1
		}
		if !ok2 {
			return "ERROR: invalid date: " + d2
		}
		return fmt.Sprintf("%d days", wallDays(t1, t2))
	case "add", "subtract":
		loc, msg := loadZone(argString(args, "zone", ""))
		if msg != "" {
			return msg
		}
		if _, ok := args["days"]; !ok {
			return "ERROR: days is required for " + op
		}
		days := argInt(args, "days", 0)
		if days > 3_000_000 || days < -3_000_000 {
			return "ERROR: days out of range"
		}
		if op == "subtract" {
			days = -days
		}
		t := now.In(loc)
		if d := argString(args, "date", ""); d != "" {
			var ok bool
			if t, ok = parseDate(d, format, loc); !ok {
				return "ERROR: invalid date: " + d
			}
		}
		return strftime(t.AddDate(0, 0, int(days)), format)
	default:
		return "ERROR: unknown operation: " + op
	}
}

// fetchPage is a page registered with WithFetchPage.
type fetchPage struct{ contentType, body string }

// toolFetch answers as the live tool does ("URL: …", "Title: …", a blank
// line, then the page as markdown; truncation and start_index as the MCP
// fetch server its schema comes from), from registered pages only: the
// emulator never goes to the network.
func toolFetch(pages map[string]fetchPage, args map[string]json.RawMessage) string {
	url := argString(args, "url", "")
	maxLen := argInt(args, "max_length", 5000)
	start := argInt(args, "start_index", 0)
	raw := argBool(args, "raw")
	if len(url) > maxFormulaString {
		return "ERROR: url too long"
	}
	if maxLen <= 0 || maxLen >= maxFetchLength {
		return fmt.Sprintf("ERROR: max_length must be greater than 0 and less than %d", maxFetchLength)
	}
	if start < 0 {
		return "ERROR: start_index must be at least 0"
	}
	p, ok := pages[url]
	if !ok {
		return "ERROR: Failed to fetch " + url + ": network access is disabled (the emulator is offline; register the page with WithFetchPage)"
	}
	prefix := ""
	var content string
	isHTML := strings.Contains(strings.ToLower(p.body[:min(100, len(p.body))]), "<html") ||
		strings.Contains(p.contentType, "text/html") || p.contentType == ""
	if isHTML && !raw {
		content = htmlToMarkdown(p.body)
	} else {
		content = p.body
		prefix = "Content type " + p.contentType + " cannot be simplified to markdown, but here is the raw content:\n"
	}
	// Indices count characters, as the Python server's do.
	runes := []rune(content)
	if start >= int64(len(runes)) {
		content = "<error>No more content available.</error>"
	} else {
		end := min(int64(len(runes)), start+maxLen)
		content = string(runes[start:end])
		if end-start == maxLen && int64(len(runes)) > end {
			content += fmt.Sprintf("\n\n<error>Content truncated. Call the fetch tool with a start_index of %d to get more content.</error>", end)
		}
	}
	head := "URL: " + url + "\n"
	if isHTML {
		head += "Title: " + htmlTitle(p.body) + "\n"
	}
	return head + "\n" + prefix + content
}

// htmlTitle is the text of the page's <title>.
func htmlTitle(page string) string {
	lower := asciiLower(page)
	i := strings.Index(lower, "<title")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(lower[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := strings.Index(lower[start:], "</title")
	if end < 0 {
		return ""
	}
	return collapseSpace(html.UnescapeString(page[start : start+end]))
}

// htmlToMarkdown is a small simplification of a page to markdown:
// headings, paragraphs, list items, links and line breaks; scripts,
// styles and the head dropped; entities decoded.
func htmlToMarkdown(s string) string {
	var sb strings.Builder
	skip := "" // the element whose content is being dropped
	var href []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		if skip == "" {
			sb.WriteString(collapseSpace(html.UnescapeString(s[:i])))
		}
		s = s[i:]
		if s == "" {
			break
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		if strings.HasPrefix(tag, "!--") {
			if k := strings.Index(s, "-->"); k >= 0 && !strings.HasSuffix(tag, "--") {
				s = s[k+3:]
			}
			continue
		}
		closing := strings.HasPrefix(tag, "/")
		name, attrs := strings.TrimLeft(tag, "/"), ""
		if k := strings.IndexAny(name, " \t\n\r/"); k >= 0 {
			name, attrs = name[:k], name[k:]
		}
		name = asciiLower(name)
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch name {
		case "script", "style", "head", "noscript", "template":
			if !closing {
				skip = name
			}
		case "h1", "h2", "h3", "h4", "h5", "h6":
			if closing {
				sb.WriteString("\n\n")
			} else {
				sb.WriteString("\n\n" + strings.Repeat("#", int(name[1]-'0')) + " ")
			}
		case "p", "div", "section", "article", "header", "footer", "ul", "ol", "table", "tr", "blockquote", "pre":
			sb.WriteString("\n\n")
		case "br":
			sb.WriteString("\n")
		case "li":
			if !closing {
				sb.WriteString("\n- ")
			}
		case "strong", "b":
			sb.WriteString("**")
		case "em", "i":
			sb.WriteString("*")
		case "a":
			if !closing {
				href = append(href, attrValue(attrs, "href"))
				sb.WriteString("[")
			} else if len(href) > 0 {
				sb.WriteString("](" + href[len(href)-1] + ")")
				href = href[:len(href)-1]
			}
		}
	}
	// Tidy: no space at line ends, at most one blank line in a row.
	lines := strings.Split(sb.String(), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func collapseSpace(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		if s != "" {
			return " "
		}
		return ""
	}
	r := strings.Join(f, " ")
	if strings.TrimLeft(s, " \t\r\n") != s {
		r = " " + r
	}
	if strings.TrimRight(s, " \t\r\n") != s {
		r += " "
	}
	return r
}

func attrValue(attrs, name string) string {
	i := strings.Index(asciiLower(attrs), name+"=")
	if i < 0 {
		return ""
	}
	v := attrs[i+len(name)+1:]
	if v != "" && (v[0] == '"' || v[0] == '\'') {
		if j := strings.IndexByte(v[1:], v[0]); j >= 0 {
			return html.UnescapeString(v[1 : j+1])
		}
		return ""
	}
	if j := strings.IndexAny(v, " \t\n>"); j >= 0 {
		v = v[:j]
	}
	return html.UnescapeString(v)
}

// asciiLower lowers ASCII letters only, so that byte offsets into the
// result are offsets into s (strings.ToLower may change lengths).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
