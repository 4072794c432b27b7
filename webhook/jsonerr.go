package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bodyError is a body that is not what its format says it is. Its message
// is written for the sender: it names the place in the body (a JSON path
// such as entry[0].resource.resourceType) and what was expected there, and
// never the Go types the body was decoded into. It matches errMalformed.
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

func (e *bodyError) Is(target error) bool { return target == errMalformed }

// malformedf returns a bodyError. Values taken from the body should be
// passed through clip, so that a huge one does not become a huge answer.
func malformedf(format string, args ...any) error {
	return &bodyError{msg: fmt.Sprintf(format, args...)}
}

// jsonError turns an error of json.Unmarshal(data, …) into a bodyError. at
// names data within the body: "" for the body itself, "entry[0].resource"
// for a part of it that was decoded on its own.
func jsonError(data []byte, at string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// The message of a SyntaxError is the scanner's ("invalid
		// character 'x' after object key"), with no Go names in it.
		where := "the body"
		if at != "" {
			where = at
		}
		return malformedf("%s is not valid JSON: %s at offset %d", where, syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		path := pathAt(data, typ.Offset)
		if path == "" {
			path = typ.Field // JSON names, without the array indices
		}
		path = joinPath(at, path)
		want, got := jsonKind(typ.Type), typ.Value
		if kind, _, hasValue := strings.Cut(got, " "); hasValue && kind == "number" {
			// "number 1.5" into an integer, or one out of range.
			return malformedf("%s: want %s, got a number out of its range", fieldName(path), want)
		}
		return malformedf("%s: want %s, got %s", fieldName(path), want, article(got))
	}
	// What else Unmarshal returns carries the Go type it decoded into.
	if at == "" {
		return malformedf("the body does not have the expected shape")
	}
	return malformedf("%s does not have the expected shape", at)
}

// fieldName names a JSON path in a message.
func fieldName(path string) string {
	if path == "" {
		return "the body"
	}
	return "field " + path
}

func joinPath(at, path string) string {
	switch {
	case at == "":
		return path
	case path == "":
		return at
	case strings.HasPrefix(path, "["):
		return at + path
	}
	return at + "." + path
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.Number]() {
		return "a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another value"
}

// article names a JSON value kind as UnmarshalTypeError.Value spells it.
func article(kind string) string {
	switch kind {
	case "string", "number":
		return "a " + kind
	case "bool":
		return "true or false"
	case "array", "object":
		return "an " + kind
	}
	return "another value"
}

// Bounds of a path in a message.
const (
	maxPathKey = 32
	maxPath    = 128
)

// pathAt returns the JSON path, such as entry[0].resource.resourceType, of
// the value of data that json.Unmarshal had just read when it stopped after
// offset bytes (where an UnmarshalTypeError says it stopped): a scalar ends
// there, an array or object begins right before it. "" for the top-level
// value, or when data cannot be walked that far.
func pathAt(data []byte, offset int64) string {
	type frame struct {
		array     bool
		key       string // object: the member being read
		index     int    // array: the element being read
		expectKey bool
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(clip(f.key, maxPathKey))
		}
		return clip(b.String(), maxPath)
	}
	// done moves the innermost container past the value just read.
	done := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.array {
			f.index++
		} else {
			f.expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].expectKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].expectKey = false
			continue
		}
		if dec.InputOffset() >= offset {
			return path()
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{array: true})
		default:
			done()
		}
	}
}

// clip bounds a string taken from a request before it goes into an answer
// or a log entry: at most n bytes, cut at a rune boundary, with an ellipsis
// when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
