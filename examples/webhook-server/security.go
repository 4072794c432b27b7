package main

import (
	"strings"

	"github.com/healthcare-records/healthcare-records/provider"
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
		key, err := webhook.DecodeSecret(secret)
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

// Warnings lists what a running configuration does that an operator
// should know but that does not stop the server: credentials sent in the
// clear, a private key others can read, an ignored DEMO variable.
func (c *Config) Warnings() []string {
	out := append([]string(nil), c.notes...)
	for _, u := range []struct{ env, url string }{
		{"FHIR_BASE_URL", c.FHIRBaseURL}, {"SMART_TOKEN_URL", c.SMARTToken}, {"CAREPATRON_BASE_URL", c.CarepatronURL},
	} {
		if w := provider.InsecureURLWarning(u.url); w != "" {
			out = append(out, settingName(u.env)+": "+w)
		}
	}
	if c.SMARTKeyFile != "" {
		// A key file that cannot be read stops the start-up later, with
		// its own message.
		if w, err := provider.KeyFileWarning(c.SMARTKeyFile); err == nil && w != "" {
			out = append(out, settingName("SMART_KEY_FILE")+": "+w)
		}
	}
	return out
}
