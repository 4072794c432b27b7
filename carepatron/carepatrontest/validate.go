package carepatrontest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// validator checks requests and responses against the spec embedded in
// server.gen.go, which is openapi/carepatron.yaml.
type validator struct {
	doc    *openapi3.T
	router routers.Router
}

// Spec returns the OpenAPI document the fake serves and validates against:
// openapi/carepatron.yaml, as embedded when the server was generated.
func Spec() (*openapi3.T, error) {
	doc, err := GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("carepatrontest: loading the embedded spec: %w", err)
	}
	return doc, nil
}

func mustValidator() *validator {
	doc, err := Spec()
	if err != nil {
		panic(err)
	}
	// Serve the routes at any host: the spec's one server is relative.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		panic(fmt.Sprintf("carepatrontest: routing the embedded spec: %v", err))
	}
	return &validator{doc: doc, router: router}
}

func (v *validator) input(r *http.Request, route *routers.Route, params map[string]string) *openapi3filter.RequestValidationInput {
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			// The fake checks cp-api-key itself, before the rate limit.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
}

// request returns the problem to answer for a request that breaks the
// spec: 400 for a malformed parameter or body, 422 for a body that parses
// but breaks the schema.
func (v *validator) request(r *http.Request, route *routers.Route, params map[string]string) *problem {
	err := openapi3filter.ValidateRequest(r.Context(), v.input(r, route, params))
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		me = openapi3.MultiError{err}
	}
	status := http.StatusUnprocessableEntity
	var fields []FieldError
	var details []string
	for _, e := range me {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			status = http.StatusBadRequest
			details = append(details, e.Error())
			continue
		}
		var se *openapi3.SchemaError
		switch {
		case re.Parameter != nil:
			status = http.StatusBadRequest
			fields = append(fields, FieldError{Field: re.Parameter.Name, Message: reason(re)})
		case errors.As(re.Err, &se):
			field := strings.Join(se.JSONPointer(), ".")
			fields = append(fields, FieldError{Field: field, Message: se.Reason})
		default:
			status = http.StatusBadRequest
			fields = append(fields, FieldError{Field: "body", Message: reason(re)})
		}
	}
	fields = slices.Compact(fields)
	for _, f := range fields {
		details = append(details, f.Field+": "+f.Message)
	}
	code := "validation_failed"
	if status == http.StatusBadRequest {
		code = "bad_request"
	}
	return &problem{status: status, code: code, detail: strings.Join(details, "; "), errors: fields}
}

func reason(re *openapi3filter.RequestError) string {
	if re.Err != nil {
		return re.Err.Error()
	}
	return re.Reason
}

// response returns why a recorded response breaks the spec, or "".
func (v *validator) response(r *http.Request, route *routers.Route, params map[string]string, rec *recorder) string {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: v.input(r, route, params),
		Status:                 rec.status,
		Header:                 rec.header,
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.WithoutCancel(r.Context()), in); err != nil {
		return err.Error()
	}
	return ""
}
