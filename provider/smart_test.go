package provider_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

// smartServer is a FHIR server with SMART Backend Services: discovery,
// a token endpoint that verifies the client assertion, and an API that
// accepts only the tokens it issued and not yet revoked.
type smartServer struct {
	t   *testing.T
	srv *httptest.Server
	pub crypto.PublicKey

	mu        sync.Mutex
	issued    int
	jtis      map[string]bool
	valid     map[string]bool
	expiresIn int
	apiCalls  int
	// revokeAfter makes the server refuse a token after this many API
	// calls, as when a token expires mid-backfill.
	revokeAfter int
	headers     []map[string]any
}

func newSMARTServer(t *testing.T, pub crypto.PublicKey) *smartServer {
	s := &smartServer{t: t, pub: pub, jtis: map[string]bool{}, valid: map[string]bool{}, expiresIn: 300}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/.well-known/smart-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"token_endpoint":%q,"token_endpoint_auth_methods_supported":["private_key_jwt"],
			"token_endpoint_auth_signing_alg_values_supported":["RS384","ES384"],"grant_types_supported":["client_credentials"]}`, s.srv.URL+"/auth/token")
	})
	mux.HandleFunc("POST /auth/token", s.token)
	mux.HandleFunc("GET /fhir/Patient/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !s.valid[tok] {
			w.WriteHeader(401)
			return
		}
		s.apiCalls++
		if s.revokeAfter > 0 && s.apiCalls%s.revokeAfter == 0 {
			delete(s.valid, tok)
		}
		writeJSON(w, 200, fmt.Sprintf(`{"resourceType":"Patient","id":%q}`, r.PathValue("id")))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *smartServer) token(w http.ResponseWriter, r *http.Request) {
	t := s.t
	require.NoError(t, r.ParseForm())
	assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
	assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", r.PostForm.Get("client_assertion_type"))
	assert.Equal(t, provider.DefaultScope, r.PostForm.Get("scope"))
	assert.Empty(t, r.Header.Get("Authorization"))
	header, claims, err := verifyJWT(r.PostForm.Get("client_assertion"), s.pub)
	if err != nil {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":%q}`, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headers = append(s.headers, header)
	assert.Equal(t, "client-1", claims["iss"])
	assert.Equal(t, "client-1", claims["sub"])
	assert.Equal(t, s.srv.URL+"/auth/token", claims["aud"])
	exp, iat := int64(claims["exp"].(float64)), int64(claims["iat"].(float64))
	assert.LessOrEqual(t, exp-iat, int64(300), "exp at most five minutes ahead")
	assert.Greater(t, exp, iat)
	jti, _ := claims["jti"].(string)
	assert.NotEmpty(t, jti)
	assert.False(t, s.jtis[jti], "jti reused")
	s.jtis[jti] = true
	s.issued++
	tok := fmt.Sprintf("token-%d", s.issued)
	s.valid[tok] = true
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":%d,"scope":"system/*.rs"}`, tok, s.expiresIn)
}

// verifyJWT checks an RS384 or ES384 compact JWS with pub.
func verifyJWT(tok string, pub crypto.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("not a jws")
	}
	dec := base64.RawURLEncoding
	hj, _ := dec.DecodeString(parts[0])
	cj, _ := dec.DecodeString(parts[1])
	sig, err := dec.DecodeString(parts[2])
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(hj, &header); err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(cj, &claims); err != nil {
		return nil, nil, err
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if header["alg"] != "RS384" {
			return nil, nil, fmt.Errorf("alg %v", header["alg"])
		}
		err = rsa.VerifyPKCS1v15(k, crypto.SHA384, digest[:], sig)
	case *ecdsa.PublicKey:
		if header["alg"] != "ES384" || len(sig) != 96 {
			return nil, nil, fmt.Errorf("alg %v, signature of %d bytes", header["alg"], len(sig))
		}
		if !ecdsa.Verify(k, digest[:], new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])) {
			err = fmt.Errorf("bad signature")
		}
	}
	return header, claims, err
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
	})
	return rsaKey
}

func TestSMARTBackendServices(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
	}{
		{"RS384", testRSAKey(t)},
		{"ES384", ecKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSMARTServer(t, tc.key.Public())
			c := newClient(t, s.srv.URL+"/fhir", func(c *provider.Config) {
				c.SMART = &provider.SMARTConfig{ClientID: "client-1", Key: tc.key, KeyID: "k1"}
			})
			for i := range 3 {
				_, err := c.ReadPatient(t.Context(), fmt.Sprint("p", i))
				require.NoError(t, err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			assert.Equal(t, 1, s.issued, "the token is cached")
			assert.Equal(t, "k1", s.headers[0]["kid"])
			assert.Equal(t, "JWT", s.headers[0]["typ"])
		})
	}
}

// A token that stops working mid-backfill is refreshed once and the
// request retried; a token near its expiry is refreshed before use.
func TestSMARTTokenExpiry(t *testing.T) {
	key := testRSAKey(t)
	t.Run("401 mid-backfill", func(t *testing.T) {
		s := newSMARTServer(t, key.Public())
		s.revokeAfter = 4
		c := newClient(t, s.srv.URL+"/fhir", func(c *provider.Config) {
			c.SMART = &provider.SMARTConfig{ClientID: "client-1", Key: key}
		})
		for i := range 10 {
			_, err := c.ReadPatient(t.Context(), fmt.Sprint("p", i))
			require.NoError(t, err, "read %d", i)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Equal(t, 3, s.issued)
		assert.Equal(t, 10, s.apiCalls)
	})
	t.Run("refreshed before expires_in", func(t *testing.T) {
		s := newSMARTServer(t, key.Public())
		s.expiresIn = 300
		var mu sync.Mutex
		now := time.Now()
		c := newClient(t, s.srv.URL+"/fhir", func(c *provider.Config) {
			c.SMART = &provider.SMARTConfig{ClientID: "client-1", Key: key}
			provider.SetNow(c, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		})
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		read := func() {
			_, err := c.ReadPatient(t.Context(), "p")
			require.NoError(t, err)
		}
		read()
		advance(200 * time.Second)
		read() // within lifetime − margin (300 − 60)
		advance(50 * time.Second)
		read() // 250 s: inside the refresh margin
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.Equal(t, 2, s.issued)
	})
}

func TestSMARTErrors(t *testing.T) {
	key := testRSAKey(t)
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	s := newSMARTServer(t, other.Public()) // does not know key
	c := newClient(t, s.srv.URL+"/fhir", func(c *provider.Config) {
		c.SMART = &provider.SMARTConfig{ClientID: "client-1", Key: key}
	})
	_, err = c.ReadPatient(t.Context(), "p")
	require.ErrorIs(t, err, provider.ErrAuth)
	var te *provider.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid_client", te.Code)

	_, err = provider.New(provider.Config{BaseURL: s.srv.URL, SMART: &provider.SMARTConfig{ClientID: "c"}})
	assert.Error(t, err, "no key")
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = provider.New(provider.Config{BaseURL: s.srv.URL, SMART: &provider.SMARTConfig{ClientID: "c", Key: p256}})
	assert.ErrorContains(t, err, "P-384")
}

func TestLoadPrivateKey(t *testing.T) {
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		blk  *pem.Block
	}{
		{"pkcs8", &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}},
		{"sec1", &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}},
		{"pkcs1", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey(t))}},
	} {
		path := filepath.Join(dir, tc.name+".pem")
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(tc.blk), 0o600))
		k, err := provider.LoadPrivateKey(path)
		require.NoError(t, err, tc.name)
		assert.NotNil(t, k.Public())
	}
	_, err = provider.ParsePrivateKey([]byte("not pem"))
	assert.Error(t, err)
}
