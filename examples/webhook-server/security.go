package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/healthcare-records/healthcare-records/webhook"
)

// minSecretBytes is the least key material a webhook secret must hold: 128
// bits, below which a key can be searched for.
const minSecretBytes = 16

// secretKeyLen is how many bytes of key a webhook secret of format f holds,
// decoded as the receiver decodes it: for Standard Webhooks the key in
// base64 after an optional "whsec_"; for a FHIR subscription the
// credentials of the header value (after its scheme, as in "Bearer
// s3cr3t"); for Medplum the secret's bytes. ok is false when the secret
// does not decode, which the receiver reports itself.
func secretKeyLen(f webhook.Format, secret string) (n int, ok bool) {
	switch f {
	case webhook.FormatStandardWebhooks:
		b64 := strings.TrimPrefix(secret, "whsec_")
		enc := base64.RawStdEncoding
		if strings.HasSuffix(b64, "=") {
			enc = base64.StdEncoding
		}
		key, err := enc.DecodeString(b64)
		if err != nil {
			return 0, false
		}
		return len(key), true
	case webhook.FormatFHIRSubscription:
		if scheme, cred, found := strings.Cut(secret, " "); found && scheme != "" && !strings.Contains(cred, " ") {
			return len(cred), true
		}
		return len(secret), true
	}
	return len(secret), true
}

// redactURL returns s fit for a message: the userinfo of a URL (a user
// name alone can be a token) masked; for a string that does not parse as
// an absolute URL, everything before its last "@", after any scheme,
// masked.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err == nil && u.Host != "" {
		if u.User == nil {
			return s
		}
		u.User = url.User("xxxxx")
		return u.String()
	}
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		prefix = s[:i+3]
	}
	return prefix + "xxxxx" + s[at:]
}

// Warnings lists what a running configuration does that an operator
// should know but that does not stop the server: credentials sent in the
// clear, a private key others can read, an ignored DEMO variable.
func (c *Config) Warnings() []string {
	out := append([]string(nil), c.notes...)
	for _, u := range []struct{ env, url string }{
		{"FHIR_BASE_URL", c.FHIRBaseURL}, {"SMART_TOKEN_URL", c.SMARTToken}, {"CAREPATRON_BASE_URL", c.CarepatronURL},
	} {
		if w := insecureURLWarning(settingName(u.env), u.url); w != "" {
			out = append(out, w)
		}
	}
	if c.SMARTKeyFile != "" {
		if w := keyFileWarning(c.SMARTKeyFile); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// insecureURLWarning warns of an http:// URL to anything but this host:
// credentials and patient data would cross the network in the clear.
func insecureURLWarning(name, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || isLoopback(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("%s is http:// to %s: credentials and patient data cross the network unencrypted; use https://", name, u.Hostname())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// keyFileWarning warns of a private key file that its group or others may
// read or write.
func keyFileWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s has mode %04o: group and others may read the private key; chmod 600 it",
		settingName("SMART_KEY_FILE"), path, fi.Mode().Perm())
}
