// Package webhook receives change events from a provider.
package webhook
