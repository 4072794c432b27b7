package mockphp_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func tokenRequest(t testing.TB, tokenURL string, form url.Values) response {
	t.Helper()
	resp, err := http.PostForm(tokenURL, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := readAll(resp)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, b}
}

func assertionForm(assertion, scope string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
}

func TestTokenEndpoint(t *testing.T) {
	es, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	rs, err := mockphp.NewClientKey("RS384")
	require.NoError(t, err)
	other, err := mockphp.NewClientKey("ES384")
	require.NoError(t, err)
	clock := newClock()
	srv, ts := start(t, mockphp.Config{
		Seed: 1, Patients: 2, DocsPerPatient: 1, RequireAuth: true, Clock: clock.Now, TokenTTL: time.Minute,
		Clients: []mockphp.Client{
			{ID: "sync-es", JWKS: es.JWKS()},
			{ID: "sync-rs", JWKS: rs.JWKS()},
			{ID: "reader", JWKS: other.JWKS(), Scopes: []string{"system/*.read"}},
		},
	})
	tokenURL := srv.TokenURL()
	require.Equal(t, ts.URL+"/auth/token", tokenURL)
	fhir := ts.URL + "/fhir/R4/Patient"

	t.Run("smart configuration", func(t *testing.T) {
		r := do(t, http.MethodGet, ts.URL+"/fhir/R4/.well-known/smart-configuration", nil)
		require.Equal(t, http.StatusOK, r.status)
		c := r.json(t)
		assert.Equal(t, tokenURL, c["token_endpoint"])
		assert.Contains(t, c["token_endpoint_auth_methods_supported"], "private_key_jwt")
		assert.Contains(t, c["token_endpoint_auth_signing_alg_values_supported"], "ES384")
	})

	t.Run("no token, no data", func(t *testing.T) {
		r := do(t, http.MethodGet, fhir, nil)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
		r = do(t, http.MethodGet, fhir, nil, "Authorization", "Bearer made-up")
		assert.Equal(t, http.StatusUnauthorized, r.status)
	})

	var token string
	for _, tc := range []struct {
		name, client string
		key          *mockphp.ClientKey
	}{{"ES384", "sync-es", es}, {"RS384", "sync-rs", rs}} {
		t.Run("valid assertion "+tc.name, func(t *testing.T) {
			a, err := tc.key.Sign(mockphp.Assertion{ClientID: tc.client, TokenURL: tokenURL, Now: clock.Now()})
			require.NoError(t, err)
			r := tokenRequest(t, tokenURL, assertionForm(a, "system/*.read system/Patient.write"))
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			tok := r.json(t)
			assert.Equal(t, "bearer", tok["token_type"])
			assert.EqualValues(t, 60, tok["expires_in"])
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			token = tok["access_token"].(string)
			got := do(t, http.MethodGet, fhir, nil, "Authorization", "Bearer "+token)
			assert.Equal(t, http.StatusOK, got.status)
		})
	}

	sign := func(k *mockphp.ClientKey, a mockphp.Assertion) string {
		if a.Now.IsZero() {
			a.Now = clock.Now()
		}
		s, err := k.Sign(a)
		require.NoError(t, err)
		return s
	}
	reused := sign(es, mockphp.Assertion{ClientID: "sync-es", TokenURL: tokenURL, JTI: "once"})
	require.Equal(t, http.StatusOK, tokenRequest(t, tokenURL, assertionForm(reused, "")).status)

	tamper := func(jwt string) string {
		parts := strings.Split(jwt, ".")
		claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var m map[string]any
		_ = json.Unmarshal(claims, &m)
		m["sub"], m["iss"] = "sync-rs", "sync-rs"
		b, _ := json.Marshal(m)
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}
	hs256 := func() string {
		enc := base64.RawURLEncoding
		h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		c := enc.EncodeToString([]byte(`{"iss":"sync-es","sub":"sync-es","aud":"` + tokenURL + `","exp":9999999999,"jti":"x"}`))
		return h + "." + c + ".c2ln"
	}

	rejections := []struct {
		name  string
		form  url.Values
		error string
	}{
		{"reused jti", assertionForm(reused, ""), "invalid_client"},
		{"expired assertion", assertionForm(sign(es, mockphp.Assertion{ClientID: "sync-es", TokenURL: tokenURL, Now: clock.Now().Add(-10 * time.Minute)}), ""), "invalid_client"},
		{"exp too far ahead", assertionForm(sign(es, mockphp.Assertion{ClientID: "sync-es", TokenURL: tokenURL, Expiry: time.Hour}), ""), "invalid_client"},
		{"wrong audience", assertionForm(sign(es, mockphp.Assertion{ClientID: "sync-es", TokenURL: "https://evil.example/token"}), ""), "invalid_client"},
		{"unknown client", assertionForm(sign(es, mockphp.Assertion{ClientID: "stranger", TokenURL: tokenURL}), ""), "invalid_client"},
		{"key of another client", assertionForm(sign(other, mockphp.Assertion{ClientID: "sync-es", TokenURL: tokenURL}), ""), "invalid_client"},
		{"tampered claims", assertionForm(tamper(sign(es, mockphp.Assertion{ClientID: "sync-es", TokenURL: tokenURL})), ""), "invalid_client"},
		{"symmetric alg", assertionForm(hs256(), ""), "invalid_client"},
		{"not a jwt", assertionForm("abc", ""), "invalid_client"},
		{"scope beyond the client's", assertionForm(sign(other, mockphp.Assertion{ClientID: "reader", TokenURL: tokenURL}), "system/*.write"), "invalid_scope"},
		{"wrong grant type", url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{"no assertion type", url.Values{"grant_type": {"client_credentials"}, "client_assertion": {"x"}}, "invalid_request"},
	}
	for _, tc := range rejections {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			r := tokenRequest(t, tokenURL, tc.form)
			assert.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			assert.Equal(t, tc.error, r.json(t)["error"])
		})
	}

	t.Run("scopes limit interactions", func(t *testing.T) {
		a := sign(other, mockphp.Assertion{ClientID: "reader", TokenURL: tokenURL})
		r := tokenRequest(t, tokenURL, assertionForm(a, "system/*.read"))
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		tok := r.json(t)["access_token"].(string)
		assert.Equal(t, http.StatusOK, do(t, http.MethodGet, fhir, nil, "Authorization", "Bearer "+tok).status)
		w := do(t, http.MethodPost, fhir, []byte(`{"resourceType":"Patient"}`), "Authorization", "Bearer "+tok)
		assert.Equal(t, http.StatusForbidden, w.status)
	})

	t.Run("tokens expire", func(t *testing.T) {
		require.NotEmpty(t, token)
		clock.Add(2 * time.Minute)
		r := do(t, http.MethodGet, fhir, nil, "Authorization", "Bearer "+token)
		assert.Equal(t, http.StatusUnauthorized, r.status)
	})
}

func TestRegisterClientRejectsBadKeys(t *testing.T) {
	for _, jwks := range []string{``, `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"abc"}]}`, `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`} {
		_, err := mockphp.New(mockphp.Config{Patients: 1, DocsPerPatient: 1, Clients: []mockphp.Client{{ID: "c", JWKS: []byte(jwks)}}})
		assert.Error(t, err, jwks)
	}
}
