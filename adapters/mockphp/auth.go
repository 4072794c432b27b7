package mockphp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionLife is SMART's limit on how far ahead an assertion's exp
	// may lie.
	maxAssertionLife = 5 * time.Minute
	// clockLeeway tolerates small clock differences on exp and iat.
	clockLeeway = 5 * time.Second
)

type registeredClient struct {
	id     string
	keys   []jwk
	scopes []string
}

type grant struct {
	client  string
	scopes  []string
	expires time.Time
}

// authority holds the clients, the jti replay cache and the issued tokens.
type authority struct {
	mu      sync.Mutex
	clients map[string]*registeredClient
	jtis    map[string]time.Time // client|jti -> when it may be forgotten
	tokens  map[string]grant
}

func newAuthority(clients []Client) (*authority, error) {
	a := &authority{clients: map[string]*registeredClient{}, jtis: map[string]time.Time{}, tokens: map[string]grant{}}
	for _, c := range clients {
		if err := a.register(c); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *authority) register(c Client) error {
	if c.ID == "" {
		return errors.New("client without id")
	}
	keys, err := parseJWKS(c.JWKS)
	if err != nil {
		return fmt.Errorf("client %s: %w", c.ID, err)
	}
	a.mu.Lock()
	a.clients[c.ID] = &registeredClient{id: c.ID, keys: keys, scopes: slices.Clone(c.Scopes)}
	a.mu.Unlock()
	return nil
}

// RegisterClient adds or replaces a SMART client at run time.
func (s *Server) RegisterClient(c Client) error {
	if err := s.auth.register(c); err != nil {
		return fmt.Errorf("mockphp: %w", err)
	}
	s.log.Info("client registered", "client_id", c.ID)
	return nil
}

// tokenError is an OAuth 2.0 error response (RFC 6749 section 5.2).
type tokenError struct {
	status int
	code   string
	desc   string
}

func (e *tokenError) Error() string { return e.code + ": " + e.desc }

func invalidClient(format string, args ...any) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_client", fmt.Sprintf(format, args...)}
}

// handleToken is the SMART Backend Services token endpoint: a
// client_credentials grant authenticated by a private_key_jwt assertion.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeTokenError(w, &tokenError{http.StatusMethodNotAllowed, "invalid_request", "use POST"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeTokenError(w, &tokenError{http.StatusBadRequest, "invalid_request", "form: " + err.Error()})
		return
	}
	g, err := s.grant(r)
	if err != nil {
		var te *tokenError
		if !errors.As(err, &te) {
			te = &tokenError{http.StatusInternalServerError, "server_error", err.Error()}
		}
		s.log.Info("token refused", "error", te.code, "reason", te.desc)
		writeTokenError(w, te)
		return
	}
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	access := base64.RawURLEncoding.EncodeToString(tok)
	s.auth.mu.Lock()
	s.auth.tokens[access] = g
	s.auth.mu.Unlock()
	s.log.Info("token issued", "client_id", g.client, "scope", strings.Join(g.scopes, " "))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access,
		"token_type":   "bearer",
		"expires_in":   int(s.cfg.TokenTTL.Seconds()),
		"scope":        strings.Join(g.scopes, " "),
	})
}

func writeTokenError(w http.ResponseWriter, e *tokenError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.code, "error_description": e.desc})
}

// grant validates the token request and returns what it earns.
func (s *Server) grant(r *http.Request) (grant, error) {
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return grant{}, &tokenError{http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q", gt)}
	}
	if f.Get("client_assertion_type") != clientAssertionType {
		return grant{}, &tokenError{http.StatusBadRequest, "invalid_request", "client_assertion_type must be " + clientAssertionType}
	}
	assertion := f.Get("client_assertion")
	if assertion == "" {
		return grant{}, &tokenError{http.StatusBadRequest, "invalid_request", "client_assertion is missing"}
	}
	now := s.now()
	tokenURL := s.origin(r) + TokenPath
	client, claims, err := s.auth.verifyAssertion(assertion, tokenURL, now)
	if err != nil {
		return grant{}, err
	}
	scopes, err := grantScopes(strings.Fields(f.Get("scope")), client.scopes)
	if err != nil {
		return grant{}, err
	}
	_ = claims
	return grant{client: client.id, scopes: scopes, expires: now.Add(s.cfg.TokenTTL)}, nil
}

type assertionClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	Iat *json.Number    `json:"iat"`
	Nbf *json.Number    `json:"nbf"`
	Jti string          `json:"jti"`
}

func (c assertionClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}

func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// verifyAssertion checks the JWT's signature against the client's keys and
// its claims as SMART Backend Services requires, and records its jti.
func (a *authority) verifyAssertion(jwt, tokenURL string, now time.Time) (*registeredClient, assertionClaims, error) {
	var claims assertionClaims
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, claims, invalidClient("client_assertion is not a compact JWS")
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, claims, invalidClient("client_assertion is not base64url: %v", err)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		return nil, claims, invalidClient("jose header: %v", err)
	}
	if header.Alg != "RS384" && header.Alg != "ES384" {
		return nil, claims, invalidClient("alg %q is not accepted (RS384, ES384)", header.Alg)
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		return nil, claims, invalidClient("claims: %v", err)
	}
	if claims.Iss == "" || claims.Iss != claims.Sub {
		return nil, claims, invalidClient("iss and sub must both be the client id")
	}
	a.mu.Lock()
	client := a.clients[claims.Iss]
	a.mu.Unlock()
	if client == nil {
		return nil, claims, invalidClient("client %q is not registered", claims.Iss)
	}
	var verified bool
	for _, k := range client.keys {
		if (header.Kid != "" && k.kid != header.Kid) || k.alg != header.Alg {
			continue
		}
		if verifyJWS(header.Alg, k.key, parts[0]+"."+parts[1], sig) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, claims, invalidClient("signature does not verify with any registered key (kid %q)", header.Kid)
	}
	if !slices.Contains(claims.audiences(), tokenURL) {
		return nil, claims, invalidClient("aud must be the token endpoint %s", tokenURL)
	}
	exp, ok := numericDate(claims.Exp)
	switch {
	case !ok:
		return nil, claims, invalidClient("exp is missing")
	case !exp.After(now.Add(-clockLeeway)):
		return nil, claims, invalidClient("assertion expired at %s", exp.UTC().Format(time.RFC3339))
	case exp.After(now.Add(maxAssertionLife + clockLeeway)):
		return nil, claims, invalidClient("exp is more than five minutes ahead")
	}
	if nbf, ok := numericDate(claims.Nbf); ok && nbf.After(now.Add(clockLeeway)) {
		return nil, claims, invalidClient("assertion not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if claims.Jti == "" {
		return nil, claims, invalidClient("jti is missing")
	}
	key := client.id + "|" + claims.Jti
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, until := range a.jtis {
		if now.After(until) {
			delete(a.jtis, k)
		}
	}
	if _, seen := a.jtis[key]; seen {
		return nil, claims, invalidClient("jti %q was already used", claims.Jti)
	}
	a.jtis[key] = exp.Add(clockLeeway)
	return client, claims, nil
}

// grantScopes returns the requested scopes the client may have; a request
// for a scope outside the client's allowance fails as invalid_scope.
func grantScopes(requested, allowed []string) ([]string, error) {
	if len(requested) == 0 {
		if len(allowed) == 0 {
			return []string{"system/*.read"}, nil
		}
		return slices.Clone(allowed), nil
	}
	for _, s := range requested {
		if _, _, err := parseScope(s); err != nil {
			return nil, &tokenError{http.StatusBadRequest, "invalid_scope", err.Error()}
		}
		if len(allowed) > 0 && !slices.Contains(allowed, s) {
			return nil, &tokenError{http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q is not allowed for this client", s)}
		}
	}
	return slices.Clone(requested), nil
}

// parseScope reads a SMART v1 or v2 resource scope: context/Type.perms.
func parseScope(s string) (typ, perms string, err error) {
	ctx, rest, ok := strings.Cut(s, "/")
	if !ok || (ctx != "system" && ctx != "user" && ctx != "patient") {
		return "", "", fmt.Errorf("scope %q is not a resource scope", s)
	}
	typ, perms, ok = strings.Cut(rest, ".")
	if !ok || typ == "" || perms == "" {
		return "", "", fmt.Errorf("scope %q is not a resource scope", s)
	}
	perms, _, _ = strings.Cut(perms, "?")
	return typ, perms, nil
}

// permits reports whether the scopes allow interaction on typ. SMART v1
// "read"/"write"/"*" and v2 "cruds" letters are both understood.
func permits(scopes []string, typ, interaction string) bool {
	var want, v1 string
	switch interaction {
	case "read", "vread", "history":
		want, v1 = "r", "read"
	case "search":
		want, v1 = "s", "read"
	case "create":
		want, v1 = "c", "write"
	case "update":
		want, v1 = "u", "write"
	case "delete":
		want, v1 = "d", "write"
	}
	for _, s := range scopes {
		t, p, err := parseScope(s)
		if err != nil || (t != "*" && t != typ) {
			continue
		}
		if p == "*" || p == v1 || strings.Contains(p, want) && strings.Trim(p, "cruds") == "" {
			return true
		}
	}
	return false
}

// authorize checks the bearer token when RequireAuth is set; on failure it
// answers 401 or 403 and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, typ, interaction string) bool {
	if !s.cfg.RequireAuth {
		return true
	}
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mockphp"`)
		writeOutcome(w, http.StatusUnauthorized, "login", "a bearer token is required")
		return false
	}
	s.auth.mu.Lock()
	g, ok := s.auth.tokens[tok]
	if ok && !s.now().Before(g.expires) {
		delete(s.auth.tokens, tok)
		ok = false
	}
	s.auth.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mockphp", error="invalid_token"`)
		writeOutcome(w, http.StatusUnauthorized, "login", "the bearer token is unknown or expired")
		return false
	}
	if !permits(g.scopes, typ, interaction) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mockphp", error="insufficient_scope"`)
		writeOutcome(w, http.StatusForbidden, "forbidden", fmt.Sprintf("scope does not allow %s on %s", interaction, typ))
		return false
	}
	return true
}
