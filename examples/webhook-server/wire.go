package main

import (
	"fmt"
	"log/slog"

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

// newSource builds the provider's connector.Source: a FHIR client
// authorized by SMART Backend Services (or a static token), wrapped by the
// FHIR adapter.
func newSource(cfg *Config, log *slog.Logger) (connector.Source, error) {
	pc := provider.Config{BaseURL: cfg.FHIRBaseURL, Logger: log.With("component", "provider"),
		UserAgent: "healthcare-records-webhook-server"}
	if cfg.SMARTClient != "" {
		key, err := provider.LoadPrivateKey(cfg.SMARTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", settingName("SMART_KEY_FILE"), err)
		}
		pc.SMART = &provider.SMARTConfig{ClientID: cfg.SMARTClient, Key: key, KeyID: cfg.SMARTKeyID,
			TokenURL: cfg.SMARTToken, Scope: cfg.SMARTScope}
	} else {
		pc.BearerToken = cfg.BearerToken
	}
	client, err := provider.New(pc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settingName("FHIR_BASE_URL"), err)
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
	opts := []carepatron.Option{carepatron.WithLogger(log.With("component", "carepatron")),
		carepatron.WithRateLimit(cfg.CarepatronRate, max(1, int(cfg.CarepatronRate)))}
	client, err := carepatron.New(cfg.CarepatronURL, cfg.CarepatronKey, opts...)
	if err != nil {
		// carepatron.New quotes the URL, never the key.
		return nil, fmt.Errorf("%s: %w", settingName("CAREPATRON_BASE_URL"), err)
	}
	sink, err := cpsink.New(cpsink.Config{Client: client, Logger: log.With("component", "carepatron-sink")})
	if err != nil {
		return nil, fmt.Errorf("carepatron sink: %w", err)
	}
	return sink, nil
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
		Metrics:         reg,
		Logger:          log.With("component", "webhook"),
	})
	if err != nil {
		// webhook.New names a bad secret by its position, never its value.
		return nil, fmt.Errorf("%s: %w", settingName("WEBHOOK_SECRETS"), err)
	}
	return []*webhook.Receiver{r}, nil
}
