package practice_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
)

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// auditStore records the audit entries of committed transactions, so
// that tests can read what the service audits.
type auditStore struct {
	practice.Store
	mu      sync.Mutex
	entries []practice.AuditEntry
}

type auditTx struct {
	practice.Tx
	pending *[]practice.AuditEntry
}

func (t auditTx) AppendAudit(_ context.Context, entries ...practice.AuditEntry) error {
	*t.pending = append(*t.pending, entries...)
	return nil
}

func (s *auditStore) Write(ctx context.Context, fn func(practice.Tx) error) error {
	var pending []practice.AuditEntry
	err := s.Store.Write(ctx, func(tx practice.Tx) error { return fn(auditTx{Tx: tx, pending: &pending}) })
	if err == nil {
		s.mu.Lock()
		s.entries = append(s.entries, pending...)
		s.mu.Unlock()
	}
	return err
}

// Audit returns the entries so far of act (every action if empty).
func (s *auditStore) Audit(act practice.Action) []practice.AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []practice.AuditEntry
	for _, e := range s.entries {
		if act == "" || e.Action == act {
			out = append(out, e)
		}
	}
	return out
}

// audit returns the audit entries so far of act (every action if
// empty), once the service has written what it holds.
func (h *harness) audit(act practice.Action) []practice.AuditEntry {
	h.t.Helper()
	require.NoError(h.t, h.svc.FlushAudit(context.Background()))
	return h.store.Audit(act)
}

// harness is a service over a real SQLite store.
type harness struct {
	t     testing.TB
	svc   *practice.Service
	store *auditStore
	clock *clock
	cfg   practice.Config
}

var quiet = slog.New(slog.DiscardHandler)

// start is when every harness's clock starts.
var start = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, tune ...func(*practice.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), store.Config{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	src := connectortest.NewSource(connectortest.SourceConfig{Name: "php"})
	eng, err := connector.New(connector.Config{Store: db, Sources: map[string]connector.Source{"php": src},
		Sinks: map[string]connector.Sink{"carepatron": connectortest.NewSink(connectortest.SinkConfig{})}, Logger: quiet})
	require.NoError(t, err)
	h := &harness{t: t, store: &auditStore{Store: db}, clock: &clock{t: start}}
	h.cfg = practice.Config{Store: h.store, Engine: eng, Provider: "php", ProviderSource: src, Logger: quiet, Now: h.clock.Now}
	for _, f := range tune {
		f(&h.cfg)
	}
	h.svc = h.another()
	return h
}

// another returns another service over the same store and clock: what
// a second server process would be.
func (h *harness) another() *practice.Service {
	svc, err := practice.New(h.cfg)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { svc.Close() })
	return svc
}

const password = "correct horse battery"

// user creates a user with password.
func (h *harness) user(email string, role practice.Role) practice.User {
	h.t.Helper()
	u := practice.NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: password}
	if role == practice.RolePatient {
		u.PatientID = h.patient(email)
	}
	got, err := practice.Bootstrap(context.Background(), h.store, u, h.clock.Now())
	require.NoError(h.t, err)
	return got
}

// patient stores a patient record and returns its id.
func (h *harness) patient(ref string) int64 {
	h.t.Helper()
	var id int64
	require.NoError(h.t, h.store.Write(context.Background(), func(tx practice.Tx) error {
		var err error
		id, err = tx.SavePatient(context.Background(), connector.StoredPatient{Patient: connector.Patient{
			Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: ref}}})
		return err
	}))
	return id
}

// change applies fn to the stored user, as user management would.
func (h *harness) change(id int64, fn func(*practice.User)) {
	h.t.Helper()
	require.NoError(h.t, h.store.Write(context.Background(), func(tx practice.Tx) error {
		u, err := tx.User(context.Background(), id)
		if err != nil {
			return err
		}
		fn(&u)
		return tx.UpdateUser(context.Background(), u)
	}))
}

var client = practice.Client{Addr: "192.0.2.10", RequestID: "req-1"}

func (h *harness) login(email string) practice.Tokens {
	h.t.Helper()
	tok, err := h.svc.Login(context.Background(), client, email, password)
	require.NoError(h.t, err)
	return tok
}

// signingKey returns the stored key of kid, to forge tokens with.
func (h *harness) signingKey(kid string) *ecdsa.PrivateKey {
	h.t.Helper()
	var keys []practice.SigningKey
	require.NoError(h.t, h.store.Read(context.Background(), func(tx practice.Tx) error {
		var err error
		keys, err = tx.SigningKeys(context.Background())
		return err
	}))
	for _, k := range keys {
		if k.KID == kid {
			raw, err := x509.ParsePKCS8PrivateKey(k.Private)
			require.NoError(h.t, err)
			return raw.(*ecdsa.PrivateKey)
		}
	}
	h.t.Fatalf("no signing key %q", kid)
	return nil
}

// header returns a token's decoded JOSE header.
func header(t testing.TB, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

// claims returns a token's decoded claims, unverified.
func claims(t testing.TB, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// compact joins a header and claims as a JWS signing input.
func compact(t testing.TB, hdr, cl map[string]any) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	c, err := json.Marshal(cl)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
}

// signES256 signs a JWS by hand (RFC 7518 3.4: R and S, 32 bytes each),
// so that forged tokens do not depend on the library under test.
func signES256(t testing.TB, key *ecdsa.PrivateKey, hdr, cl map[string]any) string {
	t.Helper()
	input := compact(t, hdr, cl)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func unix(t time.Time) int64 { return t.Unix() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// publicJWK is the JSON of a public key as JWKS would show it.
func publicJWK(t testing.TB, pub *ecdsa.PublicKey) string {
	t.Helper()
	k, err := jwk.Import(pub)
	require.NoError(t, err)
	b, err := json.Marshal(k)
	require.NoError(t, err)
	return string(b)
}

func publicDER(t testing.TB, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return der
}

// hmacToken is the classic algorithm confusion: HS256 with a public key
// as the shared secret, in the hope that the verifier feeds its key to
// HMAC.
func hmacToken(t testing.TB, secret []byte, kid string, claimsOf func() (map[string]any, map[string]any)) string {
	t.Helper()
	_, cl := claimsOf()
	input := compact(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": kid}, cl)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// weakHash hashes password with weaker parameters than the service's.
func weakHash(t testing.TB, password string) string {
	t.Helper()
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, 1, 8192, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}
