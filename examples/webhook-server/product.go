package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// product is the dietician's service the server runs beside the sync:
// the practice over the same store and engine, its REST API and the key
// set that verifies its tokens.
type product struct {
	svc     *practice.Service
	api     http.Handler
	jwks    http.Handler
	console *console.Console
}

// apiBase is where the REST API is mounted, consoleBase the console.
const (
	apiBase     = "/api/v1"
	consoleBase = "/console"
)

func newProduct(cfg *Config, db *database, e *connector.Engine, src connector.Source, nf *practice.Notifier, log *slog.Logger) (*product, error) {
	var oidc *practice.OIDCConfig
	if cfg.OIDCIssuer != "" {
		oidc = &practice.OIDCConfig{Issuer: cfg.OIDCIssuer, JWKSURL: cfg.OIDCJWKSURL,
			Audience: cfg.OIDCAudience, EmailClaim: cfg.OIDCEmailClaim}
	}
	svc, err := practice.New(practice.Config{
		Store: db, Engine: e, Provider: cfg.Source, ProviderSource: src, CarepatronSink: sinkName,
		Tokens:    practice.TokenConfig{AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, OIDC: oidc},
		MaxUpload: cfg.MaxUpload,
		Notifier:  nf,
		Inquiries: nf,
		Logger:    log.With("component", "practice"),
	})
	if err != nil {
		return nil, err
	}
	ac := api.Config{Service: svc, Logger: log.With("component", "api"), BasePath: apiBase, MaxUpload: cfg.MaxUpload}
	h, err := api.New(ac)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	jwks, err := api.JWKS(ac)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	con, err := console.New(console.Config{Service: svc, Logger: log.With("component", "console"), BasePath: consoleBase,
		MaxUpload: cfg.MaxUpload})
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	return &product{svc: svc, api: h, jwks: jwks, console: con}, nil
}

// firstAdmin creates the admin ADMIN_EMAIL names, with the password in
// ADMIN_PASSWORD_FILE, unless a user has that email already.
func firstAdmin(ctx context.Context, cfg *Config, st practice.Store, log *slog.Logger) error {
	if cfg.AdminEmail == "" {
		return nil
	}
	b, err := os.ReadFile(cfg.AdminPasswordFile)
	if err != nil {
		return configError{fmt.Errorf("%s: %w", settingName("ADMIN_PASSWORD_FILE"), err)}
	}
	password, _, _ := bytes.Cut(b, []byte("\n"))
	u, err := practice.Bootstrap(ctx, st, practice.NewUser{Email: cfg.AdminEmail, Name: "Administrator",
		Role: practice.RoleAdmin, Password: string(bytes.TrimRight(password, "\r"))}, time.Now())
	switch {
	case errors.Is(err, practice.ErrConflict):
		log.InfoContext(ctx, "first admin exists already", "setting", "ADMIN_EMAIL")
		return nil
	case errors.Is(err, practice.ErrInvalid):
		return configError{fmt.Errorf("first admin (%s, %s): %w", settingName("ADMIN_EMAIL"), settingName("ADMIN_PASSWORD_FILE"), err)}
	case err != nil:
		return fmt.Errorf("first admin: %w", err)
	}
	log.InfoContext(ctx, "first admin created", "user", u.ID)
	return nil
}
