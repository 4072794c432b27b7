package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// The console mounted beside other handlers: a request without a session
// is sent to the sign-in page, which comes with its security headers.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "console-example-")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hr.db"), store.Config{Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	php := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	engine, _ := connector.New(connector.Config{Store: st, Sources: map[string]connector.Source{"php": php}, Logger: quiet})
	svc, err := practice.New(practice.Config{Store: st, Engine: engine, Provider: "php", ProviderSource: php, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Close()

	c, err := console.New(console.Config{Service: svc, Logger: quiet, IdleTimeout: 15 * time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", c)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(srv.URL + "/console/patients")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Location"))
	res, err = client.Get(srv.URL + "/console/login")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'"))
	// Output:
	// 303 /console/login?next=%2Fconsole%2Fpatients
	// 200 true
}
