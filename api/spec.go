package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// Spec returns the OpenAPI document the API serves and validates requests
// against: openapi/api.yaml, as embedded when the server was generated.
func Spec() (*openapi3.T, error) {
	doc, err := GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("api: loading the embedded spec: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api: the embedded spec is invalid: %w", err)
	}
	return doc, nil
}

// embeddedSpec is the spec, decoded and validated once, without servers:
// the API is served at any host, its base path stripped rather than
// matched as the spec's server. Nothing changes it after, so every
// handler's router and validator share it.
var embeddedSpec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := Spec()
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	return doc, nil
})

// spec is what the server keeps of its OpenAPI document.
type spec struct {
	// yaml is the document as served by GET /openapi.yaml, its server
	// being the base path the API is mounted at.
	yaml []byte
	// router finds operations by method and path, without the base
	// path.
	router *router
}

func loadSpec(basePath string) (*spec, error) {
	doc, err := embeddedSpec()
	if err != nil {
		return nil, err
	}
	served := *doc
	served.Servers = openapi3.Servers{{URL: basePath}}
	y, err := toYAML(&served)
	if err != nil {
		return nil, fmt.Errorf("api: rendering the spec: %w", err)
	}
	router, err := newRouter(doc)
	if err != nil {
		return nil, err
	}
	return &spec{yaml: y, router: router}, nil
}

// toYAML renders doc as YAML. It goes through JSON, which is how the
// document marshals itself, and a yaml.Node, which keeps the order of the
// members.
func toYAML(doc *openapi3.T) ([]byte, error) {
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return nil, err
	}
	blockStyle(&n)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// blockStyle turns JSON's flow style into YAML's block style, keeping
// strings quoted only where YAML needs it.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}
