package provider

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// SMARTConfig configures SMART Backend Services authorization: the
// client_credentials grant with a private_key_jwt client assertion.
type SMARTConfig struct {
	// ClientID is the client id the provider registered; it is the
	// assertion's iss and sub.
	ClientID string
	// Key signs the client assertion: an RSA key (RS384, at least 2048
	// bits) or an ECDSA P-384 key (ES384). When nil, KeyFile is loaded.
	Key crypto.Signer
	// KeyFile is a PEM private key file, read once by New.
	KeyFile string
	// KeyID is the kid of the key in the client's registered JWK Set.
	KeyID string
	// JWKSURL, when set, is sent as the assertion's jku header.
	JWKSURL string
	// Scope is the requested scope. Default DefaultScope.
	Scope string
	// TokenURL skips discovery. When empty the token endpoint is read from
	// BaseURL/.well-known/smart-configuration on first use.
	TokenURL string
	// AssertionLifetime is the assertion's exp minus now; the spec allows
	// at most five minutes. Default 4 minutes.
	AssertionLifetime time.Duration
}

// DefaultScope asks for what this library reads and writes, in SMART v2
// scope syntax.
const DefaultScope = "system/Patient.rsu system/DocumentReference.rs system/DiagnosticReport.rs system/Observation.rs system/Binary.r system/Task.cru"

// clientAssertionType is the RFC 7523 client assertion type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// smart is the SMART Backend Services TokenSource. It caches the access
// token until shortly before it expires; invalidate drops it after a 401.
type smart struct {
	cfg SMARTConfig
	c   *Client

	mu       sync.Mutex
	tokenURL string
	token    string
	expiry   time.Time
}

func newSMART(cfg SMARTConfig, c *Client) (*smart, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("smart: client id is required")
	}
	if cfg.Key == nil {
		if cfg.KeyFile == "" {
			return nil, errors.New("smart: a key or key file is required")
		}
		k, err := LoadPrivateKey(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("smart: %w", err)
		}
		cfg.Key = k
	}
	if _, err := signingAlg(cfg.Key); err != nil {
		return nil, fmt.Errorf("smart: %w", err)
	}
	if cfg.TokenURL != "" {
		if err := checkTokenURL(cfg.TokenURL); err != nil {
			return nil, fmt.Errorf("smart: token url %q: %w", RedactURL(cfg.TokenURL), err)
		}
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.AssertionLifetime <= 0 || cfg.AssertionLifetime > 5*time.Minute {
		cfg.AssertionLifetime = 4 * time.Minute
	}
	return &smart{cfg: cfg, c: c, tokenURL: cfg.TokenURL}, nil
}

// Token returns the cached access token, fetching a new one when there is
// none or it expires within its refresh margin. Concurrent callers share
// one fetch.
func (s *smart) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.c.cfg.now()
	if s.token != "" && now.Before(s.expiry) {
		return s.token, nil
	}
	if s.tokenURL == "" {
		u, err := s.discover(ctx)
		if err != nil {
			return "", err
		}
		s.tokenURL = u
	}
	tok, lifetime, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	// Refresh a little before the server's expiry: a fifth of the
	// lifetime, at most a minute, so a request never leaves with a token
	// about to lapse.
	margin := min(lifetime/5, time.Minute)
	s.token, s.expiry = tok, now.Add(lifetime-margin)
	return tok, nil
}

func (s *smart) invalidate() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}

// smartConfiguration is the part of .well-known/smart-configuration read.
type smartConfiguration struct {
	TokenEndpoint string   `json:"token_endpoint"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	SigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	GrantTypes    []string `json:"grant_types_supported"`
	Capabilities  []string `json:"capabilities"`
}

// discover reads the token endpoint from the server's SMART
// configuration.
func (s *smart) discover(ctx context.Context) (string, error) {
	u := s.c.endpoint(nil, ".well-known", "smart-configuration")
	resp, err := s.c.do(ctx, request{method: http.MethodGet, url: u, accept: "application/json", noAuth: true, limit: 1 << 20})
	if err != nil {
		return "", fmt.Errorf("smart discovery: %w", err)
	}
	var sc smartConfiguration
	if err := json.Unmarshal(resp.body, &sc); err != nil {
		return "", fmt.Errorf("smart discovery: %w: %w", ErrAuth, err)
	}
	if err := checkTokenURL(sc.TokenEndpoint); err != nil {
		return "", fmt.Errorf("smart discovery: %w: no usable token_endpoint: %w", ErrAuth, err)
	}
	alg, _ := signingAlg(s.cfg.Key)
	if len(sc.SigningAlgs) > 0 && !slices.Contains(sc.SigningAlgs, alg) {
		s.c.log.WarnContext(ctx, "smart server does not list the key's algorithm", "alg", alg)
	}
	if len(sc.AuthMethods) > 0 && !slices.Contains(sc.AuthMethods, "private_key_jwt") {
		s.c.log.WarnContext(ctx, "smart server does not list private_key_jwt")
	}
	return sc.TokenEndpoint, nil
}

// checkTokenURL accepts an absolute http(s) URL without credentials in
// it. Its errors never repeat the URL.
func checkTokenURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("must be an absolute http(s) url")
	case u.User != nil:
		return errors.New("must not hold credentials")
	}
	return nil
}

// assertionClaims are the claims SMART Backend Services requires.
type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
	Jti string `json:"jti"`
}

// fetch runs the client_credentials grant and returns the access token and
// its lifetime.
func (s *smart) fetch(ctx context.Context) (string, time.Duration, error) {
	now := s.c.cfg.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", 0, err
	}
	assertion, err := signJWT(s.cfg.Key, map[string]string{"kid": s.cfg.KeyID, "jku": s.cfg.JWKSURL}, assertionClaims{
		Iss: s.cfg.ClientID, Sub: s.cfg.ClientID, Aud: s.tokenURL,
		Iat: now.Unix(), Exp: now.Add(s.cfg.AssertionLifetime).Unix(),
		Jti: hex.EncodeToString(jti),
	})
	if err != nil {
		return "", 0, fmt.Errorf("smart: %w", err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {s.cfg.Scope},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
	tu, err := url.Parse(s.tokenURL)
	if err != nil {
		// Checked already; url.Parse's error would repeat the URL.
		return "", 0, errors.New("smart token url: malformed")
	}
	resp, err := s.c.do(ctx, request{
		method: http.MethodPost, url: tu, body: []byte(form.Encode()), noAuth: true, limit: 1 << 20,
		accept: "application/json",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	})
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.StatusCode == http.StatusBadRequest || se.StatusCode == http.StatusUnauthorized) {
			te := &TokenError{StatusCode: se.StatusCode}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(se.body, &body) == nil {
				te.Code, te.Description = body.Error, body.Description
			}
			return "", 0, fmt.Errorf("smart token: %w: %w", ErrAuth, te)
		}
		return "", 0, fmt.Errorf("smart token: %w", err)
	}
	var tr struct {
		AccessToken string      `json:"access_token"`
		TokenType   string      `json:"token_type"`
		ExpiresIn   json.Number `json:"expires_in"`
		Scope       string      `json:"scope"`
		Error       string      `json:"error"`
		Description string      `json:"error_description"`
	}
	if err := json.Unmarshal(resp.body, &tr); err != nil {
		return "", 0, fmt.Errorf("smart token: %w: malformed response", ErrAuth)
	}
	if tr.AccessToken == "" {
		return "", 0, fmt.Errorf("smart token: %w: %w", ErrAuth, &TokenError{StatusCode: resp.status, Code: tr.Error, Description: tr.Description})
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, fmt.Errorf("smart token: %w: token type %q, want bearer", ErrAuth, tr.TokenType)
	}
	lifetime := 5 * time.Minute
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		lifetime = time.Duration(n) * time.Second
	}
	s.c.log.DebugContext(ctx, "smart token issued", "expires_in", lifetime)
	return tr.AccessToken, lifetime, nil
}
