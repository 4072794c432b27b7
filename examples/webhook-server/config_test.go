package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testAPIKey  = "cp-live-TOPSECRET-api-key"
	testWebhook = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // base64 of 24 bytes
	testToken   = "bearer-TOPSECRET-token"
)

func envMap(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// validEnv is a complete production configuration.
func validEnv(extra ...string) []string {
	return append([]string{
		"FHIR_BASE_URL", "https://ehr.example.org/fhir/r4",
		"FHIR_BEARER_TOKEN", testToken,
		"WEBHOOK_SECRETS", testWebhook,
		"CAREPATRON_BASE_URL", "https://carepatron.example/api",
		"CAREPATRON_API_KEY", testAPIKey,
	}, extra...)
}

func TestLoadConfigSources(t *testing.T) {
	cfg, err := LoadConfig([]string{"-poll-interval", "1m", "-pull-workers", "8"},
		envMap(validEnv("POLL_INTERVAL", "10m", "DELIVER_WORKERS", "2", "WEBHOOK_SECRETS", "whsec_b2xkLXNlY3JldC0xMjM0NQ==, "+testWebhook+" ,")...), io.Discard)
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, time.Minute, cfg.PollInterval, "a flag wins over the environment")
	assert.Equal(t, 8, cfg.PullWorkers)
	assert.Equal(t, 2, cfg.DeliverWorkers, "the environment wins over the default")
	assert.Equal(t, "./healthcare-records.db", cfg.DatabaseURL, "default")
	assert.Equal(t, []string{"whsec_b2xkLXNlY3JldC0xMjM0NQ==", testWebhook}, cfg.WebhookSecrets, "comma-separated, trimmed")
	assert.Equal(t, 5*time.Minute, cfg.Overlap)
	assert.Equal(t, 24*time.Hour, cfg.SweepInterval, "default")
	assert.Equal(t, 30*24*time.Hour, cfg.Retention, "default")
	assert.True(t, cfg.explicit["DELIVER_WORKERS"])
	assert.False(t, cfg.explicit["DATABASE_URL"])
}

// Each bad configuration is refused with a message that names the setting
// and never quotes a secret.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		names []string
	}{
		{name: "nothing set", env: nil,
			names: []string{"FHIR_BASE_URL", "SMART_CLIENT_ID", "FHIR_BEARER_TOKEN", "WEBHOOK_SECRETS", "CAREPATRON_BASE_URL", "CAREPATRON_API_KEY"}},
		{name: "no api key", env: without(validEnv(), "CAREPATRON_API_KEY"), names: []string{"CAREPATRON_API_KEY (-carepatron-api-key) is required"}},
		{name: "bad duration", env: validEnv("POLL_INTERVAL", "fortnightly"), names: []string{"POLL_INTERVAL (-poll-interval)", `"fortnightly"`}},
		{name: "bad url", args: []string{"-fhir-base-url", "ehr.example.org"}, env: validEnv(), names: []string{"FHIR_BASE_URL (-fhir-base-url)"}},
		{name: "bad workers", env: validEnv("DELIVER_WORKERS", "-3"), names: []string{"DELIVER_WORKERS"}},
		{name: "bad format", env: validEnv("WEBHOOK_FORMAT", "carrier-pigeon"), names: []string{"WEBHOOK_FORMAT"}},
		{name: "key without client", env: validEnv("SMART_KEY_FILE", "/etc/key.pem"), names: []string{"SMART_CLIENT_ID"}},
		{name: "nothing to hear changes", env: validEnv("WEBHOOK_FORMAT", "none", "POLL_INTERVAL", "0"), names: []string{"POLL_INTERVAL"}},
		{name: "rescue before timeout", env: validEnv("JOB_TIMEOUT", "10s", "JOB_RESCUE_AFTER", "5s"), names: []string{"JOB_RESCUE_AFTER (-job-rescue-after)", "JOB_TIMEOUT (-job-timeout)"}},
		{name: "bad log level", env: validEnv("LOG_LEVEL", "loud"), names: []string{"LOG_LEVEL"}},
		{name: "poll under a second", env: validEnv("POLL_INTERVAL", "500ms"), names: []string{"POLL_INTERVAL (-poll-interval)", "at least 1s"}},
		{name: "sweep under a second", env: validEnv("SWEEP_INTERVAL", "10ms"), names: []string{"SWEEP_INTERVAL (-sweep-interval)"}},
		{name: "negative sweep", env: validEnv("SWEEP_INTERVAL", "-1h"), names: []string{"SWEEP_INTERVAL (-sweep-interval)"}},
		{name: "retention under an hour", env: validEnv("RETENTION", "5m"), names: []string{"RETENTION (-retention)"}},
		{name: "stray argument", args: []string{"serve"}, env: validEnv(), names: []string{`"serve"`}},
		{name: "url with userinfo", env: validEnv("FHIR_BASE_URL", "ftp://hr:TOPSECRET@ehr.example.org/fhir"), names: []string{"FHIR_BASE_URL (-fhir-base-url)", "ftp://hr:xxxxx@ehr.example.org/fhir"}},
		{name: "url with a token for user", env: validEnv("CAREPATRON_BASE_URL", "carepatron.example/TOPSECRET@x"), names: []string{"CAREPATRON_BASE_URL"}},
		{name: "unparsable url with userinfo", env: validEnv("SMART_TOKEN_URL", "https://hr:TOP%zzSECRET@ehr.example.org/token"), names: []string{"SMART_TOKEN_URL", "xxxxx@ehr.example.org/token"}},
		{name: "short standard webhooks secret", env: validEnv("WEBHOOK_SECRETS", testWebhook+",whsec_c2hvcnQtVE9QU0VDUkVU"), names: []string{"WEBHOOK_SECRETS (-webhook-secrets)", "secret 2 holds 15 bytes"}},
		{name: "short medplum secret", env: validEnv("WEBHOOK_FORMAT", "medplum", "WEBHOOK_SECRETS", "TOPSECRET"), names: []string{"secret 1 holds 9 bytes"}},
		{name: "short fhir-subscription token", env: validEnv("WEBHOOK_FORMAT", "fhir-subscription", "WEBHOOK_SECRETS", "Bearer TOPSECRET"), names: []string{"secret 1 holds 9 bytes"}},
		{name: "demo with DATABASE_URL", args: []string{"-demo"}, env: []string{"DATABASE_URL", "postgres://hr:TOPSECRET@db.internal/records"},
			names: []string{"-demo refuses DATABASE_URL (-database-url)", "db.internal", "-demo-database"}},
		{name: "demo with -database-url", args: []string{"-demo", "-database-url", "/var/lib/hr/records.db"}, names: []string{"-demo refuses DATABASE_URL", "/var/lib/hr/records.db"}},
		{name: "demo database without demo", args: []string{"-demo-database", "x.db"}, env: validEnv(), names: []string{"-demo-database needs -demo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.args, envMap(tc.env...), io.Discard)
			if err == nil {
				err = cfg.Validate()
			}
			require.Error(t, err)
			for _, n := range tc.names {
				assert.Contains(t, err.Error(), n)
			}
			for _, secret := range []string{testAPIKey, testWebhook, testToken, "TOPSECRET", "TOP%zzSECRET"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

// Long enough secrets of every format pass.
func TestWebhookSecretLength(t *testing.T) {
	for _, env := range [][]string{
		validEnv("WEBHOOK_SECRETS", "whsec_"+strings.Repeat("A", 22)), // 16 bytes, unpadded
		validEnv("WEBHOOK_SECRETS", strings.Repeat("A", 22)+"=="),     // no prefix, padded
		validEnv("WEBHOOK_FORMAT", "fhir-subscription", "WEBHOOK_SECRETS", "Bearer 0123456789abcdef"),
		validEnv("WEBHOOK_FORMAT", "medplum", "WEBHOOK_SECRETS", "0123456789abcdef"),
		validEnv("WEBHOOK_FORMAT", "none", "WEBHOOK_SECRETS", "short"), // not used
	} {
		cfg, err := LoadConfig(nil, envMap(env...), io.Discard)
		require.NoError(t, err)
		assert.NoError(t, cfg.Validate(), "%v", env)
	}
}

// DEMO in the environment no longer turns the demo on: a production
// configuration stays one, and is told so.
func TestDemoIsAFlagOnly(t *testing.T) {
	cfg, err := LoadConfig(nil, envMap(validEnv("DEMO", "true", "DATABASE_URL", "postgres://hr@db.internal/records")...), io.Discard)
	require.NoError(t, err)
	assert.False(t, cfg.Demo)
	assert.Equal(t, "postgres://hr@db.internal/records", cfg.DatabaseURL)
	assert.Contains(t, strings.Join(cfg.Warnings(), "\n"), "DEMO is set in the environment and ignored")

	cfg, err = LoadConfig([]string{"-demo", "-demo-database", "/tmp/demo.db"}, envMap(), io.Discard)
	require.NoError(t, err)
	assert.True(t, cfg.Demo)
	assert.Equal(t, "/tmp/demo.db", cfg.DemoDatabase)
}

// Credentials in the clear and a key others can read are warned of.
func TestConfigWarnings(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(key, []byte("not a key"), 0o644))
	cfg, err := LoadConfig(nil, envMap(validEnv(
		"FHIR_BASE_URL", "http://ehr.example.org/fhir",
		"CAREPATRON_BASE_URL", "http://127.0.0.1:9999/api",
		"SMART_TOKEN_URL", "http://localhost:8081/token",
		"SMART_CLIENT_ID", "hr", "SMART_KEY_FILE", key)...), io.Discard)
	require.NoError(t, err)
	w := strings.Join(cfg.Warnings(), "\n")
	assert.Contains(t, w, "FHIR_BASE_URL (-fhir-base-url): http://ehr.example.org/fhir is plain http")
	assert.NotContains(t, w, "CAREPATRON_BASE_URL", "loopback is not the network")
	assert.NotContains(t, w, "SMART_TOKEN_URL")
	assert.Contains(t, w, "has mode 0644")

	require.NoError(t, os.Chmod(key, 0o600))
	cfg.FHIRBaseURL = "https://ehr.example.org/fhir"
	assert.Empty(t, cfg.Warnings())
}

func without(env []string, key string) []string {
	var out []string
	for i := 0; i+1 < len(env); i += 2 {
		if env[i] != key {
			out = append(out, env[i], env[i+1])
		}
	}
	return out
}

// -help lists every setting with its variable, and no secret from the
// environment.
func TestHelpHidesSecrets(t *testing.T) {
	var out strings.Builder
	_, err := LoadConfig([]string{"-help"}, envMap(validEnv()...), &out)
	require.Error(t, err)
	for _, s := range settings {
		assert.Contains(t, out.String(), "-"+s.flag)
		if s.env != "" {
			assert.Contains(t, out.String(), "env "+s.env)
		}
	}
	for _, secret := range []string{testAPIKey, testWebhook, testToken} {
		assert.NotContains(t, out.String(), secret)
	}
}

// The built binary fails fast, exit code 2, naming what is wrong and never
// printing a secret: a missing setting, an invalid one, and an invalid
// secret found only when the webhook receiver is built.
func TestBinaryRefusesBadConfiguration(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "missing-key.pem")
	for _, tc := range []struct {
		name string
		env  []string
		want []string
		code int
	}{
		{name: "missing", env: without(validEnv(), "FHIR_BASE_URL"), want: []string{"FHIR_BASE_URL (-fhir-base-url) is required"}},
		{name: "invalid", env: validEnv("POLL_INTERVAL", "soon"), want: []string{"POLL_INTERVAL (-poll-interval)"}},
		{name: "bad secret", env: validEnv("WEBHOOK_SECRETS", "whsec_not*base64*TOPSECRET"), want: []string{"WEBHOOK_SECRETS (-webhook-secrets)"}},
		{name: "unreadable key", env: without(validEnv("SMART_CLIENT_ID", "hr", "SMART_KEY_FILE", keyFile), "FHIR_BEARER_TOKEN"), want: []string{"SMART_KEY_FILE (-smart-key-file)"}},
		{name: "unknown database", env: validEnv("DATABASE_URL", "mysql://hr:TOPSECRET@127.0.0.1:1/hr"), want: []string{"DATABASE_URL (-database-url)"}},
		{name: "unreachable postgres", env: validEnv("DATABASE_URL", "postgres://hr:TOPSECRET@127.0.0.1:1/hr?connect_timeout=2"),
			want: []string{"DATABASE_URL (-database-url)", "127.0.0.1:1"}, code: exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{}
			for i := 0; i+1 < len(tc.env); i += 2 {
				env = append(env, tc.env[i]+"="+tc.env[i+1])
			}
			serverBinary(t) // built before the clock starts
			t0 := time.Now()
			c := start(t, baseEnv(t, append(env, "LISTEN_ADDR=127.0.0.1:0")...))
			code := c.wait(t, 20*time.Second)
			out := c.output() + c.errors()
			assert.NotEqual(t, 0, code)
			want := cmp.Or(tc.code, exitConfig)
			assert.Equal(t, want, code, "exit code")
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
			assert.NotContains(t, out, "TOPSECRET")
			assert.Less(t, time.Since(t0), 10*time.Second, "fails fast")
		})
	}
	_ = os.Remove(keyFile)
}

// docs/configuration.md documents every setting, with its flag.
func TestConfigurationDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	has := func(s string) bool { return strings.Contains(string(doc), s) }
	for _, s := range settings {
		if s.env == "" {
			assert.True(t, has(fmt.Sprintf("| — | `-%s`", s.flag)), "flag without a variable: -%s", s.flag)
			continue
		}
		assert.True(t, has(fmt.Sprintf("| `%s`", s.env)), "variable %s", s.env)
		assert.True(t, has(fmt.Sprintf("`-%s`", s.flag)), "flag of %s", s.env)
	}
}
