package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// The API is an http.Handler over a practice.Service, mounted at its base
// path; the key set that verifies its tokens is a handler of its own.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.DiscardHandler)

	st, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), store.Config{Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, err := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{"php": php}, Logger: quiet})
	if err != nil {
		panic(err)
	}
	svc, err := practice.New(practice.Config{Store: st, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet})
	if err != nil {
		panic(err)
	}

	cfg := api.Config{Service: svc, Logger: quiet}
	h, err := api.New(cfg)
	if err != nil {
		panic(err)
	}
	jwks, err := api.JWKS(cfg)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", h)
	mux.Handle("/.well-known/jwks.json", jwks)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The contract is served to anyone.
	res, err := http.Get(srv.URL + "/api/v1/openapi.yaml")
	if err != nil {
		panic(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))

	// Anything else needs a token; a refusal is a problem.
	res, err = http.Get(srv.URL + "/api/v1/patients")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var p struct {
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	json.NewDecoder(res.Body).Decode(&p)
	fmt.Println(p.Status, res.Header.Get("Content-Type"), res.Header.Get("WWW-Authenticate"))
	fmt.Println(p.Detail)
	// Output:
	// 200 application/yaml
	// 401 application/problem+json Bearer realm="healthcare-records"
	// sign in first: send an access token as Authorization: Bearer <token>
}
