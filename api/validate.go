package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// validator returns the middleware that checks every request against the
// spec before its handler runs (kin-openapi's openapi3filter): the route
// and method, the security (see requireActor), the parameters and the
// body. What it refuses is answered as a problem naming each field at
// fault; an unknown path as a 404 and a method the path does not serve as
// a 405 with Allow.
func (s *server) validator() func(http.Handler) http.Handler {
	opts := &openapi3filter.Options{AuthenticationFunc: requireActor, MultiError: true}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The spec has no servers (see embeddedSpec): the base path
			// is stripped, not matched.
			path, ok := strings.CutPrefix(r.URL.EscapedPath(), s.escapedBase)
			route, params, err := s.spec.router.find(r.Method, path)
			switch {
			case !ok, errors.Is(err, routers.ErrPathNotFound):
				s.writeProblem(w, r, &problem{Status: http.StatusNotFound, Detail: "nothing is served at this path"})
				return
			case errors.Is(err, routers.ErrMethodNotAllowed):
				allow := strings.Join(s.spec.router.methods(path), ", ")
				p := &problem{Status: http.StatusMethodNotAllowed, Detail: fmt.Sprintf("%s is not served at this path; it serves %s", r.Method, allow)}
				s.writeProblem(w, r, p.with("Allow", allow))
				return
			}
			in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
				s.writeProblem(w, r, requestProblem(r.Context(), err))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// requestProblem turns what the validator found into one problem: 401 if
// the operation needs a token the request lacks (whatever else is wrong
// with it), 415 for a body of a type the operation does not take,
// otherwise 400 with a FieldProblem per fault.
func requestProblem(ctx context.Context, err error) *problem {
	var fields []FieldProblem
	unsupported := false
	for _, e := range flatten(err) {
		var (
			sre *openapi3filter.SecurityRequirementsError
			re  *openapi3filter.RequestError
		)
		switch {
		case errors.As(e, &sre):
			return unauthorized(ctx)
		case !errors.As(e, &re):
			fields = append(fields, FieldProblem{Field: "request", Reason: "does not match the API's contract"})
		case re.Parameter != nil:
			fields = append(fields, parameterProblems(re)...)
		case re.RequestBody != nil && strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
			unsupported = true
		case re.RequestBody != nil:
			fields = append(fields, bodyProblems(re)...)
		default:
			fields = append(fields, FieldProblem{Field: "request", Reason: "does not match the API's contract"})
		}
	}
	if unsupported {
		ct := FieldProblem{Field: "Content-Type", Reason: "is not a media type this operation takes"}
		if len(fields) == 0 {
			return &problem{Status: http.StatusUnsupportedMediaType, Detail: "the body is not of a media type this operation takes; see the API's contract", Errors: []FieldProblem{ct}}
		}
		fields = append(fields, ct)
	}
	fields = dedupe(fields)
	if len(fields) == 0 {
		return invalid("the request does not match the API's contract")
	}
	detail := fields[0].Field + ": " + fields[0].Reason
	if len(fields) > 1 {
		detail = fmt.Sprintf("%s (and %d more)", detail, len(fields)-1)
	}
	return invalid(detail, fields...)
}

// flatten lists the errors of err's MultiErrors, depth first.
func flatten(err error) []error {
	me, ok := err.(openapi3.MultiError)
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range me {
		out = append(out, flatten(e)...)
	}
	return out
}

func parameterProblems(re *openapi3filter.RequestError) []FieldProblem {
	name := re.Parameter.Name
	var (
		se *openapi3.SchemaError
		pe *openapi3filter.ParseError
	)
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return []FieldProblem{{Field: name, Reason: "is required"}}
	case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
		return []FieldProblem{{Field: name, Reason: "must not be empty"}}
	case errors.As(re.Err, &se):
		return []FieldProblem{{Field: name, Reason: schemaReason(se)}}
	case errors.As(re.Err, &pe):
		return []FieldProblem{{Field: name, Reason: "must be " + kindOf(re.Parameter.Schema)}}
	}
	return []FieldProblem{{Field: name, Reason: "is not valid"}}
}

func bodyProblems(re *openapi3filter.RequestError) []FieldProblem {
	if errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
		return []FieldProblem{{Field: "body", Reason: "is required"}}
	}
	var out []FieldProblem
	for _, e := range flatten(re.Err) {
		var (
			se *openapi3.SchemaError
			pe *openapi3filter.ParseError
		)
		switch {
		case errors.As(e, &se):
			out = append(out, FieldProblem{Field: schemaField(se), Reason: schemaReason(se)})
		case errors.As(e, &pe):
			out = append(out, parseProblem(pe))
		default:
			out = append(out, FieldProblem{Field: "body", Reason: "does not match the API's contract"})
		}
	}
	return out
}

// unknownPart reads the part a multipart decoder did not expect.
var unknownPart = regexp.MustCompile(`^part (.+): undefined$`)

// parseProblem names the fault of a body that could not be decoded: an
// unknown part of a form, a part or member that is not of its type, or
// a body that is not of its media type at all.
func parseProblem(pe *openapi3filter.ParseError) FieldProblem {
	for e := error(pe); e != nil; e = errors.Unwrap(e) {
		if m := unknownPart.FindStringSubmatch(e.Error()); m != nil {
			return FieldProblem{Field: m[1], Reason: "is not a field of this form: remove it"}
		}
	}
	if path := pe.Path(); len(path) > 0 {
		parts := make([]string, len(path))
		for i, p := range path {
			parts[i] = fmt.Sprint(p)
		}
		return FieldProblem{Field: strings.Join(parts, "."), Reason: "does not have the expected format"}
	}
	return FieldProblem{Field: "body", Reason: "is not valid for its media type (malformed JSON, or a malformed form)"}
}

// memberReason reads the member a "required" or "additionalProperties"
// failure is about.
var memberReason = regexp.MustCompile(`^property "(.+)" is (missing|unsupported)$`)

// schemaField names where in the body a schema failure is, as a path:
// identifiers[0].value. A missing or unknown member is named itself, not
// the object that lacks or has it.
func schemaField(se *openapi3.SchemaError) string {
	path := se.JSONPointer()
	if m := memberReason.FindStringSubmatch(se.Reason); m != nil && (len(path) == 0 || path[len(path)-1] != m[1]) {
		// An unknown member's pointer is its object's; a missing one's
		// is already the member's.
		path = append(path, m[1])
	}
	var b strings.Builder
	for _, p := range path {
		if _, err := strconv.Atoi(p); err == nil && b.Len() > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// schemaReason says, for a person, why a value fails its schema.
func schemaReason(se *openapi3.SchemaError) string {
	if m := memberReason.FindStringSubmatch(se.Reason); m != nil {
		if m[2] == "missing" {
			return "is required"
		}
		return "is not a member of this body: remove it"
	}
	s := se.Schema
	switch se.SchemaField {
	case "maxLength":
		if s != nil && s.MaxLength != nil {
			return fmt.Sprintf("must be at most %d characters long", *s.MaxLength)
		}
	case "minLength":
		switch {
		case s != nil && s.MinLength == 1:
			return "must not be empty"
		case s != nil:
			return fmt.Sprintf("must be at least %d characters long", s.MinLength)
		}
	case "minProperties":
		return "must have at least one member"
	case "enum":
		if s != nil {
			var vals []string
			for _, v := range s.Enum {
				vals = append(vals, fmt.Sprint(v))
			}
			return "must be one of " + strings.Join(vals, ", ")
		}
	case "type":
		return "must be " + kindOfSchema(s)
	case "pattern":
		return "does not have the expected form"
	case "format":
		if s != nil && s.Format == "date-time" {
			return "must be an RFC 3339 time, such as 2026-01-02T15:04:05Z"
		}
		return "does not have the expected format"
	}
	return se.Reason
}

func kindOf(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return "a valid value"
	}
	return kindOfSchema(ref.Value)
}

func kindOfSchema(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return "a valid value"
	}
	switch {
	case s.Type.Is("integer"):
		return "an integer"
	case s.Type.Is("number"):
		return "a number"
	case s.Type.Is("boolean"):
		return "true or false"
	case s.Type.Is("array"):
		return "an array"
	case s.Type.Is("object"):
		return "an object"
	case s.Type.Is("string") && s.Format == "date-time":
		return "an RFC 3339 time"
	case s.Type.Is("string"):
		return "a string"
	}
	return "a valid value"
}

func dedupe(fields []FieldProblem) []FieldProblem {
	seen := make(map[FieldProblem]bool, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
