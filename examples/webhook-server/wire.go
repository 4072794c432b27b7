package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	cpsink "github.com/healthcare-records/healthcare-records/adapters/carepatron"
	fhirsource "github.com/healthcare-records/healthcare-records/adapters/fhir"
	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
	"github.com/healthcare-records/healthcare-records/webhook"
)

// sinkName is the name Carepatron's deliveries are registered under: it
// names their job queue and is part of their idempotency keys, so it must
// not change between releases.
const sinkName = "carepatron"

// providerConfig is the FHIR client's configuration: SMART Backend
// Services when a client id is set, else a static token.
func providerConfig(cfg *Config, log *slog.Logger) (provider.Config, error) {
	pc := provider.Config{BaseURL: cfg.FHIRBaseURL, Logger: log.With("component", "provider"),
		UserAgent: "healthcare-records-webhook-server", MaxContentBytes: cfg.MaxDocument}
	if cfg.SMARTClient != "" {
		key, err := provider.LoadPrivateKey(cfg.SMARTKeyFile)
		if err != nil {
			return pc, fmt.Errorf("%s: %w", settingName("SMART_KEY_FILE"), err)
		}
		pc.SMART = &provider.SMARTConfig{ClientID: cfg.SMARTClient, Key: key, KeyID: cfg.SMARTKeyID,
			TokenURL: cfg.SMARTToken, Scope: cfg.SMARTScope}
	} else {
		pc.BearerToken = cfg.BearerToken
	}
	return pc, nil
}

// newProviderClient builds a FHIR client; its errors show the base URL
// with any userinfo masked.
func newProviderClient(pc provider.Config) (*provider.Client, error) {
	client, err := provider.New(pc)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", settingName("FHIR_BASE_URL"), redactIn(err, pc.BaseURL))
	}
	return client, nil
}

// newSource builds the provider's connector.Source: a FHIR client
// authorized by SMART Backend Services (or a static token), wrapped by the
// FHIR adapter.
func newSource(cfg *Config, log *slog.Logger) (connector.Source, error) {
	pc, err := providerConfig(cfg, log)
	if err != nil {
		return nil, err
	}
	client, err := newProviderClient(pc)
	if err != nil {
		return nil, err
	}
	src, err := fhirsource.New(fhirsource.Config{Client: client, Name: cfg.ProviderName,
		Overlap: cfg.Overlap, Logger: log.With("component", "fhir")})
	if err != nil {
		return nil, fmt.Errorf("fhir source: %w", err)
	}
	return src, nil
}

// newSink builds the Carepatron connector.Sink.
func newSink(cfg *Config, log *slog.Logger) (connector.Sink, error) {
	client, err := newCarepatronClient(cfg, log,
		carepatron.WithRateLimit(cfg.CarepatronRate, max(1, int(cfg.CarepatronRate))))
	if err != nil {
		return nil, err
	}
	sink, err := cpsink.New(cpsink.Config{Client: client, Logger: log.With("component", "carepatron-sink")})
	if err != nil {
		return nil, fmt.Errorf("carepatron sink: %w", err)
	}
	return sink, nil
}

func newCarepatronClient(cfg *Config, log *slog.Logger, opts ...carepatron.Option) (*carepatron.Client, error) {
	opts = append([]carepatron.Option{carepatron.WithLogger(log.With("component", "carepatron"))}, opts...)
	client, err := carepatron.New(cfg.CarepatronURL, cfg.CarepatronKey, opts...)
	if err != nil {
		// carepatron.New quotes the URL, never the key.
		return nil, fmt.Errorf("%s: %s", settingName("CAREPATRON_BASE_URL"), redactIn(err, cfg.CarepatronURL))
	}
	return client, nil
}

// newProbes builds the readiness probes of the provider and Carepatron,
// each with a client of its own that does not retry: a probe reports what
// one attempt met, and the next interval tries again.
func newProbes(cfg *Config, log *slog.Logger) ([]probe, error) {
	pc, err := providerConfig(cfg, log)
	if err != nil {
		return nil, err
	}
	pc.RetryMax, pc.Timeout = -1, checkTimeout
	pclient, err := newProviderClient(pc)
	if err != nil {
		return nil, err
	}
	cclient, err := newCarepatronClient(cfg, log, carepatron.WithRetries(0, 0, 0), carepatron.WithTimeout(checkTimeout))
	if err != nil {
		return nil, err
	}
	return []probe{
		providerProbe(pclient, cfg.CheckInterval),
		carepatronProbe(cclient, cfg.CarepatronProviderID, cfg.CheckInterval),
	}, nil
}

// redactIn is err's message with raw, a URL it may quote, redacted.
func redactIn(err error, raw string) string {
	msg := err.Error()
	if raw == "" {
		return msg
	}
	return strings.ReplaceAll(msg, raw, provider.RedactURL(raw))
}

// newReceivers builds the webhook receiver of the source, registering its
// metrics on reg; none when webhooks are off.
func newReceivers(cfg *Config, ing webhook.Ingester, reg prometheus.Registerer, log *slog.Logger) ([]*webhook.Receiver, error) {
	if cfg.WebhookFormat == formatNone {
		return nil, nil
	}
	r, err := webhook.New(ing, webhook.Config{
		Source:          cfg.Source,
		Format:          webhook.Format(cfg.WebhookFormat),
		Secrets:         cfg.WebhookSecrets,
		Header:          cfg.WebhookHeader,
		HeartbeatPeriod: cfg.WebhookHeartbeat,
		MaxBody:         cfg.WebhookMaxBody,
		MaxBuffered:     cfg.WebhookMaxBuffered,
		Metrics:         reg,
		Logger:          log.With("component", "webhook"),
	})
	if err != nil {
		// webhook.New names a bad secret by its position, never its value.
		return nil, fmt.Errorf("%s: %w", settingName("WEBHOOK_SECRETS"), err)
	}
	return []*webhook.Receiver{r}, nil
}
