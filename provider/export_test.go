package provider

import "time"

// SetNow replaces the clock a Client built from cfg reads.
func SetNow(cfg *Config, now func() time.Time) { cfg.now = now }

// RetryAfter exposes the Retry-After parser.
var RetryAfter = retryAfter
